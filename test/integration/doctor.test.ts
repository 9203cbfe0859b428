// `rds-nlb-sync doctor` against moto (AWS API emulator) and the loopback DNS server: a correctly
// built chain, then one broken the ways Fivetran connections break (cross-zone load balancing off
// with the writer in a zone the NLB lacks; Fivetran's principal missing).
// moto gaps doctor must survive: DescribeVpcEndpointConnections answers HTTP 500 (service.connections
// warns "could not tell"), and targets carry no Availability Zone (doctor finds it from the subnets).
import { CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  AllocateAddressCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateSubnetCommand,
  DescribeRouteTablesCommand,
  EC2Client,
  ModifyVpcEndpointServicePermissionsCommand,
} from '@aws-sdk/client-ec2';
import {
  ElasticLoadBalancingV2Client,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, type CliIo } from '../../cli/main.js';
import type { CheckResult } from '../../lib/doctor/run.js';
import {
  emulatorClientConfig,
  emulatorEnv,
  FIVETRAN_PRINCIPAL,
  motoOrSkip,
  seedAws,
  startEmulators,
  type Emulators,
  type SeededAws,
} from '../harness/index.js';

const ORDERS = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const SYNC_FUNCTION = 'rds-nlb-sync-test-sync';
const ACCEPT_FUNCTION = 'rds-nlb-sync-test-accept';

