// doctor as a whole: runDoctor over a fully mocked chain (aws-sdk-client-mock, loopback DNS), and
// `rds-nlb-sync doctor` on top of it: the report, "could not tell", and the exit codes.
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  DescribeVpcEndpointServicePermissionsCommand,
  EC2Client,
  type State,
} from '@aws-sdk/client-ec2';
import {
  DescribeListenerAttributesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetAccountSettingsCommand, GetFunctionConcurrencyCommand, GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../cli/main.js';
import { loadSyncConfig } from '../../lib/config.js';
import { createResolver } from '../../lib/dns.js';
import { DoctorAbortedError, runDoctor, type DoctorInput } from '../../lib/doctor/run.js';
import { ORDERS, TG_A } from '../fixtures.js';
import { startDnsServer, type DnsServer } from '../harness/index.js';

const LB_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/fivetran/0123456789abcdef';
const VPC = 'vpc-0123456789abcdef0';
const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/fivetran/0123456789abcdef/0123456789abcdef';
const SERVICE = 'vpce-svc-0123456789abcdef0';
const FIVETRAN = '834469178297';

// Class-level mocks: they cover the clients runDoctor gets and those the CLI creates itself.
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const ec2Mock = mockClient(EC2Client);
const lambdaMock = mockClient(LambdaClient);
const cloudwatchMock = mockClient(CloudWatchClient);
const rdsMock = mockClient(RDSClient);
const MOCKS = [elbMock, ec2Mock, lambdaMock, cloudwatchMock, rdsMock];

let dns: DnsServer;
beforeAll(async () => {
  dns = await startDnsServer();
});
afterAll(async () => {
  await dns?.close();
  MOCKS.forEach((m) => m.restore());
});

/** Every link of the chain as it should be: the RDS endpoint on 10.0.1.5 in eu-west-1a. */
function mockHealthyChain() {
  MOCKS.forEach((m) => m.reset());
  dns.setA(ORDERS, ['10.0.1.5']);
  elbMock.on(DescribeTargetGroupsCommand).resolves({
    TargetGroups: [{ TargetGroupArn: TG_A, TargetType: 'ip', Protocol: 'TCP', Port: 5432, VpcId: VPC, LoadBalancerArns: [LB_ARN] }],
  });
  elbMock.on(DescribeTargetGroupAttributesCommand).resolves({
    Attributes: [
      { Key: 'deregistration_delay.timeout_seconds', Value: '10' },
      { Key: 'deregistration_delay.connection_termination.enabled', Value: 'true' },
    ],
  });
  elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.5', Port: 5432 }, TargetHealth: { State: 'healthy' } }] });
  elbMock.on(DescribeLoadBalancersCommand).resolves({
    LoadBalancers: [
      {
        LoadBalancerArn: LB_ARN,
        LoadBalancerName: 'fivetran',
        Type: 'network',
        Scheme: 'internal',
        State: { Code: 'active' },
        AvailabilityZones: [
          { ZoneName: 'eu-west-1a', SubnetId: 'subnet-a' },
          { ZoneName: 'eu-west-1b', SubnetId: 'subnet-b' },
        ],
        SecurityGroups: ['sg-nlb'],
        EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: 'off',
      },
    ],
  });
  elbMock.on(DescribeLoadBalancerAttributesCommand).resolves({ Attributes: [{ Key: 'load_balancing.cross_zone.enabled', Value: 'true' }] });
  elbMock.on(DescribeListenersCommand).resolves({ Listeners: [{ ListenerArn: LISTENER, Port: 5432, Protocol: 'TCP', DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_A }] }] });
  elbMock.on(DescribeListenerAttributesCommand).resolves({ Attributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '3600' }] });
  ec2Mock.on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsSupport' }).resolves({ EnableDnsSupport: { Value: true } });
  ec2Mock.on(DescribeVpcAttributeCommand, { Attribute: 'enableDnsHostnames' }).resolves({ EnableDnsHostnames: { Value: true } });
  ec2Mock.on(DescribeSubnetsCommand).resolves({
    Subnets: [
      { SubnetId: 'subnet-a', VpcId: VPC, AvailabilityZone: 'eu-west-1a', CidrBlock: '10.0.1.0/24' },
      { SubnetId: 'subnet-b', VpcId: VPC, AvailabilityZone: 'eu-west-1b', CidrBlock: '10.0.2.0/24' },
    ],
  });
  // The NLB's security group admitted by the database's, and letting health checks out.
  ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [
      { GroupId: 'sg-db', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: 'sg-nlb' }] }] },
      { GroupId: 'sg-nlb', IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] },
    ],
  });
  // An Aurora PostgreSQL cluster, writer in eu-west-1a, reader in eu-west-1b.
  rdsMock.on(DescribeDBClustersCommand).resolves({
    DBClusters: [
      {
        DBClusterIdentifier: 'orders',
        Engine: 'aurora-postgresql',
        DBClusterMembers: [
          { DBInstanceIdentifier: 'orders-1', IsClusterWriter: true },
          { DBInstanceIdentifier: 'orders-2', IsClusterWriter: false },
        ],
      },
    ],
  });
  rdsMock.on(DescribeDBInstancesCommand).resolves({
    DBInstances: (['a', 'b'] as const).map((z, n) => ({
      DBInstanceIdentifier: `orders-${n + 1}`,
      DBClusterIdentifier: 'orders',
      Engine: 'aurora-postgresql',
      AvailabilityZone: `eu-west-1${z}`,
      VpcSecurityGroups: [{ VpcSecurityGroupId: 'sg-db' }],
    })),
  });
  lambdaMock.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 999 } });
  lambdaMock.on(GetFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 1 });
  ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({
    ServiceConfigurations: [
      { ServiceId: SERVICE, ServiceName: `com.amazonaws.vpce.eu-west-1.${SERVICE}`, ServiceState: 'Available', AcceptanceRequired: true, NetworkLoadBalancerArns: [LB_ARN] },
    ],
  });
  ec2Mock.on(DescribeVpcEndpointServicePermissionsCommand).resolves({ AllowedPrincipals: [{ Principal: `arn:aws:iam::${FIVETRAN}:root` }] });
  ec2Mock
    .on(DescribeVpcEndpointConnectionsCommand)
    .resolves({ VpcEndpointConnections: [{ ServiceId: SERVICE, VpcEndpointId: 'vpce-1', VpcEndpointOwner: FIVETRAN, VpcEndpointState: 'available' as State }] });
  ec2Mock.on(DescribeRouteTablesCommand).resolves({
    RouteTables: [{ RouteTableId: 'rtb-main', Associations: [{ Main: true }], Routes: [{ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1' }] }],
  });
  ec2Mock.on(DescribeNatGatewaysCommand).resolves({ NatGateways: [{ NatGatewayId: 'nat-1', State: 'available' }] });
  ec2Mock.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
  lambdaMock.on(GetFunctionConfigurationCommand).resolves({ State: 'Active', Runtime: 'nodejs24.x', VpcConfig: { SubnetIds: ['subnet-a'], VpcId: VPC } });
  const thisMinute = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  cloudwatchMock.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'runs', Timestamps: [thisMinute], Values: [1] },
      { Id: 'successes', Timestamps: [thisMinute], Values: [1] },
    ],
  });
}

