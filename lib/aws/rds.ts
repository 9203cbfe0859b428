// The RDS adapter: which instances a reader or custom endpoint serves, and each one's instance
// endpoint. Read-only, and a fixed number of calls per endpoint (asserted in test/aws/rds.test.ts):
//   reader endpoint: DescribeDBClusters + DescribeDBInstances                              = 2 calls
//   custom endpoint: DescribeDBClusterEndpoints + DescribeDBClusters + DescribeDBInstances = 3 calls
// DescribeDBInstances is one call for all members (a cluster has at most 16 instances; a page
// holds 100): the paginator only asks again if AWS ever returns a Marker.
// A pass over many mappings reads them all at once instead (readMemberSets, called by
// lib/sync/run.ts before the first passes, and for the re-syncs during a watch): one paginated
// DescribeDBClusterEndpoints, one DescribeDBClusters and one DescribeDBInstances per 100 clusters
// or custom endpoints (a filter takes at most 100 identifiers), whatever the number of mappings;
// the pass it was made for uses that answer and makes no RDS call of its own.
// Within one run (RdsReads, created per run by lib/sync/run.ts) a watch that polls every 2 s asks
// again only what can change during a failover: DescribeDBClusters (which instance is the writer,
// which are members). A custom endpoint's rule and an instance's endpoint name (fixed for its
// identifier) are read once per run, so a watched reader endpoint costs 1 call per poll instead
// of 2, a custom one 1 instead of 3; mappings of one cluster read it once at a time.
import {
  DescribeDBClusterEndpointsCommand,
  DescribeDBClustersCommand,
  paginateDescribeDBClusterEndpoints,
  paginateDescribeDBClusters,
  paginateDescribeDBInstances,
  type DBCluster,
  type DBClusterEndpoint,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { describeError } from '../log.js';
import type { RdsEndpoint } from '../rds-endpoint.js';

export interface ClusterMember {
  id: string;
  writer: boolean;
}

/** How a custom endpoint picks its members (DescribeDBClusterEndpoints). */
export interface CustomEndpointRule {
  /** READER: readers only; ANY: readers and the writer. */
  type: string;
  /** When not empty: exactly these instances (that are eligible). */
  staticMembers: string[];
  /** Used only when staticMembers is empty: every eligible instance but these. */
  excludedMembers: string[];
}

export interface MemberInstance {
  id: string;
  /** The instance endpoint's DNS name; null while the instance has none (being created, or gone). */
  endpoint: string | null;
}

/**
 * What one run reuses between its RDS reads. Only successful reads are kept (a failed one is asked
 * again: unknown is retried, never remembered); a new run starts empty, so an RDS event's run
 * always reads the custom endpoint rules afresh.
 */
export class RdsReads {
  readonly customRules = new Map<string, Promise<CustomRule>>();
  /** Cluster reads in flight: concurrent mappings of one cluster share one call (not kept after it answers). */
  readonly clustersInFlight = new Map<string, Promise<ClusterMember[]>>();
  /** Instance ID -> its endpoint name (fixed for the identifier). */
  readonly instanceEndpoints = new Map<string, string>();
}

function shared<T>(map: Map<string, Promise<T>>, key: string, read: () => Promise<T>, keep: boolean): Promise<T> {
  const known = map.get(key);
  if (known) return known;
  const p = read().then(
    (value) => {
      if (!keep) map.delete(key);
      return value;
    },
    (err: unknown) => {
      map.delete(key);
      throw err;
    },
  );
  map.set(key, p);
  return p;
}

const IAM_FIX =
  'The sync role needs rds:DescribeDBClusters, rds:DescribeDBInstances and rds:DescribeDBClusterEndpoints for reader and custom endpoints (docs: "Reader and custom endpoints").';
const NETWORK_FIX =
  'The function cannot reach the RDS API: in a VPC it needs a NAT gateway or an rds interface endpoint (createApiEndpoints).';

/** An RDS API call failed: the members are unknown (not "none"), so nothing may be removed. */
export class RdsApiError extends Error {
  override name = 'RdsApiError';
  constructor(
    readonly api: string,
    readonly resource: string,
    options: { cause: unknown },
  ) {
    const { name, message } = describeError(options.cause);
    super(`RDS ${api} failed for ${resource}: ${name}: ${message}. ${fixFor(options.cause)}`, options);
  }
}

function fixFor(cause: unknown): string {
  const { name, message } = describeError(cause);
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (/AccessDenied|UnauthorizedOperation|not authorized/i.test(`${name} ${message}`)) return IAM_FIX;
  if (/NotFound/i.test(name)) return 'Check the endpoint name, and that the function runs in the endpoint\'s region (the region is part of the name).';
  if (/Throttl|RequestLimitExceeded|TooManyRequests/i.test(name)) return 'RDS throttled the call after the SDK\'s retries: the next run tries again; nothing was removed meanwhile.';
  if (/Timeout|ECONNREFUSED|ENOTFOUND|ECONNRESET|EHOSTUNREACH|ETIMEDOUT/i.test(`${name} ${code}`)) return NETWORK_FIX;
  return `${IAM_FIX} ${NETWORK_FIX}`;
}

const notFound = (what: string) => Object.assign(new Error(`${what} not found`), { name: 'NotFound' });

/**
 * What a reader endpoint serves: every reader; a cluster without readers, its writer
 * (AWS: "If the cluster only contains a primary instance ... the reader endpoint connects to the primary instance").
 */
export function readerMembers(members: ClusterMember[]): string[] {
  const readers = members.filter((m) => !m.writer);
  return (readers.length > 0 ? readers : members).map((m) => m.id);
}

/**
 * What a custom endpoint serves, as AWS documents it: a READER endpoint holds readers only (a
 * listed instance that became the writer drops out); a non-empty static list is exactly those
 * instances, an empty one means every eligible member but the excluded ones. Instances that
 * are no longer cluster members are never served.
 */
export function customMembers(rule: CustomEndpointRule, members: ClusterMember[]): string[] {
  const eligible = rule.type.toUpperCase() === 'READER' ? members.filter((m) => !m.writer) : members;
  const listed = new Set(rule.staticMembers.length > 0 ? rule.staticMembers : rule.excludedMembers);
  const inStatic = rule.staticMembers.length > 0;
  return eligible.filter((m) => listed.has(m.id) === inStatic).map((m) => m.id);
}

/**
 * The instances behind a reader or custom endpoint, with their instance endpoints, in member order.
 * With `primed` (a batched read made for this pass: readMemberSets) that names the endpoint, its
 * answer is used and no call is made.
 */
export async function listMemberInstances(rds: RDSClient, endpoint: RdsEndpoint, reads?: RdsReads, primed?: MemberSetsRead): Promise<MemberInstance[]> {
  if (primed?.has(endpoint)) return primed.members(endpoint);
  const cluster = (id: string) => (reads ? shared(reads.clustersInFlight, id, () => describeClusterMembers(rds, id), false) : describeClusterMembers(rds, id));
  let ids: string[];
  if (endpoint.kind === 'custom') {
    const id = endpoint.identifier;
    const rule = await (reads ? shared(reads.customRules, id, () => describeCustomEndpoint(rds, id), true) : describeCustomEndpoint(rds, id));
    ids = customMembers(rule, await cluster(rule.clusterId));
  } else if (endpoint.kind === 'reader') {
    ids = readerMembers(await cluster(endpoint.identifier));
  } else {
    throw new Error(`${endpoint.identifier} is a ${endpoint.kind} endpoint, not a reader or custom one`);
  }
  const known = reads?.instanceEndpoints;
  const missing = known ? ids.filter((id) => !known.has(id)) : ids;
  const addresses = await describeInstanceEndpoints(rds, missing);
  // An instance without an endpoint yet (being created) is not remembered: asked again next time.
  if (known) for (const [id, address] of addresses) known.set(id, address);
  return ids.map((id) => ({ id, endpoint: addresses.get(id) ?? known?.get(id) ?? null }));
}

async function describeCustomEndpoint(rds: RDSClient, id: string): Promise<CustomRule> {
  const api = 'DescribeDBClusterEndpoints';
  const found = await call(api, `custom endpoint ${id}`, async () => {
    const out = await rds.send(new DescribeDBClusterEndpointsCommand({ DBClusterEndpointIdentifier: id }));
    const ep = out.DBClusterEndpoints?.find((e) => e.DBClusterEndpointIdentifier?.toLowerCase() === id);
    if (!ep?.DBClusterIdentifier) throw notFound(`custom endpoint ${id}`);
    return ep;
  });
  return ruleOf(found);
}

type CustomRule = CustomEndpointRule & { clusterId: string };

const ruleOf = (found: DBClusterEndpoint): CustomRule => ({
  clusterId: (found.DBClusterIdentifier ?? '').toLowerCase(),
  type: found.CustomEndpointType ?? 'ANY',
  staticMembers: (found.StaticMembers ?? []).map((m) => m.toLowerCase()),
  excludedMembers: (found.ExcludedMembers ?? []).map((m) => m.toLowerCase()),
});

const membersOf = (cluster: DBCluster): ClusterMember[] =>
  (cluster.DBClusterMembers ?? []).flatMap((m) => (m.DBInstanceIdentifier ? [{ id: m.DBInstanceIdentifier.toLowerCase(), writer: m.IsClusterWriter === true }] : []));

async function describeClusterMembers(rds: RDSClient, clusterId: string): Promise<ClusterMember[]> {
  return call('DescribeDBClusters', `cluster ${clusterId}`, async () => {
    const out = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: clusterId }));
    const cluster = out.DBClusters?.[0];
    if (!cluster) throw notFound(`cluster ${clusterId}`);
    return membersOf(cluster);
  });
}