describe.skipIf(!motoOrSkip())('doctor against the AWS emulator', () => {
  let emulators: Emulators;
  let aws: SeededAws;
  let ec2: EC2Client;
  let elb: ElasticLoadBalancingV2Client;

  beforeAll(async () => {
    emulators = await startEmulators();
    ec2 = new EC2Client(emulatorClientConfig(emulators.moto.endpoint));
    elb = new ElasticLoadBalancingV2Client(emulatorClientConfig(emulators.moto.endpoint));
  });
  afterAll(async () => {
    ec2?.destroy();
    elb?.destroy();
    await emulators?.stop();
  });
  beforeEach(async () => {
    await emulators.moto.reset();
    aws = await seedAws(emulators.moto.endpoint);
    // The CLI's SDK clients find moto and dummy credentials through the standard chain (env).
    for (const [key, value] of Object.entries(emulatorEnv(emulators))) vi.stubEnv(key, value);
    await deployFunctions();
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: tg(),
        Attributes: [
          { Key: 'deregistration_delay.timeout_seconds', Value: '10' },
          { Key: 'deregistration_delay.connection_termination.enabled', Value: 'true' },
        ],
      }),
    );
  });
  afterEach(() => vi.unstubAllEnvs());

  const tg = () => aws.targetGroupArns[0] ?? '';

  /** The two functions in the VPC's subnets, whose default route leads to a NAT gateway. */
  async function deployFunctions() {
    const role = await createRole('rds-nlb-sync-test');
    const lambda = new LambdaClient(emulatorClientConfig(emulators.moto.endpoint));
    try {
      for (const name of [SYNC_FUNCTION, ACCEPT_FUNCTION]) {
        await lambda.send(
          new CreateFunctionCommand({
            FunctionName: name,
            Runtime: 'nodejs22.x',
            Role: role,
            Handler: 'index.handler',
            Code: { ZipFile: Buffer.from('moto does not run it') },
            VpcConfig: { SubnetIds: [...aws.subnetIds], SecurityGroupIds: [] },
          }),
        );
      }
    } finally {
      lambda.destroy();
    }
    const { AllocationId } = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const { NatGateway } = await ec2.send(new CreateNatGatewayCommand({ SubnetId: aws.subnetIds[0], AllocationId }));
    const { RouteTables = [] } = await ec2.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [aws.vpcId] }, { Name: 'association.main', Values: ['true'] }] }),
    );
    await ec2.send(new CreateRouteCommand({ RouteTableId: RouteTables[0]?.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: NatGateway?.NatGatewayId }));
  }

  // The SDK's IAM client is not a dependency of this project; moto takes the plain query API.
  async function createRole(name: string): Promise<string> {
    const response = await fetch(emulators.moto.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: new URLSearchParams({ Action: 'CreateRole', Version: '2010-05-08', RoleName: name, AssumeRolePolicyDocument: '{}' }),
    });
    const arn = /<Arn>([^<]+)<\/Arn>/.exec(await response.text())?.[1];
    if (!response.ok || !arn) throw new Error(`moto CreateRole failed: HTTP ${response.status}`);
    return arn;
  }

  async function cli(...args: string[]) {
    const out: string[] = [];
    const io: CliIo = { env: {}, stdout: (t) => void out.push(t), stderr: () => undefined, color: false };
    const mapping = ['--endpoint', ORDERS, '--target-group-arn', tg(), '--port', '5432', '--dns-servers', emulators.dns.address, '--dns-tries', '1'];
    const code = await main([...args, ...mapping], io);
    return { code, stdout: out.join('') };
  }

  async function doctor() {
    const { code, stdout } = await cli('doctor', '--json', '--sync-function', SYNC_FUNCTION, '--accept-function', ACCEPT_FUNCTION);
    const checks: CheckResult[] = JSON.parse(stdout).checks;
    return { code, checks, status: Object.fromEntries(checks.map((c) => [c.id, c.status])), check: (id: string) => checks.find((c) => c.id === id) };
  }

  it('passes a correctly built chain and exits 0; only what moto cannot show warns', async () => {
    emulators.dns.setA(ORDERS, ['10.0.1.5']);
    expect((await cli('sync', '--local')).code).toBe(0); // registers the target and sends the SyncSuccess heartbeat

    const { code, status, check } = await doctor();

    expect(status).toEqual({
      'dns.resolves': 'pass',
      'dns.private': 'pass',
      'target-group.settings': 'pass',
      'targets.registered': 'pass',
      'targets.health': 'pass',
      'nlb.attached': 'pass',
      'nlb.zones': 'pass',
      'target-group.deregistration': 'pass',
      'service.exists': 'pass',
      'service.principals': 'pass',
      'service.acceptance': 'pass',
      'service.connections': 'warn',
      'function.sync': 'pass',
      'function.sync.network': 'pass',
      'function.accept': 'pass',
      'function.accept.network': 'pass',
      'sync.heartbeat': 'pass',
    });
    expect(check('service.connections')?.message).toMatch(/^could not tell: .*HTTP 500/);
    expect(check('service.exists')?.message).toContain(aws.serviceName);
    expect(code).toBe(0);
  });

  it('fails a broken chain and exits 1: writer outside the NLB zones with cross-zone off, Fivetran not allowed', async () => {
    // Failover to a writer in eu-west-1c, a zone the NLB (eu-west-1a, eu-west-1b) lacks.
    await ec2.send(new CreateSubnetCommand({ VpcId: aws.vpcId, CidrBlock: '10.0.3.0/24', AvailabilityZone: 'eu-west-1c' }));
    emulators.dns.setA(ORDERS, ['10.0.3.10']);
    expect((await cli('sync', '--local')).code).toBe(0);
    await elb.send(
      new ModifyLoadBalancerAttributesCommand({ LoadBalancerArn: aws.loadBalancerArn, Attributes: [{ Key: 'load_balancing.cross_zone.enabled', Value: 'false' }] }),
    );
    await ec2.send(new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: aws.serviceId, RemoveAllowedPrincipals: [FIVETRAN_PRINCIPAL] }));

    const { code, checks, check } = await doctor();

    expect(checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['nlb.zones', 'service.principals']);
    expect(check('nlb.zones')?.message).toContain('10.0.3.10 is in eu-west-1c, but NLB rds-nlb-sync is only in eu-west-1a, eu-west-1b');
    expect(check('service.principals')?.fix).toContain(`--add-allowed-principals ${FIVETRAN_PRINCIPAL}`);
    expect(code).toBe(1);
  });

  it('prints the broken links as FAIL lines with their fixes', async () => {
    await ec2.send(new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: aws.serviceId, RemoveAllowedPrincipals: [FIVETRAN_PRINCIPAL] }));
    emulators.dns.setA(ORDERS, ['10.0.1.5']);
    await cli('sync', '--local');

    const { code, stdout } = await cli('doctor', '--sync-function', SYNC_FUNCTION, '--accept-function', ACCEPT_FUNCTION);

    expect(code).toBe(1);
    expect(stdout).toMatch(/ {2}FAIL {2}service\.principals +Fivetran \(arn:aws:iam::834469178297:root\) may not connect.*\n +fix: aws ec2 modify-vpc-endpoint-service-permissions/);
    expect(stdout).toContain('FAILED: 15 passed, 1 warning, 1 failed');
  });
});