const CHAIN_IDS = [
  'dns.resolves',
  'dns.private',
  'target-group.settings',
  'targets.registered',
  'targets.health',
  'nlb.attached',
  'nlb.zones',
  'target-group.deregistration',
  'nlb.idle-timeout',
  'vpc.dns',
  'db.security-groups',
  'db.max-connect-errors',
  'service.exists',
  'nlb.security-group',
  'service.principals',
  'service.acceptance',
  'service.connections',
  'function.sync',
  'function.sync.network',
  'account.concurrency',
  'function.accept',
  'function.accept.network',
  'sync.heartbeat',
  'probe.last',
];

function input(overrides: Partial<DoctorInput> = {}): DoctorInput {
  return {
    mappings: loadSyncConfig({ RDS_ENDPOINT: ORDERS, TARGET_GROUP_ARN: TG_A, TARGET_PORT: '5432' }).mappings,
    serviceIds: [],
    allowedAccounts: [FIVETRAN],
    metricsNamespace: 'RdsNlbSync',
    functions: { sync: 'rds-nlb-sync-prod-sync', accept: 'rds-nlb-sync-prod-accept' },
    ...overrides,
  };
}

function doctor(i: DoctorInput = input()) {
  const config = { region: 'eu-west-1' };
  return runDoctor(i, {
    elb: new ElasticLoadBalancingV2Client(config),
    ec2: new EC2Client(config),
    lambda: new LambdaClient(config),
    cloudwatch: new CloudWatchClient(config),
    rds: new RDSClient(config),
    resolve: createResolver({ servers: [dns.address], timeoutMs: 300, tries: 1 }),
    region: 'eu-west-1',
  });
}

