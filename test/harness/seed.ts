// Creates, in moto, the AWS side of one deployment: a VPC, an internal NLB with IP target
// groups behind TCP listeners, and the PrivateLink endpoint service Fivetran connects to.
// Plus read helpers, so tests and the demo can see what the service did.
//
// moto 5.2.1 quirks that matter here:
// - load balancer ARNs say `loadbalancer/app/` even for Type network;
// - registered targets are `healthy` at once and deregistered ones vanish at once (no draining);
// - targets are keyed by IP alone: the same IP on a second port replaces the first, and
//   deregistering an IP removes it whatever the port; AvailabilityZone is not kept;
// - endpoint connections (Describe/Accept/RejectVpcEndpointConnections) are not implemented.
import { CloudWatchClient, GetMetricStatisticsCommand, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  ModifyVpcAttributeCommand,
  CreateVpcEndpointServiceConfigurationCommand,
  EC2Client,
  ModifyVpcEndpointServicePermissionsCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateListenerCommand,
  ModifyListenerAttributesCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateDBClusterCommand, CreateDBInstanceCommand, FailoverDBClusterCommand, RDSClient } from '@aws-sdk/client-rds';

export const EMULATOR_REGION = 'eu-west-1';
export const FIVETRAN_PRINCIPAL = 'arn:aws:iam::834469178297:root';

/** SDK client options for talking to the emulator: `new EC2Client(emulatorClientConfig(url))`. */
export function emulatorClientConfig(endpoint: string) {
  return {
    endpoint,
    region: EMULATOR_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

export interface TargetGroupSpec {
  /** Target group name (1-32 characters: letters, digits, hyphens). */
  readonly name: string;
  /** Port of the targets (the database port). */
  readonly port: number;
  /** Port of the NLB listener that forwards to it. Default `port`; must differ per group. */
  readonly listenerPort?: number;
}

export interface SeedOptions {
  /** Default: one group `rds-writer` on port 5432. */
  readonly targetGroups?: readonly TargetGroupSpec[];
  /** Principals allowed to connect to the endpoint service. Default: Fivetran's account. */
  readonly allowedPrincipals?: readonly string[];
  /** Load balancer name. Default `rds-nlb-sync`. */
  readonly loadBalancerName?: string;
}

export interface SeededAws {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly loadBalancerArn: string;
  /** In the order of `targetGroups`. */
  readonly targetGroupArns: readonly string[];
  /** vpce-svc-... */
  readonly serviceId: string;
  /** com.amazonaws.vpce.eu-west-1.vpce-svc-... */
  readonly serviceName: string;
}

export async function seedAws(endpoint: string, options: SeedOptions = {}): Promise<SeededAws> {
  const {
    targetGroups = [{ name: 'rds-writer', port: 5432 }],
    allowedPrincipals = [FIVETRAN_PRINCIPAL],
    loadBalancerName = 'rds-nlb-sync',
  } = options;
  const config = emulatorClientConfig(endpoint);
  const ec2 = new EC2Client(config);
  const elb = new ElasticLoadBalancingV2Client(config);
  try {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
    const vpcId = required(Vpc?.VpcId, 'CreateVpc: VpcId');
    // As the VPCs RDS and interface endpoints with private DNS need (doctor: vpc.dns).
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
    const subnetIds: string[] = [];
    for (const [cidr, zone] of [
      ['10.0.1.0/24', 'eu-west-1a'],
      ['10.0.2.0/24', 'eu-west-1b'],
    ] as const) {
      const { Subnet } = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }));
      subnetIds.push(required(Subnet?.SubnetId, 'CreateSubnet: SubnetId'));
    }

    const { LoadBalancers } = await elb.send(
      new CreateLoadBalancerCommand({ Name: loadBalancerName, Type: 'network', Scheme: 'internal', Subnets: subnetIds }),
    );
    const loadBalancerArn = required(LoadBalancers?.[0]?.LoadBalancerArn, 'CreateLoadBalancer: LoadBalancerArn');

    const targetGroupArns: string[] = [];
    for (const group of targetGroups) {
      const { TargetGroups } = await elb.send(
        new CreateTargetGroupCommand({
          Name: group.name,
          TargetType: 'ip',
          Protocol: 'TCP',
          Port: group.port,
          VpcId: vpcId,
        }),
      );
      const targetGroupArn = required(TargetGroups?.[0]?.TargetGroupArn, 'CreateTargetGroup: TargetGroupArn');
      const { Listeners } = await elb.send(
        new CreateListenerCommand({
          LoadBalancerArn: loadBalancerArn,
          Protocol: 'TCP',
          Port: group.listenerPort ?? group.port,
          DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
        }),
      );
      // As the stack creates it (nlbIdleTimeoutSeconds; doctor: nlb.idle-timeout).
      const listenerArn = required(Listeners?.[0]?.ListenerArn, 'CreateListener: ListenerArn');
      await elb.send(new ModifyListenerAttributesCommand({ ListenerArn: listenerArn, Attributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '3600' }] }));
      targetGroupArns.push(targetGroupArn);
    }

    const { ServiceConfiguration } = await ec2.send(
      new CreateVpcEndpointServiceConfigurationCommand({
        NetworkLoadBalancerArns: [loadBalancerArn],
        AcceptanceRequired: true,
      }),
    );
    const serviceId = required(ServiceConfiguration?.ServiceId, 'CreateVpcEndpointServiceConfiguration: ServiceId');
    const serviceName = required(ServiceConfiguration?.ServiceName, 'CreateVpcEndpointServiceConfiguration: ServiceName');
    await ec2.send(
      new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: serviceId, AddAllowedPrincipals: [...allowedPrincipals] }),
    );

    return { vpcId, subnetIds, loadBalancerArn, targetGroupArns, serviceId, serviceName };
  } finally {
    ec2.destroy();
    elb.destroy();
  }
}

