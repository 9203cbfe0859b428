// doctor's checks of the deployed service (lib/doctor/functions.ts): Lambda, the functions'
// route to the AWS APIs, and the SyncSuccess heartbeat, through aws-sdk-client-mock.
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  type Route,
  type State,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ResourceNotFoundException,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDoctorReader } from '../../lib/doctor/read.js';
import { accountConcurrency, apiNeeds, decideConcurrency, functionChecks, heartbeat, type FunctionRole, type FunctionSubject } from '../../lib/doctor/functions.js';
import type { Check, DoctorContext } from '../../lib/doctor/verdict.js';

const VPC = 'vpc-0123456789abcdef0';
const NOW = Date.parse('2026-03-01T12:00:30Z');

const ec2 = new EC2Client({ region: 'eu-west-1' });
const lambda = new LambdaClient({ region: 'eu-west-1' });
const cloudwatch = new CloudWatchClient({ region: 'eu-west-1' });
const ec2Mock = mockClient(ec2);
const lambdaMock = mockClient(lambda);
const cloudwatchMock = mockClient(cloudwatch);
beforeEach(() => {
  ec2Mock.reset();
  lambdaMock.reset();
  cloudwatchMock.reset();
});

function run<S>(check: Check<S>, subject: S) {
  const clients = { elb: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }), ec2, lambda, cloudwatch, rds: new RDSClient({ region: 'eu-west-1' }), resolve: async () => [] };
  const ctx: DoctorContext = { reader: createDoctorReader(clients, () => NOW), region: 'eu-west-1', serviceIds: [], allowedAccounts: ['834469178297'], now: () => NOW };
  return check.run(subject, ctx);
}

const [functionCheck, networkCheck] = functionChecks('sync') as [Check<FunctionSubject>, Check<FunctionSubject>];
const syncFn: FunctionSubject = { role: 'sync', name: 'rds-nlb-sync-prod-sync' };

const givenFunction = (config: Partial<FunctionConfiguration> = {}) =>
  lambdaMock.on(GetFunctionConfigurationCommand).resolves({ FunctionName: syncFn.name, State: 'Active', LastUpdateStatus: 'Successful', Runtime: 'nodejs24.x', ...config });

describe('function.sync', () => {
  it('has the ids function.<role> and function.<role>.network, and account.concurrency with sync', () => {
    expect(functionChecks('accept').map((c) => c.id)).toEqual(['function.accept', 'function.accept.network']);
    expect(functionChecks('sync').map((c) => c.id)).toEqual(['function.sync', 'function.sync.network', 'account.concurrency']);
  });

  it('passes for an Active function', async () => {
    givenFunction();

    expect(await run(functionCheck, syncFn)).toEqual({ status: 'pass', message: 'rds-nlb-sync-prod-sync is Active (nodejs24.x)' });
    expect(lambdaMock).toHaveReceivedCommandWith(GetFunctionConfigurationCommand, { FunctionName: 'rds-nlb-sync-prod-sync' });
  });

  it('fails when the function does not exist', async () => {
    lambdaMock.on(GetFunctionConfigurationCommand).rejects(new ResourceNotFoundException({ message: 'Function not found', $metadata: {} }));

    expect(await run(functionCheck, syncFn)).toMatchObject({ status: 'fail', message: 'rds-nlb-sync-prod-sync not found in eu-west-1', fix: expect.stringContaining('serverless deploy') });
  });

  it('fails for a function in state Failed, with the reason', async () => {
    givenFunction({ State: 'Failed', StateReason: 'The subnet has no free IP addresses' });

    expect(await run(functionCheck, syncFn)).toMatchObject({ status: 'fail', message: expect.stringContaining('The subnet has no free IP addresses') });
  });

  it('fails when the last update failed', async () => {
    givenFunction({ LastUpdateStatus: 'Failed', LastUpdateStatusReason: 'EniLimitExceeded' });

    expect(await run(functionCheck, syncFn)).toMatchObject({ status: 'fail', message: expect.stringContaining('EniLimitExceeded') });
  });

  it('warns, without asking Lambda, when no function was named', async () => {
    expect(await run(functionCheck, { role: 'sync' })).toMatchObject({ status: 'warn', message: 'not checked: no sync function named', fix: expect.stringContaining('--sync-function') });
    expect(lambdaMock).toHaveReceivedCommandTimes(GetFunctionConfigurationCommand, 0);
  });
});

