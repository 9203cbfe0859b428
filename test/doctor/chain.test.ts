// doctor's checks of one mapping (lib/doctor/chain.ts): DNS through the loopback server, ELBv2
// and EC2 through aws-sdk-client-mock. Each check is run on its own, pass and fail.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  TargetGroupNotFoundException,
  type LoadBalancer,
  type TargetGroup,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient, type DBInstance } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadSyncConfig, type Mapping } from '../../lib/config.js';
import { createDoctorReader } from '../../lib/doctor/read.js';
import {
  deregistration,
  dnsPrivate,
  dnsResolves,
  nlbAttached,
  nlbZones,
  targetGroupSettings,
  targetsHealth,
  decideRegistered,
  targetsRegistered,
} from '../../lib/doctor/chain.js';
import type { Check, DoctorContext } from '../../lib/doctor/verdict.js';
import { createResolver } from '../../lib/dns.js';
import { ORDERS, TG_A } from '../fixtures.js';
import { startDnsServer, type DnsServer } from '../harness/index.js';

const LB_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/fivetran/0123456789abcdef';
const VPC = 'vpc-0123456789abcdef0';

const elb = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' });
const ec2 = new EC2Client({ region: 'eu-west-1' });
const rds = new RDSClient({ region: 'eu-west-1' });
const elbMock = mockClient(elb);
const ec2Mock = mockClient(ec2);
const rdsMock = mockClient(rds);

let dns: DnsServer;
beforeAll(async () => {
  dns = await startDnsServer();
});
afterAll(() => dns?.close());

let mapping: Mapping;
beforeEach(() => {
  elbMock.reset();
  ec2Mock.reset();
  rdsMock.reset();
  dns.setA(ORDERS, ['10.0.1.5']);
  [mapping] = loadSyncConfig({ RDS_ENDPOINT: ORDERS, TARGET_GROUP_ARN: TG_A, TARGET_PORT: '5432' }).mappings as [Mapping];
});

/** A fresh context per check run: the reader memoizes, so each run sees the mocks as set. */
function run(check: Check<Mapping>, m: Mapping = mapping) {
  const resolve = createResolver({ servers: [dns.address], timeoutMs: 300, tries: 1 });
  const clients = { elb, ec2, rds, lambda: new LambdaClient({ region: 'eu-west-1' }), cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }), resolve };
  const ctx: DoctorContext = { reader: createDoctorReader(clients), region: 'eu-west-1', serviceIds: [], allowedAccounts: ['834469178297'], now: Date.now };
  return check.run(m, ctx);
}

const targetGroup = (overrides: Partial<TargetGroup> = {}): TargetGroup => ({
  TargetGroupArn: TG_A,
  TargetType: 'ip',
  Protocol: 'TCP',
  Port: 5432,
  VpcId: VPC,
  LoadBalancerArns: [LB_ARN],
  ...overrides,
});
const loadBalancer = (overrides: Partial<LoadBalancer> = {}): LoadBalancer => ({
  LoadBalancerArn: LB_ARN,
  LoadBalancerName: 'fivetran',
  Type: 'network',
  Scheme: 'internal',
  State: { Code: 'active' },
  AvailabilityZones: [
    { ZoneName: 'eu-west-1a', SubnetId: 'subnet-a' },
    { ZoneName: 'eu-west-1b', SubnetId: 'subnet-b' },
  ],
  ...overrides,
});
const target = (ip: string, state = 'healthy', extra: Partial<TargetHealthDescription['TargetHealth']> = {}, az?: string): TargetHealthDescription => ({
  Target: { Id: ip, Port: 5432, ...(az ? { AvailabilityZone: az } : {}) },
  TargetHealth: { State: state as 'healthy', ...extra },
});