/** Instance ID -> instance endpoint address, in one DescribeDBInstances call (paginated for safety). */
async function describeInstanceEndpoints(rds: RDSClient, ids: string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  return call('DescribeDBInstances', `instances ${ids.join(', ')}`, async () => {
    const instances: DBInstance[] = [];
    for await (const page of paginateDescribeDBInstances({ client: rds }, { Filters: [{ Name: 'db-instance-id', Values: ids }] })) {
      instances.push(...(page.DBInstances ?? []));
    }
    return new Map(instances.flatMap((i) => (i.DBInstanceIdentifier && i.Endpoint?.Address ? [[i.DBInstanceIdentifier.toLowerCase(), i.Endpoint.Address]] : [])));
  });
}

/**
 * RDS refuses a filter with more than 100 identifiers ("Only up to 100 unique filter DB Cluster
 * Identifiers may be specified per filter", InvalidParameterCombination, as reported in
 * cloud-custodian/cloud-custodian#10133; the API reference states no limit): a batched read asks
 * in chunks of 100, for all three filters.
 */
export const FILTER_VALUES_MAX = 100;

type Answer<T> = { ok: true; value: T } | { ok: false; error: RdsApiError };

/**
 * One batched read of the member sets a pass serves (readMemberSets). lib/sync/run.ts hands it only
 * to the passes it was made for: each mapping's first pass, or the re-syncs during a watch that
 * start within one poll interval of it; a watch's polls read their cluster afresh. What a batched
 * answer left out is NotFound for the endpoints that name it; what a failed call was to answer is
 * that call's RdsApiError (unknown, not empty).
 */
