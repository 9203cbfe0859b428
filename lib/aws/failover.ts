// The RDS calls of a failover drill (cli/drill.ts): read the database (members, Multi-AZ, its
// endpoint), request the failover, and list the source's events since the request.
// Each is one call (DescribeEvents: one per page), through the CLI's clients and their timeouts.
import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  FailoverDBClusterCommand,
  RebootDBInstanceCommand,
  paginateDescribeEvents,
  type RDSClient,
} from '@aws-sdk/client-rds';

/** What the drill fails over: an Aurora or Multi-AZ DB cluster, or a Multi-AZ DB instance. */
export interface FailoverSource {
  kind: 'cluster' | 'instance';
  id: string;
}

export interface DatabaseInfo extends FailoverSource {
  status: string | null;
  /** The writer endpoint (cluster) or the instance endpoint; null while RDS has none. */
  endpoint: string | null;
  port: number | null;
  /** cluster: its instances and which one writes. */
  members?: { id: string; writer: boolean }[];
  /** instance: Multi-AZ (a standby to fail over to) or not. */
  multiAz?: boolean;
  /** instance: the cluster it belongs to (an Aurora instance fails over with its cluster). */
  clusterId?: string;
}

/** An RDS event of the source, as DescribeEvents gives it (no RDS-EVENT-nnnn ID: that is EventBridge's). */
export interface RdsEventRecord {
  message: string;
  /** RDS's own timestamp. */
  time: string;
  categories: string[];
}

export class DatabaseNotFoundError extends Error {
  override name = 'DatabaseNotFoundError';
}

const NOT_FOUND = new Set(['DBClusterNotFoundFault', 'DBInstanceNotFoundFault', 'DBInstanceNotFound']);

export async function describeDatabase(rds: RDSClient, source: FailoverSource): Promise<DatabaseInfo> {
  try {
    return source.kind === 'cluster' ? await describeCluster(rds, source.id) : await describeInstance(rds, source.id);
  } catch (err) {
    if (NOT_FOUND.has((err as Error).name)) {
      throw new DatabaseNotFoundError(`no DB ${source.kind} ${source.id} in this region and account (${(err as Error).name})`, { cause: err });
    }
    throw err;
  }
}

async function describeCluster(rds: RDSClient, id: string): Promise<DatabaseInfo> {
  const out = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: id }));
  const c = out.DBClusters?.[0];
  if (!c) throw new DatabaseNotFoundError(`no DB cluster ${id} in this region and account`);
  return {
    kind: 'cluster',
    id,
    status: c.Status ?? null,
    endpoint: c.Endpoint?.toLowerCase() ?? null,
    port: c.Port ?? null,
    members: (c.DBClusterMembers ?? []).flatMap((m) => (m.DBInstanceIdentifier ? [{ id: m.DBInstanceIdentifier.toLowerCase(), writer: m.IsClusterWriter === true }] : [])),
  };
}

async function describeInstance(rds: RDSClient, id: string): Promise<DatabaseInfo> {
  const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
  const i = out.DBInstances?.[0];
  if (!i) throw new DatabaseNotFoundError(`no DB instance ${id} in this region and account`);
  return {
    kind: 'instance',
    id,
    status: i.DBInstanceStatus ?? null,
    endpoint: i.Endpoint?.Address?.toLowerCase() ?? null,
    port: i.Endpoint?.Port ?? null,
    multiAz: i.MultiAZ === true,
    ...(i.DBClusterIdentifier ? { clusterId: i.DBClusterIdentifier.toLowerCase() } : {}),
  };
}

/**
 * FailoverDBCluster (optionally to one instance) or RebootDBInstance with ForceFailover. Never
 * retried by the caller: a request that timed out may have started the failover (rule 11).
 */
export async function requestFailover(rds: RDSClient, source: FailoverSource, targetInstance?: string): Promise<string> {
  if (source.kind === 'cluster') {
    await rds.send(new FailoverDBClusterCommand({ DBClusterIdentifier: source.id, ...(targetInstance ? { TargetDBInstanceIdentifier: targetInstance } : {}) }));
    return 'FailoverDBCluster';
  }
  await rds.send(new RebootDBInstanceCommand({ DBInstanceIdentifier: source.id, ForceFailover: true }));
  return 'RebootDBInstance (ForceFailover)';
}

/** The source's events since `since`, oldest first (DescribeEvents needs SourceType with SourceIdentifier). */
export async function listEvents(rds: RDSClient, source: FailoverSource, since: Date): Promise<RdsEventRecord[]> {
  const events: RdsEventRecord[] = [];
  const input = { SourceIdentifier: source.id, SourceType: source.kind === 'cluster' ? ('db-cluster' as const) : ('db-instance' as const), StartTime: since };
  for await (const page of paginateDescribeEvents({ client: rds }, input)) {
    for (const e of page.Events ?? []) {
      if (!e.Date || e.Date.getTime() < since.getTime()) continue;
      events.push({ message: e.Message ?? '', time: e.Date.toISOString(), categories: e.EventCategories ?? [] });
    }
  }
  return events.sort((a, b) => a.time.localeCompare(b.time));
}
