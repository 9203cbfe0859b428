// Everything doctor reads from AWS and DNS, read-only, each answer memoized for the run:
// several checks look at the same target group, load balancer or VPC, and one doctor run
// should ask AWS each question once. "Not found" is an answer (undefined); any other error
// is thrown to the check, which reports it as "could not tell".
import { GetMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  DescribeVpcAttributeCommand,
  paginateDescribeNatGateways,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeVpcEndpoints,
  paginateDescribeVpcEndpointServiceConfigurations,
  paginateDescribeVpcEndpointServicePermissions,
  type EC2Client,
  type NatGateway,
  type RouteTable,
  type SecurityGroup,
  type ServiceConfiguration,
  type Subnet,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import {
  DescribeListenerAttributesCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  paginateDescribeListeners,
  type ElasticLoadBalancingV2Client,
  type Listener,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  type FunctionConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import {
  DescribeDBClusterEndpointsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  paginateDescribeDBClusterParameters,
  paginateDescribeDBInstances,
  paginateDescribeDBParameters,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { IpVersion, ResolveEndpoint } from '../dns.js';
import { describeTargets } from '../aws/targets.js';
import { listConnections, type ConnectionInfo } from '../aws/endpoint-connections.js';
import type { RegisteredTarget } from '../sync/plan.js';
import { resolveDesired, type DesiredSet } from '../sync/members.js';
import { readTopology, type DbTopology } from './topology.js';

export interface DoctorClients {
  elb: ElasticLoadBalancingV2Client;
  ec2: EC2Client;
  lambda: LambdaClient;
  cloudwatch: CloudWatchClient;
  /** The database behind each endpoint (zones, security groups, parameters), and reader/custom endpoint members as sync lists them. */
  rds: RDSClient;
  resolve: ResolveEndpoint;
}


export interface SubnetInfo {
  subnetId: string;
  vpcId: string;
  zone: string;
  /** IPv4 and IPv6 CIDR blocks. */
  cidrs: string[];
}

export type { ConnectionInfo } from '../aws/endpoint-connections.js';

/** One minute of the SyncSuccess heartbeat: runs that reported, and how many succeeded. */
export interface HeartbeatPoint {
  time: Date;
  runs: number;
  successes: number;
}

export type Attributes = Record<string, string>;

/** The account's Lambda concurrency (GetAccountSettings). */
export interface AccountConcurrency {
  limit: number;
  unreserved: number;
}

export interface DoctorReader {
  /** What sync would point at: DNS's answer, or a reader/custom endpoint's members united (with `members`). */
  resolve(endpoint: string, ipVersion: IpVersion): Promise<DesiredSet>;
  targetGroup(arn: string): Promise<TargetGroup | undefined>;
  targetGroupAttributes(arn: string): Promise<Attributes>;
  targetHealth(arn: string): Promise<RegisteredTarget[]>;
  loadBalancer(arn: string): Promise<LoadBalancer | undefined>;
  loadBalancerAttributes(arn: string): Promise<Attributes>;
  vpcSubnets(vpcId: string): Promise<SubnetInfo[]>;
  subnets(subnetIds: string[]): Promise<SubnetInfo[]>;
  serviceConfigurations(): Promise<ServiceConfiguration[]>;
  servicePrincipals(serviceId: string): Promise<string[]>;
  connections(serviceId: string): Promise<ConnectionInfo[]>;
  functionConfiguration(name: string): Promise<FunctionConfiguration | undefined>;
  routeTables(vpcId: string): Promise<RouteTable[]>;
  natGateways(vpcId: string): Promise<NatGateway[]>;
  vpcEndpoints(vpcId: string): Promise<VpcEndpoint[]>;
  heartbeat(namespace: string, minutes: number): Promise<HeartbeatPoint[]>;
  /** The probe's ProbeSuccess per minute, newest first (the same shape: probes, answered ones). */
  probes(namespace: string, minutes: number): Promise<HeartbeatPoint[]>;
  listeners(loadBalancerArn: string): Promise<Listener[]>;
  listenerAttributes(listenerArn: string): Promise<Attributes>;
  /** enableDnsSupport and enableDnsHostnames of a VPC (DescribeVpcAttribute, one call each). */
  vpcDnsAttributes(vpcId: string): Promise<{ dnsSupport: boolean; dnsHostnames: boolean }>;
  securityGroups(groupIds: string[]): Promise<SecurityGroup[]>;
  /** The database behind an endpoint name (RDS API), or why it cannot be known. */
  dbTopology(endpoint: string): Promise<DbTopology>;
  /** A parameter's value in a DB parameter group; undefined when not set (the engine default applies). */
  dbParameter(group: string, name: string): Promise<string | undefined>;
  /** The same in a DB cluster parameter group. */
  clusterParameter(group: string, name: string): Promise<string | undefined>;
  accountConcurrency(): Promise<AccountConcurrency>;
  /** The function's reserved concurrency; undefined when it has none. */
  reservedConcurrency(functionName: string): Promise<number | undefined>;
}

/** `clients.region`: the region doctor reads (DoctorDeps has it); default the RDS client's. */
export function createDoctorReader(clients: DoctorClients & { region?: string }, now: () => number = Date.now): DoctorReader {
  const { elb, ec2, lambda, cloudwatch, rds } = clients;
  const vpcFilter = (vpcId: string) => [{ Name: 'vpc-id', Values: [vpcId] }];
  const topologyReads = {
    dbInstance: memo((id: string) =>
      orUndefined('DBInstanceNotFoundFault', async () => (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))).DBInstances?.[0]),
    ),
    dbCluster: memo((id: string) =>
      orUndefined('DBClusterNotFoundFault', async () => (await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }))).DBClusters?.[0]),
    ),
    clusterInstances: memo(async (clusterId: string) =>
      // Checked again here: an emulator ignoring the filter must not mix clusters.
      (await collect(paginateDescribeDBInstances({ client: rds }, { Filters: [{ Name: 'db-cluster-id', Values: [clusterId] }] }), (p) => p.DBInstances)).filter(
        (i) => i.DBClusterIdentifier === clusterId,
      ),
    ),
    clusterEndpoint: memo((id: string) =>
      orUndefined(
        'DBClusterEndpointNotFoundFault',
        async () => (await rds.send(new DescribeDBClusterEndpointsCommand({ DBClusterEndpointIdentifier: id }))).DBClusterEndpoints?.[0],
      ),
    ),
  };
  return {
    resolve: memo((endpoint: string, ipVersion: IpVersion) => resolveDesired({ endpoint, ipAddressType: ipVersion }, clients)),
    targetGroup: memo((arn: string) =>
      orUndefined('TargetGroupNotFoundException', async () => (await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups?.[0]),
    ),
    targetGroupAttributes: memo(async (arn: string) => attributes((await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }))).Attributes)),
    targetHealth: memo((arn: string) => describeTargets(elb, arn)),
    loadBalancer: memo((arn: string) =>
      orUndefined('LoadBalancerNotFoundException', async () => (await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }))).LoadBalancers?.[0]),
    ),
    loadBalancerAttributes: memo(async (arn: string) => attributes((await elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }))).Attributes)),
    vpcSubnets: memo(async (vpcId: string) => (await collect(paginateDescribeSubnets({ client: ec2 }, { Filters: vpcFilter(vpcId) }), (p) => p.Subnets)).map(subnetInfo)),
    subnets: memo(async (subnetIds: string[]) => (await collect(paginateDescribeSubnets({ client: ec2 }, { SubnetIds: subnetIds }), (p) => p.Subnets)).map(subnetInfo)),
    serviceConfigurations: memo(() => collect(paginateDescribeVpcEndpointServiceConfigurations({ client: ec2 }, {}), (p) => p.ServiceConfigurations)),
    servicePrincipals: memo(async (serviceId: string) =>
      (await collect(paginateDescribeVpcEndpointServicePermissions({ client: ec2 }, { ServiceId: serviceId }), (p) => p.AllowedPrincipals)).flatMap((p) =>
        p.Principal ? [p.Principal] : [],
      ),
    ),
    connections: memo((serviceId: string) => listConnections(ec2, serviceId)),
    functionConfiguration: memo((name: string) => orUndefined('ResourceNotFoundException', () => lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name })))),
    routeTables: memo((vpcId: string) => collect(paginateDescribeRouteTables({ client: ec2 }, { Filters: vpcFilter(vpcId) }), (p) => p.RouteTables)),
    natGateways: memo((vpcId: string) => collect(paginateDescribeNatGateways({ client: ec2 }, { Filter: vpcFilter(vpcId) }), (p) => p.NatGateways)),
    vpcEndpoints: memo((vpcId: string) => collect(paginateDescribeVpcEndpoints({ client: ec2 }, { Filters: vpcFilter(vpcId) }), (p) => p.VpcEndpoints)),
    heartbeat: memo((namespace: string, minutes: number) => readHeartbeat(cloudwatch, namespace, minutes, now())),
    probes: memo((namespace: string, minutes: number) => readHeartbeat(cloudwatch, namespace, minutes, now(), 'ProbeSuccess')),
    listeners: memo((arn: string) => collect(paginateDescribeListeners({ client: elb }, { LoadBalancerArn: arn }), (p) => p.Listeners)),
    listenerAttributes: memo(async (arn: string) => attributes((await elb.send(new DescribeListenerAttributesCommand({ ListenerArn: arn }))).Attributes)),
    vpcDnsAttributes: memo(async (vpcId: string) => {
      const [support, hostnames] = await Promise.all([
        ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsSupport' })),
        ec2.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' })),
      ]);
      return { dnsSupport: support.EnableDnsSupport?.Value === true, dnsHostnames: hostnames.EnableDnsHostnames?.Value === true };
    }),
    securityGroups: memo((groupIds: string[]) =>
      groupIds.length === 0 ? Promise.resolve([]) : collect(paginateDescribeSecurityGroups({ client: ec2 }, { GroupIds: groupIds }), (p) => p.SecurityGroups),
    ),
    dbTopology: memo(async (endpoint: string) => readTopology(endpoint, clients.region ?? (await rds.config.region()), topologyReads)),
    // DescribeDBParameters has a Filters field AWS does not support: read every page, pick the name.
    dbParameter: memo(async (group: string, name: string) =>
      parameterValue(await collect(paginateDescribeDBParameters({ client: rds }, { DBParameterGroupName: group }), (p) => p.Parameters), name),
    ),
    clusterParameter: memo(async (group: string, name: string) =>
      parameterValue(await collect(paginateDescribeDBClusterParameters({ client: rds }, { DBClusterParameterGroupName: group }), (p) => p.Parameters), name),
    ),
    accountConcurrency: memo(async () => {
      const limit = (await lambda.send(new GetAccountSettingsCommand({}))).AccountLimit;
      return { limit: limit?.ConcurrentExecutions ?? 0, unreserved: limit?.UnreservedConcurrentExecutions ?? 0 };
    }),
    reservedConcurrency: memo((functionName: string) =>
      orUndefined('ResourceNotFoundException', async () => (await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: functionName }))).ReservedConcurrentExecutions),
    ),
  };
}