export class MemberSetsRead {
  constructor(
    private readonly rules: Map<string, Answer<CustomRule>>,
    private readonly clusters: Map<string, Answer<ClusterMember[]>>,
    /** Per cluster: its instances' endpoint addresses (instance ID -> address). */
    private readonly instances: Map<string, Answer<Map<string, string>>>,
  ) {}

  /** Whether this read answers for the endpoint (it was among the endpoints read). */
  has(endpoint: RdsEndpoint): boolean {
    return endpoint.kind === 'custom' ? this.rules.has(endpoint.identifier) : endpoint.kind === 'reader' && this.clusters.has(endpoint.identifier);
  }

  /** The endpoint's members, as listMemberInstances answers; throws the RdsApiError of what could not be read. */
  members(endpoint: RdsEndpoint): MemberInstance[] {
    let clusterId = endpoint.identifier;
    let pick = readerMembers;
    if (endpoint.kind === 'custom') {
      const rule = settled(this.rules.get(endpoint.identifier), `custom endpoint ${endpoint.identifier}`);
      clusterId = rule.clusterId;
      pick = (members) => customMembers(rule, members);
    }
    const ids = pick(settled(this.clusters.get(clusterId), `cluster ${clusterId}`));
    if (ids.length === 0) return [];
    const addresses = settled(this.instances.get(clusterId), `cluster ${clusterId}`);
    return ids.map((id) => ({ id, endpoint: addresses.get(id) ?? null }));
  }
}