describe('function.sync.network', () => {
  const inVpc = ({ namesVpc = true } = {}) => givenFunction({ VpcConfig: { SubnetIds: ['subnet-a', 'subnet-b'], ...(namesVpc ? { VpcId: VPC } : {}) } });
  const givenRouteTables = (routes: { main?: Route; a?: Route }) =>
    ec2Mock.on(DescribeRouteTablesCommand).resolves({
      RouteTables: [
        { RouteTableId: 'rtb-main', Associations: [{ Main: true }], Routes: routes.main ? [routes.main] : [] },
        { RouteTableId: 'rtb-a', Associations: [{ SubnetId: 'subnet-a' }], Routes: routes.a ? [routes.a] : [] },
      ],
    });
  const givenNat = (state = 'available') => ec2Mock.on(DescribeNatGatewaysCommand).resolves({ NatGateways: [{ NatGatewayId: 'nat-1', State: state as 'available' }] });
  const givenEndpoints = (...services: string[]) =>
    ec2Mock.on(DescribeVpcEndpointsCommand).resolves({
      VpcEndpoints: services.map(
        (s): VpcEndpoint => ({ VpcEndpointType: 'Interface', State: 'available' as State, PrivateDnsEnabled: true, ServiceName: `com.amazonaws.eu-west-1.${s}` }),
      ),
    });
  const natRoute: Route = { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' };

  it('passes for a function outside any VPC', async () => {
    givenFunction({ VpcConfig: { SubnetIds: [] } });

    expect(await run(networkCheck, syncFn)).toEqual({ status: 'pass', message: 'not in a VPC: reaches the AWS APIs directly' });
  });

  it("passes when every subnet's default route leads to an available NAT gateway", async () => {
    inVpc();
    givenRouteTables({ main: natRoute, a: natRoute });
    givenNat();
    givenEndpoints();

    expect(await run(networkCheck, syncFn)).toMatchObject({ status: 'pass', message: 'every subnet routes 0.0.0.0/0 to NAT gateway nat-1' });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeRouteTablesCommand, { Filters: [{ Name: 'vpc-id', Values: [VPC] }] });
  });

  it('passes without NAT when interface endpoints cover the APIs the function calls', async () => {
    inVpc();
    givenRouteTables({});
    givenNat();
    givenEndpoints('elasticloadbalancing', 'monitoring');

    expect(await run(networkCheck, syncFn)).toMatchObject({ status: 'pass', message: 'interface VPC endpoints with private DNS for elasticloadbalancing, monitoring' });
  });

  it('fails when a subnet has neither a NAT route nor the endpoints, naming what is missing', async () => {
    inVpc();
    givenRouteTables({ a: natRoute });
    givenNat();
    givenEndpoints('monitoring');

    const verdict = await run(networkCheck, syncFn);

    expect(verdict).toMatchObject({ status: 'fail', message: 'cannot reach elasticloadbalancing from subnet-b (no default route in rtb-main)' });
    expect(verdict.fix).toContain('com.amazonaws.eu-west-1.elasticloadbalancing');
  });

  it('fails for a route to an internet gateway: a Lambda has no public IP', async () => {
    inVpc();
    givenRouteTables({ main: { DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-1' }, a: natRoute });
    givenNat();
    givenEndpoints();

    expect(await run(networkCheck, syncFn)).toMatchObject({ status: 'fail', message: expect.stringContaining('subnet-b (only an internet gateway') });
  });

  it('fails when the NAT gateway of the route is gone', async () => {
    inVpc();
    givenRouteTables({ main: natRoute, a: natRoute });
    givenNat('deleted');
    givenEndpoints();

    expect(await run(networkCheck, syncFn)).toMatchObject({ status: 'fail', message: expect.stringContaining('NAT gateway nat-1 is deleted') });
  });

  it('warns when the default route goes somewhere doctor cannot follow (a transit gateway)', async () => {
    inVpc();
    givenRouteTables({ main: { DestinationCidrBlock: '0.0.0.0/0', TransitGatewayId: 'tgw-1' }, a: natRoute });
    givenNat();
    givenEndpoints();

    expect(await run(networkCheck, syncFn)).toMatchObject({ status: 'warn', message: expect.stringContaining('subnet-b (default route via tgw-1)') });
  });

  it('checks the APIs of the accept function: ec2, not elasticloadbalancing', async () => {
    givenFunction({ VpcConfig: { SubnetIds: ['subnet-a'], VpcId: VPC } });
    givenRouteTables({});
    givenNat();
    givenEndpoints('ec2', 'monitoring');
    const [, acceptNetwork] = functionChecks('accept' satisfies FunctionRole) as [Check<FunctionSubject>, Check<FunctionSubject>];

    expect(await run(acceptNetwork, { role: 'accept', name: 'rds-nlb-sync-prod-accept' })).toMatchObject({ status: 'pass' });
  });

  it('finds the VPC from the subnets when Lambda does not name it', async () => {
    inVpc({ namesVpc: false });
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [{ SubnetId: 'subnet-a', VpcId: VPC, AvailabilityZone: 'eu-west-1a', CidrBlock: '10.0.1.0/24' }] });
    givenRouteTables({ main: natRoute, a: natRoute });
    givenNat();
    givenEndpoints();

    expect(await run(networkCheck, syncFn)).toMatchObject({ status: 'pass' });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSubnetsCommand, { SubnetIds: ['subnet-a', 'subnet-b'] });
  });
});