function parameterValue(parameters: { ParameterName?: string; ParameterValue?: string }[], name: string): string | undefined {
  const value = parameters.find((p) => p.ParameterName === name)?.ParameterValue;
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The dimensionless SyncSuccess series (1 per clean run, 0 per failed run) per minute, newest
 * first: SampleCount is how many runs reported, Sum how many of them succeeded.
 */
async function readHeartbeat(cloudwatch: CloudWatchClient, namespace: string, minutes: number, now: number, metricName = 'SyncSuccess'): Promise<HeartbeatPoint[]> {
  const metric = { Namespace: namespace, MetricName: metricName };
  // Whole minutes, up to the end of the current one: the latest run is in the last bucket.
  const end = Math.floor(now / 60_000) * 60_000 + 60_000;
  const out = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(end - minutes * 60_000),
      EndTime: new Date(end),
      ScanBy: 'TimestampDescending',
      MetricDataQueries: [
        { Id: 'runs', MetricStat: { Metric: metric, Period: 60, Stat: 'SampleCount' } },
        { Id: 'successes', MetricStat: { Metric: metric, Period: 60, Stat: 'Sum' } },
      ],
    }),
  );
  const series = (id: string) => {
    const result = out.MetricDataResults?.find((r) => r.Id === id);
    return new Map((result?.Timestamps ?? []).map((t, i) => [t.getTime(), result?.Values?.[i] ?? 0]));
  };
  const runs = series('runs');
  const successes = series('successes');
  return [...runs.entries()]
    .filter(([, count]) => count > 0)
    .map(([time, count]) => ({ time: new Date(time), runs: count, successes: successes.get(time) ?? 0 }))
    .sort((a, b) => b.time.getTime() - a.time.getTime());
}

function subnetInfo(s: Subnet): SubnetInfo {
  const v6 = (s.Ipv6CidrBlockAssociationSet ?? []).flatMap((a) => (a.Ipv6CidrBlock ? [a.Ipv6CidrBlock] : []));
  return { subnetId: s.SubnetId ?? '', vpcId: s.VpcId ?? '', zone: s.AvailabilityZone ?? '', cidrs: [...(s.CidrBlock ? [s.CidrBlock] : []), ...v6] };
}

function attributes(list: { Key?: string; Value?: string }[] = []): Attributes {
  return Object.fromEntries(list.flatMap(({ Key, Value }) => (Key !== undefined ? [[Key, Value ?? '']] : [])));
}

async function collect<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...(items(page) ?? []));
  return all;
}

async function orUndefined<T>(notFound: string, read: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if ((err as Error | undefined)?.name === notFound) return undefined;
    throw err;
  }
}

/** The first call's promise, shared by every later call with the same arguments. */
function memo<A extends unknown[], R>(read: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  const cache = new Map<string, Promise<R>>();
  return (...args) => {
    const key = JSON.stringify(args);
    let answer = cache.get(key);
    if (!answer) {
      answer = read(...args);
      cache.set(key, answer);
    }
    return answer;
  };
}
