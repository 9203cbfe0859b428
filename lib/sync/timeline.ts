// A followed failover as one record: when RDS said it happened, when a run first saw the new
// answer, when RegisterTargets answered, when ELB first reported the new target healthy and when
// the old target left the group. Pure: the follow (lib/sync/watch.ts) collects the facts, this
// builds the `failover timeline` log line and its metrics. Unknown stays absent, never zero.
import { mappingDimensions, mappingSeries, type MetricsBatch } from '../aws/metrics.js';
import type { Mapping, MappingMetrics } from '../config.js';

/** A pass that registered a new address while the group held the old one (lib/sync/run.ts). */
export interface Failover {
  /** Addresses registered that were not in service before the pass. */
  newAddresses: string[];
  /** Targets on the mapping's port the new answer no longer lists (deregistered, or deferred). */
  oldAddresses: string[];
  /** Epoch ms: the pass's resolution answered with the new answer. */
  seenAt: number;
  /** Epoch ms: RegisterTargets answered. */
  registeredAt: number;
}

/** Why the follow stopped. */
export type FollowEnd =
  | 'settled' // the new target healthy and the old one gone
  | 'bound' // FAILOVER_FOLLOW_SECONDS passed
  | 'deadline' // the Lambda deadline came first
  | 'left-group'; // the new target was deregistered (draining or gone) before it was seen healthy

export interface FollowFacts extends Failover {
  /** Epoch ms of the first read that showed every new target healthy. */
  healthyAt?: number;
  /** Epoch ms of the first read with no old target left in the group (draining ones count as present). */
  oldGoneAt?: number;
  /** The last state ELB gave for a new target that was not healthy yet. */
  last?: { state: string; reason?: string; description?: string };
  end: FollowEnd;
  reads: number;
  failedReads: number;
  /** The last read failed with this (the follow went on reading until its bound). */
  lastError?: { name: string; message: string };
  boundSeconds: number;
}

export type TimelineOutcome =
  | 'healthy' // ELB reported the new target healthy within the bound
  | 'not-healthy-within-bound' // it did not, and the last read said so
  | 'cut-by-deadline' // the Lambda deadline ended the follow first: unknown
  | 'left-group' // the new target left the group before it was healthy (a second failover, an operator)
  | 'unknown'; // the bound passed while the group could not be read

/** The context of the run that registered the target. */
export interface TimelineContext {
  trigger: string;
  /** The RDS event, when the run was started by one that concerns this mapping. */
  event?: { time?: string; eventId?: string };
}