export interface Target {
  readonly ip: string;
  readonly port: number;
  /** healthy, unhealthy, draining, ... (moto: healthy as soon as registered; emulators.elb.endpoint: AWS's timing). */
  readonly state: string;
}

/** The target group's targets, sorted by IP then port. */
export async function readTargets(endpoint: string, targetGroupArn: string): Promise<Target[]> {
  const elb = new ElasticLoadBalancingV2Client(emulatorClientConfig(endpoint));
  try {
    const { TargetHealthDescriptions = [] } = await elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
    );
    return TargetHealthDescriptions.map((description) => ({
      ip: required(description.Target?.Id, 'DescribeTargetHealth: Target.Id'),
      port: required(description.Target?.Port, 'DescribeTargetHealth: Target.Port'),
      state: description.TargetHealth?.State ?? 'unknown',
    })).sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }) || a.port - b.port);
  } finally {
    elb.destroy();
  }
}

export interface MetricReading {
  readonly name: string;
  /** Dimension name -> value, e.g. { TargetGroup: 'targetgroup/rds-writer/...' }. */
  readonly dimensions: Readonly<Record<string, string>>;
  /** Every value put under this name and these dimensions during the last hour. */
  readonly sum: number;
  readonly count: number;
  readonly maximum: number;
}

/**
 * What the service has put into `namespace`: one reading per metric name and dimension set,
 * sorted by name. Statistics over the last hour, which covers any test run.
 */