function givenTargetGroup(tg: TargetGroup = targetGroup()) {
  elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [tg] });
}
function givenTargets(...targets: TargetHealthDescription[]) {
  elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: targets });
}
function givenCrossZone(loadBalancerValue: string, targetGroupValue = 'use_load_balancer_configuration') {
  elbMock.on(DescribeLoadBalancerAttributesCommand).resolves({ Attributes: [{ Key: 'load_balancing.cross_zone.enabled', Value: loadBalancerValue }] });
  elbMock.on(DescribeTargetGroupAttributesCommand).resolves({ Attributes: [{ Key: 'load_balancing.cross_zone.enabled', Value: targetGroupValue }] });
}
function givenSubnets() {
  ec2Mock.on(DescribeSubnetsCommand).resolves({
    Subnets: [
      { SubnetId: 'subnet-a', VpcId: VPC, AvailabilityZone: 'eu-west-1a', CidrBlock: '10.0.1.0/24' },
      { SubnetId: 'subnet-b', VpcId: VPC, AvailabilityZone: 'eu-west-1b', CidrBlock: '10.0.2.0/24' },
      { SubnetId: 'subnet-c', VpcId: VPC, AvailabilityZone: 'eu-west-1c', CidrBlock: '10.0.3.0/24' },
    ],
  });
}

/** The Aurora cluster behind ORDERS: one instance per [id, zone], the first the writer. */
function givenCluster(...members: [id: string, zone: string][]) {
  rdsMock.on(DescribeDBClustersCommand).resolves({
    DBClusters: [{ DBClusterIdentifier: 'orders', Engine: 'aurora-postgresql', DBClusterMembers: members.map(([id], n) => ({ DBInstanceIdentifier: id, IsClusterWriter: n === 0 })) }],
  });
  rdsMock.on(DescribeDBInstancesCommand).resolves({
    DBInstances: members.map(([id, zone]): DBInstance => ({ DBInstanceIdentifier: id, DBClusterIdentifier: 'orders', AvailabilityZone: zone, Engine: 'aurora-postgresql' })),
  });
}

describe('dns.resolves', () => {
  it('passes with the addresses the endpoint resolves to', async () => {
    dns.setA(ORDERS, ['10.0.2.9', '10.0.1.5']);

    expect(await run(dnsResolves)).toEqual({ status: 'pass', message: 'resolves to 10.0.1.5, 10.0.2.9' });
  });

  it('fails on NXDOMAIN and says to check the endpoint name', async () => {
    dns.fail(ORDERS, 'NXDOMAIN');

    const verdict = await run(dnsResolves);

    expect(verdict).toMatchObject({ status: 'fail', message: expect.stringContaining('DNS nxdomain') });
    expect(verdict.fix).toContain('Check the endpoint name');
  });

  it('fails on SERVFAIL and suggests another resolver', async () => {
    dns.fail(ORDERS, 'SERVFAIL');

    expect(await run(dnsResolves)).toMatchObject({ status: 'fail', fix: expect.stringContaining('--dns-servers') });
  });
});

describe('dns.private', () => {
  it('passes for private addresses', async () => {
    expect(await run(dnsPrivate)).toMatchObject({ status: 'pass', message: '10.0.1.5: private, can be NLB IP targets' });
  });

  it('fails for a public address and says how to get the private one', async () => {
    dns.setA(ORDERS, ['54.217.1.2']);

    const verdict = await run(dnsPrivate);

    expect(verdict).toMatchObject({ status: 'fail', message: expect.stringContaining('54.217.1.2 is not a private address') });
    expect(verdict.fix).toContain('not publicly accessible');
  });

  it('is not checked when the endpoint does not resolve', async () => {
    dns.fail(ORDERS, 'NXDOMAIN');

    expect(await run(dnsPrivate)).toMatchObject({ status: 'warn', message: expect.stringMatching(/^not checked: .*dns\.resolves/) });
  });
});

describe('target-group.settings', () => {
  it('passes for an ip target group on TCP and the database port', async () => {
    givenTargetGroup();

    expect(await run(targetGroupSettings)).toEqual({ status: 'pass', message: 'type ip, protocol TCP, port 5432' });
    expect(elbMock).toHaveReceivedCommandWith(DescribeTargetGroupsCommand, { TargetGroupArns: [TG_A] });
  });

  it('fails for an instance target group', async () => {
    givenTargetGroup(targetGroup({ TargetType: 'instance' }));

    expect(await run(targetGroupSettings)).toMatchObject({ status: 'fail', message: expect.stringContaining('target type is instance, not ip') });
  });

  it('fails for a TLS target group', async () => {
    givenTargetGroup(targetGroup({ Protocol: 'TLS' }));

    expect(await run(targetGroupSettings)).toMatchObject({ status: 'fail', message: expect.stringContaining('protocol is TLS, not TCP') });
  });

  it('warns when the target group port is not the database port', async () => {
    givenTargetGroup(targetGroup({ Port: 3306 }));

    expect(await run(targetGroupSettings)).toMatchObject({ status: 'warn', message: expect.stringContaining('port is 3306, the database port is 5432') });
  });

  it('fails when the target group does not exist', async () => {
    elbMock.on(DescribeTargetGroupsCommand).rejects(new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} }));

    expect(await run(targetGroupSettings)).toMatchObject({ status: 'fail', message: `target group ${TG_A} not found`, fix: expect.stringContaining('eu-west-1') });
  });
});