/** The `failover timeline` log line's fields (exactly what docs/operate.md's query reads). */
export interface FailoverTimeline {
  endpoint: string;
  targetGroupArn: string;
  port: number;
  newAddresses: string[];
  oldAddresses: string[];
  trigger: string;
  outcome: TimelineOutcome;
  /** What the seconds count from: the RDS event's own time, or the first sighting of the new answer (no event, or an implausible time). */
  secondsFrom: 'event' | 'first-seen';
  eventId?: string;
  eventTime?: string;
  seenAt: string;
  seenSeconds: number;
  registeredAt: string;
  registeredSeconds: number;
  healthyAt?: string;
  healthySeconds?: number;
  oldGoneAt?: string;
  oldGoneSeconds?: number;
  /** AWS's own term: registration plus health checks. */
  registeredToHealthySeconds?: number;
  followBoundSeconds: number;
  reads: number;
  failedReads?: number;
  lastState?: string;
  lastReason?: string;
  lastDescription?: string;
  error?: { name: string; message: string };
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * An event older than Lambda's longest event age (6 h) cannot have been delivered by EventBridge:
 * a replayed or hand-written payload. Its time is reported but not counted from.
 */
export const MAX_EVENT_AGE_MS = 6 * 3600_000;
/** Clocks differ a little; an event stamped later than this after the sighting is not believed. */
const EVENT_CLOCK_SKEW_MS = 60_000;
const seconds = (ms: number) => Math.round(ms) / 1000;

export function timelineOutcome(facts: FollowFacts): TimelineOutcome {
  if (facts.healthyAt !== undefined) return 'healthy';
  switch (facts.end) {
    case 'left-group':
      return 'left-group';
    case 'deadline':
      return 'cut-by-deadline';
    default:
      return facts.lastError ? 'unknown' : 'not-healthy-within-bound';
  }
}

export function buildTimeline(mapping: Pick<Mapping, 'endpoint' | 'targetGroupArn' | 'port'>, facts: FollowFacts, context: TimelineContext): FailoverTimeline {
  const eventMs = context.event?.time ? Date.parse(context.event.time) : NaN;
  const hasEvent = Number.isFinite(eventMs) && facts.seenAt - eventMs <= MAX_EVENT_AGE_MS && eventMs - facts.seenAt <= EVENT_CLOCK_SKEW_MS;
  const origin = hasEvent ? eventMs : facts.seenAt;
  const at = (ms: number | undefined, name: string) => (ms === undefined ? {} : { [`${name}At`]: iso(ms), [`${name}Seconds`]: seconds(ms - origin) });
  const outcome = timelineOutcome(facts);
  return {
    endpoint: mapping.endpoint,
    targetGroupArn: mapping.targetGroupArn,
    port: mapping.port,
    newAddresses: facts.newAddresses,
    oldAddresses: facts.oldAddresses,
    trigger: context.trigger,
    outcome,
    secondsFrom: hasEvent ? 'event' : 'first-seen',
    ...(context.event?.eventId ? { eventId: context.event.eventId } : {}),
    ...(Number.isFinite(eventMs) ? { eventTime: iso(eventMs) } : {}),
    seenAt: iso(facts.seenAt),
    seenSeconds: seconds(facts.seenAt - origin),
    registeredAt: iso(facts.registeredAt),
    registeredSeconds: seconds(facts.registeredAt - origin),
    ...(at(facts.healthyAt, 'healthy') as { healthyAt?: string; healthySeconds?: number }),
    ...(at(facts.oldGoneAt, 'oldGone') as { oldGoneAt?: string; oldGoneSeconds?: number }),
    ...(facts.healthyAt !== undefined ? { registeredToHealthySeconds: seconds(facts.healthyAt - facts.registeredAt) } : {}),
    followBoundSeconds: facts.boundSeconds,
    reads: facts.reads,
    ...(facts.failedReads > 0 ? { failedReads: facts.failedReads } : {}),
    ...(outcome !== 'healthy' && facts.last
      ? { lastState: facts.last.state, ...(facts.last.reason ? { lastReason: facts.last.reason } : {}), ...(facts.last.description ? { lastDescription: facts.last.description } : {}) }
      : {}),
    ...(outcome !== 'healthy' && facts.lastError ? { error: facts.lastError } : {}),
  };
}

/**
 * The run's failover metrics, per mapping (TargetGroup, Endpoint, Port) and run level. A timing
 * only when both ends were observed; FailoversNotHealthy only for a follow that reached its bound
 * with the group readable (1) or saw the target healthy (0): a follow cut short counts nowhere.
 */
export function addTimelineMetrics(batch: MetricsBatch, timelines: FailoverTimeline[], mode: MappingMetrics): MetricsBatch {
  const notHealthy: number[] = [];
  for (const t of timelines) {
    const add = mappingSeries(batch, mode, mappingDimensions(t));
    const series: [string, number | undefined][] = [];
    if (t.secondsFrom === 'event') series.push(['FailoverEventToRegistered', t.registeredSeconds], ['FailoverEventToHealthy', t.healthySeconds]);
    series.push(['FailoverRegisteredToHealthy', t.registeredToHealthySeconds]);
    for (const [name, value] of series) {
      if (value === undefined) continue;
      add(name, value, 'timing', 'Seconds');
      batch.add(name, value, 'Seconds');
    }
    const counted = t.outcome === 'healthy' ? 0 : t.outcome === 'not-healthy-within-bound' ? 1 : undefined;
    if (counted !== undefined) {
      add('FailoversNotHealthy', counted, 'count');
      notHealthy.push(counted);
    }
  }
  if (notHealthy.length > 0) batch.add('FailoversNotHealthy', notHealthy.reduce((a, b) => a + b, 0));
  return batch;
}