function settled<T>(answer: Answer<T> | undefined, what: string): T {
  if (!answer) throw new Error(`${what} was not part of this batched RDS read`);
  if (!answer.ok) throw answer.error;
  return answer.value;
}

/**
 * Every reader and custom endpoint of a pass at once, with the API's filters instead of one call
 * per endpoint: the custom endpoints' rules (DescribeDBClusterEndpoints, filter
 * db-cluster-endpoint-id), then their clusters and the reader endpoints' (DescribeDBClusters,
 * filter db-cluster-id) and those clusters' instances (DescribeDBInstances, filter db-cluster-id),
 * the last two side by side. Each paginated, 100 identifiers per filter. Never rejects: a failed
 * call is recorded as unknown for the endpoints that needed it. Custom rules and instance
 * endpoints read here are kept in `reads` for the rest of the run, as listMemberInstances keeps them.
 */
export async function readMemberSets(rds: RDSClient, endpoints: RdsEndpoint[], reads?: RdsReads): Promise<MemberSetsRead> {
  const ids = (kind: RdsEndpoint['kind']) => [...new Set(endpoints.filter((e) => e.kind === kind).map((e) => e.identifier))];
  const rules = new Map<string, Answer<CustomRule>>();
  await Promise.all(
    chunks(ids('custom')).map(async (chunk) => {
      const api = 'DescribeDBClusterEndpoints';
      const read = await attempt(() => collect(paginateDescribeDBClusterEndpoints({ client: rds }, { Filters: [{ Name: 'db-cluster-endpoint-id', Values: chunk }] }), (p) => p.DBClusterEndpoints));
      const found = new Map((read.ok ? read.value : []).flatMap((e) => (e.DBClusterEndpointIdentifier && e.DBClusterIdentifier ? [[e.DBClusterEndpointIdentifier.toLowerCase(), e] as const] : [])));
      for (const id of chunk) {
        const ep = found.get(id);
        const what = `custom endpoint ${id}`;
        rules.set(id, !read.ok ? failed(api, what, read.cause) : ep ? { ok: true, value: ruleOf(ep) } : failed(api, what, notFound(what)));
      }
    }),
  );
  const clusterIds = [...new Set([...ids('reader'), ...[...rules.values()].flatMap((r) => (r.ok ? [r.value.clusterId] : []))])];
  const clusters = new Map<string, Answer<ClusterMember[]>>();
  const instances = new Map<string, Answer<Map<string, string>>>();
  // Instances by db-cluster-id rather than db-instance-id: the filter holds clusters (up to 16
  // instances each, so up to 16 times fewer chunks), and the call does not wait for the members
  // DescribeDBClusters lists, so both run at once. A page holds 100 instances either way.
  const filter = (chunk: string[]) => ({ Filters: [{ Name: 'db-cluster-id', Values: chunk }] });
  await Promise.all(
    chunks(clusterIds).flatMap((chunk) => [
      attempt(() => collect(paginateDescribeDBClusters({ client: rds }, filter(chunk)), (p) => p.DBClusters)).then((read) => {
        const found = new Map((read.ok ? read.value : []).flatMap((c) => (c.DBClusterIdentifier ? [[c.DBClusterIdentifier.toLowerCase(), c] as const] : [])));
        for (const id of chunk) {
          const cluster = found.get(id);
          const what = `cluster ${id}`;
          clusters.set(id, !read.ok ? failed('DescribeDBClusters', what, read.cause) : cluster ? { ok: true, value: membersOf(cluster) } : failed('DescribeDBClusters', what, notFound(what)));
        }
      }),
      attempt(() => collect(paginateDescribeDBInstances({ client: rds }, filter(chunk)), (p) => p.DBInstances)).then((read) => {
        for (const id of chunk) instances.set(id, read.ok ? { ok: true, value: new Map() } : failed('DescribeDBInstances', `instances of cluster ${id}`, read.cause));
        for (const i of read.ok ? read.value : []) {
          const answer = instances.get(i.DBClusterIdentifier?.toLowerCase() ?? '');
          if (answer?.ok && i.DBInstanceIdentifier && i.Endpoint?.Address) answer.value.set(i.DBInstanceIdentifier.toLowerCase(), i.Endpoint.Address);
        }
      }),
    ]),
  );
  if (reads) {
    for (const [id, rule] of rules) if (rule.ok) reads.customRules.set(id, Promise.resolve(rule.value));
    for (const answer of instances.values()) if (answer.ok) for (const [id, address] of answer.value) reads.instanceEndpoints.set(id, address);
  }
  return new MemberSetsRead(rules, clusters, instances);
}