describe('targets.registered', () => {
  it('passes when the registered targets are the resolved addresses', async () => {
    givenTargetGroup();
    givenTargets(target('10.0.1.5'));

    expect(await run(targetsRegistered)).toMatchObject({ status: 'pass', message: 'registered on port 5432: 10.0.1.5, as resolved' });
  });

  it('passes when ELB and DNS spell the same IPv6 address differently', () => {
    const registered = [{ ip: '2600:1F18:AAAA:0:0:0:0:5', port: 5432, state: 'healthy' }];
    expect(decideRegistered(['2600:1f18:aaaa::5'], registered, 5432)).toMatchObject({ status: 'pass' });
  });

  it('fails with the missing and the stale address after a failover nobody synced', async () => {
    dns.setA(ORDERS, ['10.0.2.9']);
    givenTargetGroup();
    givenTargets(target('10.0.1.5'));

    const verdict = await run(targetsRegistered);

    expect(verdict).toMatchObject({
      status: 'fail',
      message: 'target group does not match DNS: resolved but not registered: 10.0.2.9; registered but no longer resolved (stale): 10.0.1.5',
    });
    expect(verdict.fix).toContain('rds-nlb-sync sync');
  });

  it('counts a draining target as absent, as sync does', async () => {
    givenTargetGroup();
    givenTargets(target('10.0.1.5', 'draining'));

    expect(await run(targetsRegistered)).toMatchObject({ status: 'fail', message: expect.stringContaining('resolved but not registered: 10.0.1.5') });
  });

  it('ignores targets on other ports', async () => {
    givenTargetGroup();
    givenTargets(target('10.0.1.5'), { Target: { Id: '10.0.9.9', Port: 3306 }, TargetHealth: { State: 'healthy' } });

    expect(await run(targetsRegistered)).toMatchObject({ status: 'pass' });
  });

  it('is not checked when DNS cannot tell what should be registered', async () => {
    dns.fail(ORDERS, 'SERVFAIL');
    givenTargetGroup();
    givenTargets(target('10.0.1.5'));

    expect(await run(targetsRegistered)).toMatchObject({ status: 'warn', message: expect.stringMatching(/^not checked/) });
  });
});

describe('targets.health', () => {
  it('passes when the current targets are healthy', async () => {
    givenTargetGroup();
    givenTargets(target('10.0.1.5'));

    expect(await run(targetsHealth)).toEqual({ status: 'pass', message: 'healthy: 10.0.1.5:5432' });
  });

  it('fails for an unhealthy target with ELB\'s reason and the security group fix', async () => {
    givenTargetGroup();
    givenTargets(target('10.0.1.5', 'unhealthy', { Reason: 'Target.FailedHealthChecks', Description: 'Health checks failed' }));

    const verdict = await run(targetsHealth);

    expect(verdict).toMatchObject({ status: 'fail', message: 'not healthy: 10.0.1.5 unhealthy (Target.FailedHealthChecks: Health checks failed)' });
    expect(verdict.fix).toContain('security group must allow TCP 5432');
  });

  it('fails for a target unused because its zone is not enabled, pointing at nlb.zones', async () => {
    givenTargetGroup();
    givenTargets(target('10.0.1.5', 'unused', { Reason: 'Target.NotInUse' }));

    expect(await run(targetsHealth)).toMatchObject({ status: 'fail', fix: expect.stringContaining('nlb.zones') });
  });

  it('warns while a new target is still initial', async () => {
    givenTargetGroup();
    givenTargets(target('10.0.1.5', 'initial', { Reason: 'Elb.RegistrationInProgress' }));

    expect(await run(targetsHealth)).toMatchObject({ status: 'warn', message: expect.stringContaining('10.0.1.5 initial') });
  });

  it('looks only at the resolved addresses, not at a stale target', async () => {
    givenTargetGroup();
    givenTargets(target('10.0.1.5'), target('10.0.2.9', 'unhealthy'));

    expect(await run(targetsHealth)).toMatchObject({ status: 'pass' });
  });
});

