// What started a sync run: an EventBridge schedule tick, an RDS event, or a manual invoke.
// Anything else is refused before any AWS call (a typo must not become a partial run).
import * as z from 'zod/mini';
import { normalizeHostname, type SyncConfig } from '../config.js';
import { parsePayload, refuseManualFields } from '../payload.js';
import { within } from '../deadline.js';
import { InvalidPayloadError } from '../errors.js';
import { parseRdsEndpoint } from '../rds-endpoint.js';
import type { RdsSource, SyncRequest } from './run.js';

const scheduled = z.object({ source: z.literal('aws.events'), 'detail-type': z.literal('Scheduled Event') });

const rdsEvent = z.object({
  source: z.literal('aws.rds'),
  'detail-type': z.string(),
  // When RDS says it happened (ISO 8601): a failover timeline counts from it.
  time: z.optional(z.string()),
  detail: z.object({
    SourceIdentifier: z.string().check(z.minLength(1)),
    SourceArn: z.optional(z.string()),
    SourceType: z.optional(z.string()),
    EventID: z.optional(z.string()),
    Message: z.optional(z.string()),
  }),
});

const manual = z.strictObject({
  force: z.optional(z.boolean()),
  dryRun: z.optional(z.boolean()),
  endpoints: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
});

const MANUAL_FIELDS = Object.keys(manual.shape);
const MANUAL_HELP = 'expected an EventBridge schedule or aws.rds event, or a manual payload {"force"?: boolean, "dryRun"?: boolean, "endpoints"?: string[]}';
const RDS_HELP = 'expected an aws.rds event as EventBridge delivers it: {"source":"aws.rds","detail-type":"RDS DB ... Event","detail":{"SourceIdentifier":"<instance or cluster>","EventID":"RDS-EVENT-...",...}}';

export function parseSyncEvent(event: unknown, config: SyncConfig): SyncRequest {
  if (event === undefined || event === null || event === '') return { trigger: 'manual', force: false, dryRun: false };
  if (isEventBridge(event)) {
    refuseManualFields(event, MANUAL_FIELDS, 'sync event', MANUAL_HELP);
    if (scheduled.safeParse(event).success) return { trigger: 'schedule', force: false, dryRun: false };
    if (event.source !== 'aws.rds') {
      throw new InvalidPayloadError(`Invalid sync event: source ${JSON.stringify(event.source)}, detail-type ${JSON.stringify(event['detail-type'])} is neither the schedule (aws.events, "Scheduled Event") nor an RDS event (aws.rds)`);
    }
    const { detail, 'detail-type': detailType, time } = parsePayload(rdsEvent, event, 'RDS event', RDS_HELP);
    const source = readRdsSource(detail, detailType);
    return {
      trigger: 'rds-event',
      force: false,
      dryRun: false,
      watch: [],
      event: {
        sourceIdentifier: detail.SourceIdentifier,
        ...(detail.EventID ? { eventId: detail.EventID } : {}),
        ...(detail.Message ? { message: detail.Message } : {}),
        ...(time && Number.isFinite(Date.parse(time)) ? { time } : {}),
        source,
      },
    };
  }

  const { force = false, dryRun = false, endpoints } = parsePayload(manual, event, 'sync payload', MANUAL_HELP);
  if (endpoints) {
    // Compared as the config keeps endpoints: lower case, no trailing dot.
    const wanted = endpoints.map(normalizeHostname);
    const known = new Set(config.mappings.map((m) => m.endpoint));
    const unknown = endpoints.filter((_, i) => !known.has(wanted[i] ?? ''));
    if (unknown.length > 0) {
      throw new InvalidPayloadError(`Invalid sync payload: endpoints ${unknown.join(', ')} not configured; configured: ${[...known].join(', ')}`);
    }
    return { trigger: 'manual', force, dryRun, endpoints: wanted };
  }
  return { trigger: 'manual', force, dryRun };
}

/** An EventBridge envelope: whatever else it holds, it is not a manual payload. */
const isEventBridge = (event: unknown): event is { source?: unknown; 'detail-type'?: unknown } =>
  typeof event === 'object' && event !== null && ('source' in event || 'detail-type' in event);

// arn:aws:rds:<region>:<account>:db:<id> | :cluster:<id> | :deployment:<bgd-id>
const RDS_ARN = /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:(db|cluster|deployment):([^:]+)$/i;
const ARN_KINDS = { db: 'instance', cluster: 'cluster', deployment: 'blue-green' } as const;

/** SourceIdentifier may be `<id>`, `rds:<id>` (AWS's own examples) or a full ARN; SourceType and detail-type tell the kind. */
export function readRdsSource(detail: { SourceIdentifier: string; SourceArn?: string | undefined; SourceType?: string | undefined }, detailType: string): RdsSource {
  const raw = detail.SourceIdentifier.trim();
  const arn = RDS_ARN.exec(raw) ?? (detail.SourceArn ? RDS_ARN.exec(detail.SourceArn.trim()) : null);
  const id = (RDS_ARN.test(raw) && arn ? (arn[2] ?? raw) : raw.replace(/^rds:/i, '')).toLowerCase();
  const fromArn = arn ? ARN_KINDS[(arn[1] ?? '').toLowerCase() as keyof typeof ARN_KINDS] : undefined;
  const type = `${detail.SourceType ?? ''} ${detailType}`.toUpperCase();
  const kind =
    fromArn ??
    (/BLUE.?GREEN/.test(type) || id.startsWith('bgd-') ? 'blue-green' : /CLUSTER/.test(type) ? 'cluster' : /INSTANCE/.test(type) ? 'instance' : 'unknown');
  return { kind, id };
}