describe('function.sync.network with a reader or custom endpoint', () => {
  const READER = 'orders.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com';
  const WRITER = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';

  it('needs the rds API for sync only when a member-set mapping exists', () => {
    expect(apiNeeds('sync', [{ endpoint: WRITER }])).toEqual(['elasticloadbalancing', 'monitoring']);
    expect(apiNeeds('sync', [{ endpoint: WRITER }, { endpoint: READER }])).toEqual(['elasticloadbalancing', 'monitoring', 'rds']);
    expect(apiNeeds('sync', [{ endpoint: 'x.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com' }])).toContain('rds');
    expect(apiNeeds('accept', [{ endpoint: READER }])).toEqual(['ec2', 'monitoring']);
  });

  it('fails when the interface endpoints lack rds and no NAT is there', async () => {
    lambdaMock.on(GetFunctionConfigurationCommand).resolves({ State: 'Active', VpcConfig: { SubnetIds: ['subnet-a'], VpcId: VPC } });
    ec2Mock.on(DescribeRouteTablesCommand).resolves({ RouteTables: [{ RouteTableId: 'rtb-main', Associations: [{ Main: true }], Routes: [] }] });
    ec2Mock.on(DescribeNatGatewaysCommand).resolves({ NatGateways: [] });
    ec2Mock.on(DescribeVpcEndpointsCommand).resolves({
      VpcEndpoints: ['elasticloadbalancing', 'monitoring'].map(
        (api): VpcEndpoint => ({ VpcEndpointType: 'Interface', State: 'available' as State, PrivateDnsEnabled: true, ServiceName: `com.amazonaws.eu-west-1.${api}` }),
      ),
    });
    const [, network] = functionChecks('sync', [{ endpoint: READER }]) as [Check<FunctionSubject>, Check<FunctionSubject>];

    const verdict = await run(network, syncFn);

    expect(verdict).toMatchObject({ status: 'fail', message: 'cannot reach rds from subnet-a (no default route in rtb-main)' });
    expect(verdict.fix).toContain('com.amazonaws.eu-west-1.rds');
  });
});