describe('nlb.attached', () => {
  it('passes when an active NLB forwards to the target group', async () => {
    givenTargetGroup();
    elbMock.on(DescribeLoadBalancersCommand, { LoadBalancerArns: [LB_ARN] }).resolves({ LoadBalancers: [loadBalancer()] });

    expect(await run(nlbAttached)).toEqual({ status: 'pass', message: 'NLB fivetran (internal, active) forwards to the target group' });
  });

  it('fails when no load balancer forwards to the target group', async () => {
    givenTargetGroup(targetGroup({ LoadBalancerArns: [] }));

    expect(await run(nlbAttached)).toMatchObject({ status: 'fail', fix: expect.stringContaining('aws elbv2 create-listener') });
  });

  it('fails for an Application Load Balancer', async () => {
    givenTargetGroup();
    elbMock.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [loadBalancer({ Type: 'application' })] });

    expect(await run(nlbAttached)).toMatchObject({ status: 'fail', message: expect.stringContaining('needs a Network Load Balancer') });
  });
});

describe('nlb.zones', () => {
  beforeEach(() => {
    givenTargetGroup();
    givenSubnets();
    elbMock.on(DescribeLoadBalancersCommand).resolves({ LoadBalancers: [loadBalancer()] });
    givenCrossZone('true');
    givenCluster(['orders-1', 'eu-west-1a'], ['orders-2', 'eu-west-1b']);
  });

  it('passes when the NLB has the zone of every target and every instance that can become the writer', async () => {
    givenTargets(target('10.0.1.5'));

    expect(await run(nlbZones)).toEqual({
      status: 'pass',
      message:
        'NLB fivetran is in eu-west-1a, eu-west-1b: every zone of Aurora cluster orders (orders-1 (writer) in eu-west-1a, orders-2 (reader, can become the writer) in eu-west-1b); cross-zone load balancing is on',
    });
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders' });
  });

  it('fails when a reader that can become the writer is in a zone the NLB lacks, even with cross-zone on', async () => {
    givenTargets(target('10.0.1.5'));
    givenCluster(['orders-1', 'eu-west-1a'], ['orders-2', 'eu-west-1c']);

    const verdict = await run(nlbZones);

    expect(verdict).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('NLB fivetran is only in eu-west-1a, eu-west-1b, but orders-2 (reader, can become the writer) is in eu-west-1c'),
    });
    expect(verdict.fix).toContain('Give the NLB a subnet in eu-west-1c: add one per missing zone to nlbSubnetIds');
    expect(verdict.fix).toContain(`aws elbv2 set-subnets --load-balancer-arn ${LB_ARN} --subnets subnet-a subnet-b <subnet-in-eu-west-1c>`);
  });

  it('fails when the current target is in a zone the NLB lacks, cross-zone on or off', async () => {
    givenTargets(target('10.0.3.10'));
    for (const crossZone of ['true', 'false']) {
      givenCrossZone(crossZone);

      expect(await run(nlbZones)).toMatchObject({ status: 'fail', message: expect.stringContaining('target 10.0.3.10 is in eu-west-1c') });
    }
  });

  it("fails when a Multi-AZ DB instance's standby is in a zone the NLB lacks", async () => {
    const billing = { ...mapping, endpoint: 'billing.c0ffee.eu-west-1.rds.amazonaws.com' };
    dns.setA(billing.endpoint, ['10.0.1.7']);
    givenTargets(target('10.0.1.7'));
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'billing' }).resolves({
      DBInstances: [{ DBInstanceIdentifier: 'billing', Engine: 'postgres', MultiAZ: true, AvailabilityZone: 'eu-west-1a', SecondaryAvailabilityZone: 'eu-west-1c' }],
    });

    const verdict = await run(nlbZones, billing);

    expect(verdict).toMatchObject({ status: 'fail', message: expect.stringContaining("billing's Multi-AZ standby is in eu-west-1c") });
  });

  it('uses the zone ELB reports for a target before looking at subnets', async () => {
    givenTargets(target('10.0.1.5', 'healthy', {}, 'eu-west-1c'));

    expect(await run(nlbZones)).toMatchObject({ status: 'fail', message: expect.stringContaining('target 10.0.1.5 is in eu-west-1c') });
  });

  it('counts an address outside the VPC (zone "all") as reachable from every zone', async () => {
    givenTargets(target('172.16.5.5', 'healthy', {}, 'all'));

    expect(await run(nlbZones)).toMatchObject({ status: 'pass' });
  });

  it('warns when a target is in no subnet of the VPC', async () => {
    givenTargets(target('10.0.77.7'));

    expect(await run(nlbZones)).toMatchObject({ status: 'warn', message: expect.stringContaining('could not tell the zone of 10.0.77.7') });
  });

  it('says what it could not check for an endpoint that is not an RDS name', async () => {
    const own = { ...mapping, endpoint: 'orders-db.example.internal' };
    givenTargets(target('10.0.1.5'));

    const verdict = await run(nlbZones, own);

    expect(verdict).toEqual({
      status: 'warn',
      message:
        'could not check the zones the database can fail over to: orders-db.example.internal is not an RDS endpoint name, so doctor cannot look up the database behind it',
      fix: "Make sure NLB fivetran has a subnet in every Availability Zone of the database's DB subnet group.",
    });
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('still fails a target outside the NLB zones when the RDS API denies the read', async () => {
    givenTargets(target('10.0.3.10'));
    rdsMock.on(DescribeDBClustersCommand).rejects(Object.assign(new Error('not authorized to perform: rds:DescribeDBClusters'), { name: 'AccessDenied' }));

    expect(await run(nlbZones)).toMatchObject({ status: 'fail', message: expect.stringContaining('target 10.0.3.10 is in eu-west-1c') });
    givenTargets(target('10.0.1.5'));
    expect(await run(nlbZones)).toMatchObject({ status: 'warn', message: expect.stringContaining('the RDS API did not say (could not tell: AccessDenied') });
  });

  it('warns when the cluster lists no instance to check', async () => {
    givenTargets(target('10.0.1.5'));
    givenCluster();

    expect(await run(nlbZones)).toMatchObject({ status: 'warn', message: 'could not check the zones the database can fail over to: Aurora cluster orders lists no DB instance' });
  });

  it('warns when the DB subnet group spans a zone the NLB lacks', async () => {
    givenTargets(target('10.0.1.5'));
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'orders-1', DBClusterIdentifier: 'orders', AvailabilityZone: 'eu-west-1a', DBSubnetGroup: { Subnets: ['a', 'b', 'c'].map((z) => ({ SubnetAvailabilityZone: { Name: `eu-west-1${z}` } })) } },
      ],
    });

    expect(await run(nlbZones)).toMatchObject({ status: 'warn', message: expect.stringContaining('the DB subnet group also spans eu-west-1c') });
  });
});