const statusOf = (checks: { id: string; status: string }[], id: string) => checks.find((c) => c.id === id)?.status;

describe('runDoctor', () => {
  beforeEach(mockHealthyChain);

  it('passes every check of a correctly built chain, in the order of the chain', async () => {
    const report = await doctor();

    expect(report.checks.map((c) => c.id)).toEqual(CHAIN_IDS);
    expect(report.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(report).toMatchObject({ ok: true, counts: { pass: CHAIN_IDS.length, warn: 0, fail: 0 } });
  });

  it('names the subject of each check', async () => {
    const report = await doctor();

    expect([...new Set(report.checks.map((c) => c.subject))]).toEqual([
      `${ORDERS} -> orders/0123456789abcdef port 5432`,
      'load balancer fivetran',
      `endpoint service ${SERVICE}`,
      'sync function rds-nlb-sync-prod-sync',
      'accept function rds-nlb-sync-prod-accept',
      'metrics namespace RdsNlbSync',
    ]);
  });

  it('is not ok when one check fails, and says which', async () => {
    ec2Mock.on(DescribeVpcEndpointServicePermissionsCommand).resolves({ AllowedPrincipals: [] });

    const report = await doctor();

    expect(report.ok).toBe(false);
    expect(report.counts.fail).toBe(1);
    expect(report.checks.find((c) => c.status === 'fail')).toMatchObject({ id: 'service.principals' });
  });

  it('reports an API it cannot use as "could not tell" (warn) and goes on', async () => {
    // What moto answers for DescribeVpcEndpointConnections.
    ec2Mock.on(DescribeVpcEndpointConnectionsCommand).rejects(Object.assign(new Error('XML parse error'), { $metadata: { httpStatusCode: 500 } }));

    const report = await doctor();

    expect(report.checks.find((c) => c.id === 'service.connections')).toMatchObject({ status: 'warn', message: 'could not tell: Error (HTTP 500): XML parse error' });
    expect(statusOf(report.checks, 'sync.heartbeat')).toBe('pass');
    expect(report.ok).toBe(true);
  });

  it('says which permission is missing when AWS denies a read', async () => {
    lambdaMock.on(GetFunctionConfigurationCommand).rejects(Object.assign(new Error('User is not authorized to perform: lambda:GetFunctionConfiguration'), { name: 'AccessDeniedException' }));

    const report = await doctor();

    expect(report.checks.find((c) => c.id === 'function.sync')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('could not tell: AccessDeniedException'),
      fix: expect.stringContaining('read permission'),
    });
  });

  it('stops with one clear error when there are no AWS credentials', async () => {
    elbMock.on(DescribeTargetGroupsCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));

    await expect(doctor()).rejects.toThrow(DoctorAbortedError);
  });

  it('asks AWS once per target group, however many checks look at it', async () => {
    await doctor();

    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetGroupsCommand, 1);
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetHealthCommand, 1);
  });

  it('checks only the endpoint services of ENDPOINT_SERVICE_IDS when given', async () => {
    ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({
      ServiceConfigurations: [
        { ServiceId: SERVICE, ServiceName: 'n', ServiceState: 'Available', AcceptanceRequired: true, NetworkLoadBalancerArns: [LB_ARN] },
        { ServiceId: 'vpce-svc-ffffffffffffffff0', ServiceName: 'm', ServiceState: 'Available', AcceptanceRequired: true, NetworkLoadBalancerArns: [LB_ARN] },
      ],
    });

    const report = await doctor(input({ serviceIds: ['vpce-svc-ffffffffffffffff0'] }));

    expect(report.checks.filter((c) => c.id === 'service.principals').map((c) => c.subject)).toEqual(['endpoint service vpce-svc-ffffffffffffffff0']);
  });
});