/** The RDS reads matching needs (lib/aws/rds-source.ts), injectable for tests. */
export interface RdsLookup {
  clusterOfInstance(instanceId: string): Promise<string | undefined>;
  clusterOfCustomEndpoint(endpointName: string): Promise<string | undefined>;
  blueGreenMembers(deploymentId: string): Promise<string[]>;
}

export interface EventMatch {
  /** The mappings the event concerns: these are watched; the others are synced once. */
  watch: string[];
  /** The clusters the event concerns, found through RDS where the source is an instance or a deployment. */
  clusters: string[];
  /** RDS lookups that failed: matching went on without them. */
  lookupErrors: string[];
}

/**
 * How long matching may wait for RDS before the run starts: every mapping, the writer too, waits
 * for it, so it is short. The lookups run in parallel; one that has not answered by then counts as
 * failed (lookupErrors) and matching goes on without it, as for an RDS error.
 */
export const MATCH_BUDGET_MS = 2000;

/**
 * The mappings an RDS event concerns. The event rule matches event IDs account-wide, so most
 * events concern no mapping: those sync everything once and watch nothing. Lookups end by `until`
 * (epoch ms).
 */
export async function matchRdsEvent(source: RdsSource, config: SyncConfig, lookup: RdsLookup, until = Date.now() + MATCH_BUDGET_MS): Promise<EventMatch> {
  const instances = new Set<string>();
  const clusters = new Set<string>();
  const lookupErrors: string[] = [];
  const budgetMs = Math.max(0, until - Date.now());
  const tryLookup = async <T>(what: string, call: () => Promise<T>): Promise<T | undefined> => {
    try {
      const answer = await within(call(), until - Date.now());
      if (answer.done) return answer.value;
      lookupErrors.push(`${what}: no answer within ${budgetMs} ms (check the route to the rds API); matched without it`);
    } catch (err) {
      lookupErrors.push(`${what}: ${(err as Error).name}: ${(err as Error).message}`);
    }
    return undefined;
  };
  const kinds = config.mappings.map((m) => ({ endpoint: m.endpoint, ...parseRdsEndpoint(m.endpoint) }));
  const needsCluster = kinds.some((k) => k.kind === 'cluster' || k.kind === 'reader' || k.kind === 'custom');

  if (source.kind === 'instance' || source.kind === 'unknown') instances.add(source.id);
  if (source.kind === 'cluster' || source.kind === 'unknown') clusters.add(source.id);
  if (source.kind === 'blue-green') {
    for (const arn of (await tryLookup(`DescribeBlueGreenDeployments ${source.id}`, () => lookup.blueGreenMembers(source.id))) ?? []) {
      const member = RDS_ARN.exec(arn);
      if (member?.[1]?.toLowerCase() === 'db') instances.add((member[2] ?? '').toLowerCase());
      if (member?.[1]?.toLowerCase() === 'cluster') clusters.add((member[2] ?? '').toLowerCase());
    }
  }
  // Aurora instance names need not start with the cluster's: ask RDS which cluster it is in. A
  // custom endpoint's name is its own, not its cluster's: ask RDS too. All at once, not in turn.
  const customs = kinds.filter((k) => k.kind === 'custom');
  const [instanceClusters, customClusters] = await Promise.all([
    Promise.all(needsCluster ? [...instances].map((id) => tryLookup(`DescribeDBInstances ${id}`, () => lookup.clusterOfInstance(id))) : []),
    Promise.all(clusters.size + instances.size > 0 ? customs.map((k) => tryLookup(`DescribeDBClusterEndpoints ${k.identifier}`, () => lookup.clusterOfCustomEndpoint(k.identifier))) : []),
  ]);
  for (const cluster of instanceClusters) if (cluster) clusters.add(cluster);
  const clusterOfCustom = new Map(customs.map((k, i) => [k.endpoint, customClusters[i]]));

  const watch: string[] = [];
  for (const k of kinds) {
    let matches = false;
    if (k.kind === 'instance' || k.kind === 'other') matches = instances.has(k.identifier) || clusters.has(k.identifier);
    else if (k.kind === 'cluster' || k.kind === 'reader') matches = clusters.has(k.identifier);
    else if (k.kind === 'custom') {
      const cluster = clusterOfCustom.get(k.endpoint);
      matches = cluster !== undefined && clusters.has(cluster);
    }
    if (matches) watch.push(k.endpoint);
  }
  // Sorted: the lookups run at once, so the order they ended in says nothing.
  return { watch, clusters: [...clusters], lookupErrors: lookupErrors.sort() };
}

/** An RDS event's request with its watch list: the mappings the event concerns. Lookups end by `until` (epoch ms). */
export async function withEventMatch(request: SyncRequest, config: SyncConfig, lookup: RdsLookup, until?: number): Promise<SyncRequest> {
  const source = request.event?.source;
  if (!source || !request.event) return request;
  const match = await matchRdsEvent(source, config, lookup, until);
  return {
    ...request,
    watch: match.watch,
    event: { ...request.event, matched: match.watch, ...(match.clusters.length ? { clusters: match.clusters } : {}), ...(match.lookupErrors.length ? { lookupErrors: match.lookupErrors } : {}) },
  };
}