export async function readMetrics(endpoint: string, namespace: string): Promise<MetricReading[]> {
  const cloudwatch = new CloudWatchClient(emulatorClientConfig(endpoint));
  try {
    const { Metrics: listed = [] } = await cloudwatch.send(new ListMetricsCommand({ Namespace: namespace }));
    // moto lists a metric once per PutMetricData that carried it.
    const Metrics = [...new Map(listed.map((m) => [JSON.stringify([m.MetricName, m.Dimensions]), m])).values()];
    const now = Date.now();
    const readings = await Promise.all(
      Metrics.map(async (metric): Promise<MetricReading> => {
        const { Datapoints = [] } = await cloudwatch.send(
          new GetMetricStatisticsCommand({
            Namespace: namespace,
            MetricName: metric.MetricName,
            Dimensions: metric.Dimensions,
            StartTime: new Date(now - 3_600_000),
            EndTime: new Date(now + 60_000),
            Period: 3600,
            Statistics: ['Sum', 'SampleCount', 'Maximum'],
          }),
        );
        return {
          name: required(metric.MetricName, 'ListMetrics: MetricName'),
          dimensions: Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name ?? '', d.Value ?? ''])),
          sum: Datapoints.reduce((total, point) => total + (point.Sum ?? 0), 0),
          count: Datapoints.reduce((total, point) => total + (point.SampleCount ?? 0), 0),
          maximum: Math.max(...Datapoints.map((point) => point.Maximum ?? -Infinity)),
        };
      }),
    );
    return readings.sort((a, b) => a.name.localeCompare(b.name));
  } finally {
    cloudwatch.destroy();
  }
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`moto returned no ${what}`);
  return value;
}

export interface SeededCluster {
  readonly clusterId: string;
  /** The writer (cluster) endpoint, as moto names it: <id>.cluster-<hash>.<region>.rds.amazonaws.com */
  readonly writerEndpoint: string;
  /** The reader endpoint: <id>.cluster-ro-<hash>.<region>.rds.amazonaws.com */
  readonly readerEndpoint: string;
  /** Instance ID -> instance endpoint (moto: <id>.aaaaaaaaaa.<region>.rds.amazonaws.com), in creation order; the first is the writer. */
  readonly instanceEndpoints: Readonly<Record<string, string>>;
}

/**
 * An Aurora PostgreSQL cluster with these instances in moto (the first one created becomes the
 * writer). moto implements DescribeDBClusters, DescribeDBInstances and FailoverDBCluster, not
 * custom endpoints (DescribeDBClusterEndpoints answers an HTML 404).
 */
export async function seedAuroraCluster(endpoint: string, clusterId: string, instanceIds: readonly string[]): Promise<SeededCluster> {
  const rds = new RDSClient(emulatorClientConfig(endpoint));
  try {
    const engine = 'aurora-postgresql';
    const { DBCluster } = await rds.send(
      new CreateDBClusterCommand({ DBClusterIdentifier: clusterId, Engine: engine, MasterUsername: 'postgres', MasterUserPassword: 'not-a-secret-1' }),
    );
    const instanceEndpoints: Record<string, string> = {};
    for (const id of instanceIds) {
      const { DBInstance } = await rds.send(
        new CreateDBInstanceCommand({ DBInstanceIdentifier: id, DBClusterIdentifier: clusterId, Engine: engine, DBInstanceClass: 'db.r6g.large' }),
      );
      instanceEndpoints[id] = required(DBInstance?.Endpoint?.Address, 'CreateDBInstance: Endpoint.Address');
    }
    return {
      clusterId,
      writerEndpoint: required(DBCluster?.Endpoint, 'CreateDBCluster: Endpoint'),
      readerEndpoint: required(DBCluster?.ReaderEndpoint, 'CreateDBCluster: ReaderEndpoint'),
      instanceEndpoints,
    };
  } finally {
    rds.destroy();
  }
}

/** Makes `instanceId` the cluster's writer, as an Aurora failover does (moto swaps IsClusterWriter). */
export async function failoverCluster(endpoint: string, clusterId: string, instanceId: string): Promise<void> {
  const rds = new RDSClient(emulatorClientConfig(endpoint));
  try {
    await rds.send(new FailoverDBClusterCommand({ DBClusterIdentifier: clusterId, TargetDBInstanceIdentifier: instanceId }));
  } finally {
    rds.destroy();
  }
}