function chunks(values: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < values.length; i += FILTER_VALUES_MAX) out.push(values.slice(i, i + FILTER_VALUES_MAX));
  return out;
}

async function collect<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...(items(page) ?? []));
  return all;
}

async function attempt<T>(read: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; cause: unknown }> {
  try {
    return { ok: true, value: await read() };
  } catch (cause) {
    return { ok: false, cause };
  }
}

const failed = (api: string, resource: string, cause: unknown): { ok: false; error: RdsApiError } => ({ ok: false, error: new RdsApiError(api, resource, { cause }) });

async function call<T>(api: string, resource: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw new RdsApiError(api, resource, { cause: err });
  }
}

/** A cluster member with what failover order needs (warm standby: lib/warm/decide.ts ranks them). */
export interface FailoverMember {
  id: string;
  writer: boolean;
  promotionTier: number;
  instanceClass?: string;
  /** The instance endpoint's DNS name; null while the instance has none. */
  endpoint: string | null;
}

/**
 * An Aurora or Multi-AZ DB cluster's members, with IsClusterWriter and PromotionTier
 * (DescribeDBClusters) and instance class and endpoint (DescribeDBInstances): 2 calls.
 */
export async function listFailoverMembers(rds: RDSClient, clusterId: string): Promise<FailoverMember[]> {
  const members = await call('DescribeDBClusters', `cluster ${clusterId}`, async () => {
    const out = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: clusterId }));
    const cluster = out.DBClusters?.[0];
    if (!cluster) throw notFound(`cluster ${clusterId}`);
    return (cluster.DBClusterMembers ?? []).flatMap((m) =>
      // AWS's default tier is 1 (ModifyDBInstance PromotionTier); Multi-AZ DB clusters report none.
      m.DBInstanceIdentifier ? [{ id: m.DBInstanceIdentifier.toLowerCase(), writer: m.IsClusterWriter === true, promotionTier: m.PromotionTier ?? 1 }] : [],
    );
  });
  if (members.length === 0) return [];
  const ids = members.map((m) => m.id);
  const instances = await call('DescribeDBInstances', `instances ${ids.join(', ')}`, async () => {
    const found: DBInstance[] = [];
    for await (const page of paginateDescribeDBInstances({ client: rds }, { Filters: [{ Name: 'db-instance-id', Values: ids }] })) found.push(...(page.DBInstances ?? []));
    return new Map(found.flatMap((i) => (i.DBInstanceIdentifier ? [[i.DBInstanceIdentifier.toLowerCase(), i] as const] : [])));
  });
  return members.map((m) => {
    const i = instances.get(m.id);
    return { ...m, endpoint: i?.Endpoint?.Address ?? null, ...(i?.DBInstanceClass ? { instanceClass: i.DBInstanceClass } : {}) };
  });
}
