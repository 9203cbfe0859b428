// The database behind a mapping's endpoint, as the RDS API describes it: which instances serve
// the endpoint now or can come to serve it (a Multi-AZ standby, any member of a cluster), where
// they run, their security groups and parameter groups. The nlb.zones, db.security-groups and
// db.max-connect-errors checks read it; the endpoint name is read once, by parseRdsEndpoint.
import type { DBCluster, DBClusterEndpoint, DBInstance } from '@aws-sdk/client-rds';
import { parseRdsEndpoint } from '../rds-endpoint.js';
import { customMembers } from '../aws/rds.js';

export interface DbInstanceFacts {
  id: string;
  /** writer / reader of a cluster; `instance` for a DB instance outside any cluster. */
  role: 'writer' | 'reader' | 'instance';
  /** Where it runs now. */
  zone?: string;
  /** A Multi-AZ DB instance's standby: where a failover moves the endpoint. */
  standbyZone?: string;
  /** Zones of its DB subnet group: where RDS may place a replacement. */
  subnetGroupZones: string[];
  engine: string;
  port?: number;
  securityGroupIds: string[];
  parameterGroup?: string;
  clusterParameterGroup?: string;
}

export type DbTopology =
  | { known: true; /** "Aurora cluster orders", "DB instance billing" */ name: string; instances: DbInstanceFacts[] }
  | { known: false; why: string };

/** The RDS reads the topology needs; each answers undefined for "not found". */
export interface TopologyReads {
  dbInstance(id: string): Promise<DBInstance | undefined>;
  dbCluster(id: string): Promise<DBCluster | undefined>;
  clusterInstances(clusterId: string): Promise<DBInstance[]>;
  clusterEndpoint(id: string): Promise<DBClusterEndpoint | undefined>;
}

const unknown = (why: string): DbTopology => ({ known: false, why });

export async function readTopology(endpoint: string, region: string, rds: TopologyReads): Promise<DbTopology> {
  const parsed = parseRdsEndpoint(endpoint);
  if (parsed.kind === 'other') return unknown(`${endpoint} is not an RDS endpoint name, so doctor cannot look up the database behind it`);
  if (parsed.kind === 'proxy') return unknown(`${endpoint} is an RDS Proxy endpoint: doctor does not read a proxy's subnets or its database`);
  if (parsed.region && parsed.region !== region) return unknown(`${endpoint} is in ${parsed.region}, doctor reads ${region}: run doctor with --region ${parsed.region}`);

  if (parsed.kind === 'instance') {
    const instance = await rds.dbInstance(parsed.identifier);
    if (!instance) return unknown(`DB instance ${parsed.identifier} not found in ${region}`);
    const cluster = instance.DBClusterIdentifier ? await rds.dbCluster(instance.DBClusterIdentifier) : undefined;
    // An instance endpoint always names that one instance, in a cluster or not.
    const role = cluster ? (cluster.DBClusterMembers?.find((m) => m.DBInstanceIdentifier === instance.DBInstanceIdentifier)?.IsClusterWriter ? 'writer' : 'reader') : 'instance';
    return { known: true, name: `DB instance ${parsed.identifier}`, instances: [instanceFacts(instance, role, cluster)] };
  }

  let clusterId = parsed.identifier;
  let custom: DBClusterEndpoint | undefined;
  if (parsed.kind === 'custom') {
    custom = await rds.clusterEndpoint(parsed.identifier);
    if (!custom?.DBClusterIdentifier) return unknown(`custom endpoint ${parsed.identifier} not found in ${region}`);
    clusterId = custom.DBClusterIdentifier;
  }
  const cluster = await rds.dbCluster(clusterId);
  if (!cluster) return unknown(`DB cluster ${clusterId} not found in ${region}`);
  const members = eligibleMembers(cluster, custom);
  const instances = (await rds.clusterInstances(clusterId)).filter((i) => i.DBInstanceIdentifier && members.has(i.DBInstanceIdentifier));
  const writer = (id: string | undefined) => cluster.DBClusterMembers?.some((m) => m.DBInstanceIdentifier === id && m.IsClusterWriter) ?? false;
  const kind = (cluster.Engine ?? '').startsWith('aurora') ? 'Aurora cluster' : 'Multi-AZ DB cluster';
  return {
    known: true,
    name: `${kind} ${clusterId}${custom ? ` (custom endpoint ${parsed.identifier})` : ''}`,
    instances: instances.map((i) => instanceFacts(i, writer(i.DBInstanceIdentifier) ? 'writer' : 'reader', cluster)),
  };
}

/**
 * The members that serve the endpoint now or after a failover: every member for the cluster
 * (writer) and reader endpoints, since any member can be promoted or become a reader; a custom
 * endpoint's static members, or every member but its excluded ones.
 */
export function eligibleMembers(cluster: DBCluster, custom?: DBClusterEndpoint): Set<string> {
  const members = (cluster.DBClusterMembers ?? []).flatMap((m) => (m.DBInstanceIdentifier ? [{ id: m.DBInstanceIdentifier, writer: m.IsClusterWriter === true }] : []));
  if (!custom) return new Set(members.map((m) => m.id));
  // The membership rule sync uses, whatever the endpoint's type: a listed reader that becomes the writer still matters for zones.
  return new Set(customMembers({ type: 'ANY', staticMembers: custom.StaticMembers ?? [], excludedMembers: custom.ExcludedMembers ?? [] }, members));
}

export function instanceFacts(i: DBInstance, role: DbInstanceFacts['role'], cluster?: DBCluster): DbInstanceFacts {
  const subnetGroupZones = [...new Set((i.DBSubnetGroup?.Subnets ?? []).flatMap((s) => (s.SubnetAvailabilityZone?.Name ? [s.SubnetAvailabilityZone.Name] : [])))];
  const port = i.Endpoint?.Port ?? cluster?.Port;
  return {
    id: i.DBInstanceIdentifier ?? '',
    role,
    ...(i.AvailabilityZone ? { zone: i.AvailabilityZone } : {}),
    // Only a Multi-AZ instance outside a cluster has a standby; AWS names its zone.
    ...(role === 'instance' && i.MultiAZ && i.SecondaryAvailabilityZone ? { standbyZone: i.SecondaryAvailabilityZone } : {}),
    subnetGroupZones,
    engine: (i.Engine ?? cluster?.Engine ?? '').toLowerCase(),
    ...(port !== undefined ? { port } : {}),
    securityGroupIds: (i.VpcSecurityGroups ?? []).flatMap((g) => (g.VpcSecurityGroupId ? [g.VpcSecurityGroupId] : [])),
    ...(i.DBParameterGroups?.[0]?.DBParameterGroupName ? { parameterGroup: i.DBParameterGroups[0].DBParameterGroupName } : {}),
    ...(cluster?.DBClusterParameterGroup ? { clusterParameterGroup: cluster.DBClusterParameterGroup } : {}),
  };
}

/** Where the endpoint's addresses can be: each instance's zone, and a Multi-AZ standby's. */
export function servingZones(instances: DbInstanceFacts[]): { zone: string; who: string }[] {
  return instances.flatMap((i) => [
    ...(i.zone ? [{ zone: i.zone, who: `${i.id} (${i.role === 'reader' ? 'reader, can become the writer' : i.role})` }] : []),
    ...(i.standbyZone ? [{ zone: i.standbyZone, who: `${i.id}'s Multi-AZ standby` }] : []),
  ]);
}