describe('target-group.deregistration', () => {
  const givenAttributes = (delay: string, termination?: string) =>
    elbMock.on(DescribeTargetGroupAttributesCommand).resolves({
      Attributes: [
        { Key: 'deregistration_delay.timeout_seconds', Value: delay },
        ...(termination ? [{ Key: 'deregistration_delay.connection_termination.enabled', Value: termination }] : []),
      ],
    });
  beforeEach(() => givenTargetGroup());

  it('passes with a short delay and connection termination on', async () => {
    givenAttributes('10', 'true');

    expect(await run(deregistration)).toMatchObject({ status: 'pass', message: expect.stringContaining('within 10 s') });
  });

  it('warns when connection termination is off: clients stay on the old writer', async () => {
    givenAttributes('10', 'false');

    const verdict = await run(deregistration);

    expect(verdict).toMatchObject({ status: 'warn', message: expect.stringContaining('stay on the old writer') });
    expect(verdict.fix).toContain('Key=deregistration_delay.connection_termination.enabled,Value=true');
  });

  it('warns when the delay keeps clients on the old writer for minutes', async () => {
    givenAttributes('300', 'true');

    expect(await run(deregistration)).toMatchObject({ status: 'warn', message: 'deregistration delay is 300 s: after a failover, open connections stay on the old writer for up to 5 min' });
  });
});