// ---------------------------------------------------------------------------------------------

function capture(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { env, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), color: false };
  return { io, stdout: () => out.join(''), stderr: () => err.join('') };
}

const doctorArgs = () => ['doctor', '--endpoint', ORDERS, '--target-group-arn', TG_A, '--port', '5432', '--dns-servers', dns.address, '--dns-tries', '1', '--stage', 'prod'];

describe('rds-nlb-sync doctor', () => {
  beforeEach(mockHealthyChain);

  it('exits 0 and prints every check as PASS for a correctly built chain', async () => {
    const { io, stdout } = capture();

    const code = await main(doctorArgs(), io);

    expect(code).toBe(0);
    expect(stdout()).toContain('  PASS  nlb.zones');
    expect(stdout()).toContain('OK: 24 passed, 0 warnings, 0 failed');
    expect(lambdaMock).toHaveReceivedCommandWith(GetFunctionConfigurationCommand, { FunctionName: 'rds-nlb-sync-prod-sync' });
  });

  it('exits 1 when a check fails, and prints its fix under it', async () => {
    elbMock.on(DescribeLoadBalancerAttributesCommand).resolves({ Attributes: [{ Key: 'load_balancing.cross_zone.enabled', Value: 'false' }] });
    dns.setA(ORDERS, ['10.0.3.10']);
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.3.10', Port: 5432, AvailabilityZone: 'eu-west-1c' }, TargetHealth: { State: 'healthy' } }] });
    const { io, stdout } = capture();

    const code = await main(doctorArgs(), io);

    expect(code).toBe(1);
    expect(stdout()).toMatch(/ {2}FAIL {2}nlb\.zones +NLB fivetran is only in eu-west-1a, eu-west-1b, but target 10\.0\.3\.10 is in eu-west-1c.*\n +fix: Give the NLB a subnet in eu-west-1c/);
    expect(stdout()).toContain('FAILED: 23 passed, 0 warnings, 1 failed');
  });

  it('exits 0 with warnings only', async () => {
    ec2Mock.on(DescribeVpcEndpointConnectionsCommand).resolves({ VpcEndpointConnections: [] });
    const { io } = capture();

    expect(await main(doctorArgs(), io)).toBe(0);
  });

  it('prints the report as JSON with --json, with the same exit code', async () => {
    ec2Mock.on(DescribeVpcEndpointServicePermissionsCommand).resolves({ AllowedPrincipals: [] });
    const { io, stdout } = capture();

    const code = await main([...doctorArgs(), '--json'], io);

    const report = JSON.parse(stdout());
    expect(code).toBe(1);
    expect(report).toMatchObject({ region: 'eu-west-1', ok: false, counts: { fail: 1 } });
    expect(report.checks.find((c: { id: string }) => c.id === 'service.principals')).toMatchObject({ status: 'fail', fix: expect.stringContaining('--add-allowed-principals') });
  });

  it('exits 2 for a bad setting, naming the flag it came from', async () => {
    const { io, stderr } = capture();

    const code = await main(['doctor', '--endpoint', ORDERS, '--target-group-arn', TG_A, '--port', '99999'], io);

    expect(code).toBe(2);
    expect(stderr()).toContain('TARGET_PORT (--port) must be a TCP port number');
    expect(elbMock.calls()).toHaveLength(0);
  });

  it('exits 1 with one message when AWS credentials are missing', async () => {
    elbMock.on(DescribeTargetGroupsCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
    const { io, stderr, stdout } = capture();

    const code = await main(doctorArgs(), io);

    expect(code).toBe(1);
    expect(stderr()).toContain('doctor cannot read AWS: Could not load credentials from any providers');
    expect(stdout()).toBe('');
  });

  it('reads the endpoint service and principals from the environment, like the Lambdas', async () => {
    const { io, stdout } = capture({ ENDPOINT_SERVICE_IDS: 'vpce-svc-00000000deadbeef', ALLOWED_PRINCIPALS: FIVETRAN });

    const code = await main(doctorArgs(), io);

    expect(code).toBe(1);
    expect(stdout()).toContain('ENDPOINT_SERVICE_IDS vpce-svc-00000000deadbeef not found in eu-west-1');
  });
});
