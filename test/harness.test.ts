// The harness the integration tests, `npm run local` and the benchmark stand on.
import { Resolver } from 'node:dns/promises';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeVpcEndpointServicePermissionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  emulatorClientConfig,
  emulatorEnv,
  FIVETRAN_PRINCIPAL,
  motoOrSkip,
  readMetrics,
  readTargets,
  startDnsServer,
  startEmulators,
  type DnsFailure,
  type DnsServer,
  type Emulators,
} from './harness/index.js';

describe('loopback DNS server, seen through node:dns Resolver', () => {
  let dns: DnsServer;
  beforeAll(async () => {
    dns = await startDnsServer();
  });
  afterAll(() => dns?.close());

  const resolver = () => {
    const resolver = new Resolver({ timeout: 100, tries: 1 });
    resolver.setServers([dns.address]);
    return resolver;
  };

  it('answers through a CNAME chain, case-insensitively, with TTL 5', async () => {
    dns.setCname('MyDB.cluster-abc.eu-west-1.rds.amazonaws.com.', 'mydb-1.abc.eu-west-1.rds.amazonaws.com');
    dns.setA('mydb-1.abc.eu-west-1.rds.amazonaws.com', ['10.0.1.23', '10.0.2.24']);
    dns.setAAAA('mydb-1.abc.eu-west-1.rds.amazonaws.com', ['fd00::1']);

    await expect(resolver().resolve4('mydb.CLUSTER-abc.eu-west-1.rds.amazonaws.com', { ttl: true })).resolves.toEqual([
      { address: '10.0.1.23', ttl: 5 },
      { address: '10.0.2.24', ttl: 5 },
    ]);
    await expect(resolver().resolve6('mydb.cluster-abc.eu-west-1.rds.amazonaws.com')).resolves.toEqual(['fd00::1']);
    await expect(resolver().resolveCname('mydb.cluster-abc.eu-west-1.rds.amazonaws.com')).resolves.toEqual([
      'mydb-1.abc.eu-west-1.rds.amazonaws.com',
    ]);
  });

  it('answers a change at once, and NXDOMAIN again after clear', async () => {
    dns.setA('flip.example', ['10.0.1.1']);
    const same = resolver();
    await expect(same.resolve4('flip.example')).resolves.toEqual(['10.0.1.1']);
    dns.setA('flip.example', ['10.0.1.2']);
    await expect(same.resolve4('flip.example')).resolves.toEqual(['10.0.1.2']); // no client-side cache
    dns.clear('flip.example');
    await expect(same.resolve4('flip.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(dns.queries('FLIP.example.')).toBe(3);
  });

  const failures: [DnsFailure, string][] = [
    ['NXDOMAIN', 'ENOTFOUND'],
    ['SERVFAIL', 'ESERVFAIL'],
    ['REFUSED', 'EREFUSED'],
    ['TIMEOUT', 'ETIMEOUT'],
    ['EMPTY', 'ENODATA'],
  ];
  it.each(failures)('%s makes resolve4 fail with %s', async (kind, code) => {
    dns.fail(`${kind}.example`, kind);
    await expect(resolver().resolve4(`${kind}.example`)).rejects.toMatchObject({ code });
  });

  it.each(failures.filter(([kind]) => kind !== 'EMPTY'))('%s at the end of a CNAME chain fails with %s', async (kind, code) => {
    dns.setCname(`alias-${kind}.example`, `${kind}.example`);
    dns.fail(`${kind}.example`, kind);
    await expect(resolver().resolve4(`alias-${kind}.example`)).rejects.toMatchObject({ code });
  });

  it('answers an unknown name or a dangling CNAME with NXDOMAIN', async () => {
    dns.setCname('dangling.example', 'gone.example');
    await expect(resolver().resolve4('unknown.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver().resolve4('dangling.example')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  // Not an error in node: code that resolves must treat [] as a failed answer itself.
  it('resolves to [] with no error when the chain ends in no address', async () => {
    dns.setCname('alias-empty.example', 'empty-target.example');
    dns.fail('empty-target.example', 'EMPTY');
    await expect(resolver().resolve4('alias-empty.example')).resolves.toEqual([]);
    dns.setCname('alias-v4-only.example', 'v4-only.example');
    dns.setA('v4-only.example', ['10.0.1.9']);
    await expect(resolver().resolve6('alias-v4-only.example')).resolves.toEqual([]);
    await expect(resolver().resolve6('v4-only.example')).rejects.toMatchObject({ code: 'ENODATA' });
  });
});

describe.skipIf(!motoOrSkip())('moto emulators', () => {
  let emulators: Emulators;
  beforeAll(async () => {
    emulators = await startEmulators({
      seed: {
        targetGroups: [
          { name: 'writer', port: 5432 },
          { name: 'reporting', port: 5433 },
        ],
      },
    });
  });
  afterAll(() => emulators?.stop());

  const config = () => emulatorClientConfig(emulators.moto.endpoint);

  it('seeds an internal NLB with one listener per IP target group, behind an endpoint service', async () => {
    const { aws } = emulators;
    expect(aws.vpcId).toMatch(/^vpc-/);
    expect(aws.subnetIds).toHaveLength(2);
    expect(aws.loadBalancerArn).toMatch(/:loadbalancer\/(net|app)\/rds-nlb-sync\//); // moto says app/
    expect(aws.targetGroupArns).toEqual([
      expect.stringMatching(/:targetgroup\/writer\//),
      expect.stringMatching(/:targetgroup\/reporting\//),
    ]);
    expect(aws.serviceName).toBe(`com.amazonaws.vpce.eu-west-1.${aws.serviceId}`);

    const { Listeners = [] } = await new ElasticLoadBalancingV2Client(config()).send(
      new DescribeListenersCommand({ LoadBalancerArn: aws.loadBalancerArn }),
    );
    expect(Listeners.map((l) => [l.Port, l.DefaultActions?.[0]?.TargetGroupArn])).toEqual([
      [5432, aws.targetGroupArns[0]],
      [5433, aws.targetGroupArns[1]],
    ]);
    const { AllowedPrincipals = [] } = await new EC2Client(config()).send(
      new DescribeVpcEndpointServicePermissionsCommand({ ServiceId: aws.serviceId }),
    );
    expect(AllowedPrincipals.map((p) => p.Principal)).toEqual([FIVETRAN_PRINCIPAL]);
  });

  it('reads targets: none at first, then the registered ones, sorted and healthy (moto)', async () => {
    const [writer = ''] = emulators.aws.targetGroupArns;
    await expect(readTargets(emulators.moto.endpoint, writer)).resolves.toEqual([]);

    await new ElasticLoadBalancingV2Client(config()).send(
      new RegisterTargetsCommand({
        TargetGroupArn: writer,
        Targets: [
          { Id: '10.0.2.10', Port: 5432 },
          { Id: '10.0.1.9', Port: 5432 },
        ],
      }),
    );
    await expect(readTargets(emulators.moto.endpoint, writer)).resolves.toEqual([
      { ip: '10.0.1.9', port: 5432, state: 'healthy' },
      { ip: '10.0.2.10', port: 5432, state: 'healthy' },
    ]);
  });

  it('reads metrics, summed per name and dimensions', async () => {
    const dimensions = [{ Name: 'TargetGroup', Value: 'targetgroup/writer/1' }];
    await new CloudWatchClient(config()).send(
      new PutMetricDataCommand({
        Namespace: 'HarnessTest',
        MetricData: [
          { MetricName: 'TargetsAdded', Dimensions: dimensions, Value: 2 },
          { MetricName: 'TargetsAdded', Dimensions: dimensions, Value: 1 },
          { MetricName: 'SyncSuccess', Value: 1 },
        ],
      }),
    );
    await expect(readMetrics(emulators.moto.endpoint, 'HarnessTest')).resolves.toEqual([
      { name: 'SyncSuccess', dimensions: {}, sum: 1, count: 1, maximum: 1 },
      { name: 'TargetsAdded', dimensions: { TargetGroup: 'targetgroup/writer/1' }, sum: 3, count: 2, maximum: 2 },
    ]);
  });

  it('gives the environment that points the service at the emulators', () => {
    expect(emulatorEnv(emulators)).toEqual({
      AWS_ENDPOINT_URL: emulators.moto.endpoint,
      AWS_ENDPOINT_URL_EC2: emulators.connections.endpoint,
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: emulators.elb.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      DNS_SERVERS: emulators.dns.address,
    });
  });

  // Last: it stops the emulators the tests above share.
  it('stops both emulators, idempotently', async () => {
    await Promise.all([emulators.stop(), emulators.stop()]);
    await emulators.stop();
    await expect(fetch(`${emulators.moto.endpoint}/moto-api/`)).rejects.toThrow();
    await expect(fetch(emulators.connections.endpoint)).rejects.toThrow();
    const resolver = new Resolver({ timeout: 100, tries: 1 });
    resolver.setServers([emulators.dns.address]);
    await expect(resolver.resolve4('mydb.example')).rejects.toMatchObject({ code: expect.stringMatching(/^E/) });
  });
});