describe('account.concurrency', () => {
  const givenAccount = (limit: number, unreserved: number) =>
    lambdaMock.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: limit, UnreservedConcurrentExecutions: unreserved } });

  it('passes when the account has room for the reservation', async () => {
    givenAccount(1000, 1000);
    lambdaMock.on(GetFunctionConcurrencyCommand).rejects(new ResourceNotFoundException({ message: 'Function not found', $metadata: {} }));

    expect(await run(accountConcurrency, syncFn)).toEqual({
      status: 'pass',
      message: 'reserving 1 for the sync function leaves 999 unreserved (account limit 1000, 1000 unreserved)',
    });
  });

  it('fails on an account whose limit cannot spare the reservation (a new account has 10)', async () => {
    givenAccount(10, 10);

    const verdict = await run(accountConcurrency, { role: 'sync' });

    expect(verdict).toMatchObject({ status: 'fail', message: expect.stringContaining('would leave 9 unreserved executions; Lambda requires 100') });
    expect(verdict.fix).toContain('--service-code lambda --quota-code L-B99A9384');
  });

  it('passes when the deployed function already holds its reservation', async () => {
    givenAccount(1000, 500);
    lambdaMock.on(GetFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 1 });

    expect(await run(accountConcurrency, syncFn)).toMatchObject({ status: 'pass', message: expect.stringContaining('holds its reserved concurrency (1)') });
    expect(lambdaMock).toHaveReceivedCommandWith(GetFunctionConcurrencyCommand, { FunctionName: 'rds-nlb-sync-prod-sync' });
  });

  it('warns when the reservation leaves the account just above the minimum', () => {
    expect(decideConcurrency({ limit: 110, unreserved: 105 }, 0, 1)).toMatchObject({ status: 'warn', message: expect.stringContaining('4 above Lambda\'s minimum of 100') });
    expect(decideConcurrency({ limit: 110, unreserved: 100 }, 0, 1)).toMatchObject({ status: 'fail' });
    expect(decideConcurrency({ limit: 1000, unreserved: 111 }, 0, 1)).toMatchObject({ status: 'pass' });
  });
});

describe('sync.heartbeat', () => {
  const minute = (iso: string) => new Date(iso);
  const givenHeartbeat = (points: { time: string; runs: number; successes: number }[]) =>
    cloudwatchMock.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'runs', Timestamps: points.map((p) => minute(p.time)), Values: points.map((p) => p.runs) },
        { Id: 'successes', Timestamps: points.map((p) => minute(p.time)), Values: points.map((p) => p.successes) },
      ],
    });

  it('passes when the latest run succeeded', async () => {
    givenHeartbeat([
      { time: '2026-03-01T12:00:00Z', runs: 1, successes: 1 },
      { time: '2026-03-01T11:59:00Z', runs: 1, successes: 0 },
    ]);

    expect(await run(heartbeat, 'RdsNlbSync')).toEqual({ status: 'pass', message: 'last run succeeded 1 min ago (2 runs in 15 minutes)' });
  });

  it('asks for the dimensionless SyncSuccess series of the namespace, per minute', async () => {
    givenHeartbeat([]);

    await run(heartbeat, 'RdsNlbSyncProd');

    expect(cloudwatchMock).toHaveReceivedCommandWith(GetMetricDataCommand, {
      StartTime: new Date('2026-03-01T11:46:00Z'),
      EndTime: new Date('2026-03-01T12:01:00Z'),
      MetricDataQueries: [
        { Id: 'runs', MetricStat: { Metric: { Namespace: 'RdsNlbSyncProd', MetricName: 'SyncSuccess' }, Period: 60, Stat: 'SampleCount' } },
        { Id: 'successes', MetricStat: { Metric: { Namespace: 'RdsNlbSyncProd', MetricName: 'SyncSuccess' }, Period: 60, Stat: 'Sum' } },
      ],
    });
  });

  it('fails when the latest run failed', async () => {
    givenHeartbeat([
      { time: '2026-03-01T11:59:00Z', runs: 1, successes: 1 },
      { time: '2026-03-01T12:00:00Z', runs: 1, successes: 0 },
    ]);

    const verdict = await run(heartbeat, 'RdsNlbSync');

    expect(verdict).toMatchObject({ status: 'fail', message: expect.stringContaining('the last sync run failed (2026-03-01T12:00:00.000Z') });
    expect(verdict.fix).toContain('sync run');
  });

  it('fails when there is no heartbeat at all', async () => {
    givenHeartbeat([]);

    expect(await run(heartbeat, 'RdsNlbSync')).toMatchObject({ status: 'fail', message: 'no SyncSuccess in namespace RdsNlbSync for 15 minutes: the sync function has not finished a run' });
  });
});
