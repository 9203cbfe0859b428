// One sync run: for every mapping resolve, compare, register new targets, then deregister
// stale ones (re-checked against a fresh read: rule 8); then one summary log line and one
// PutMetricData for the whole run, all inside the Lambda deadline (rule 9).
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { RDSClient } from '@aws-sdk/client-rds';
import pLimit from 'p-limit';
import type { Mapping, MappingMetrics, SyncConfig } from '../config.js';
import { DnsError, type ResolveEndpoint } from '../dns.js';
import { describeError, type Log } from '../log.js';
import { within } from '../deadline.js';
import { mappingDimensions, mappingSeries, MetricsBatch } from '../aws/metrics.js';
import { isDraining, planTargets, type Plan, type PlanReason, type RegisteredTarget, type Resolution } from './plan.js';
import { deregisterTargets, describeTargets, registerTargets } from '../aws/targets.js';
import { primeMemberSets, resolveDesired, type DesiredDeps, type MemberResult } from './members.js';
import { RdsReads, type MemberSetsRead } from '../aws/rds.js';
import { canonicalIp, ipSet } from '../ip.js';
import { isMemberSet } from '../rds-endpoint.js';
import { decideRemoval, type DeferReason } from './overlap.js';
import { driveMapping, Watchers, type Clock, type MappingOptions, type Slot, type Step } from './watch.js';
import { addTimelineMetrics, buildTimeline, type Failover, type FailoverTimeline, type FollowFacts } from './timeline.js';
import { syncWarmMapping, type WarmSummary } from '../warm/run.js';
import { addProbeMetrics, type Probe, type ProbeResult } from './probe.js';
import { discoveryFailures, type DiscoveryReport } from './discovery.js';
import { Heartbeat } from './heartbeat.js';
import { maySkip, readKey, skippable, type ReadLedger } from './reads.js';

export interface SyncDeps {
  elb: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
  resolve: ResolveEndpoint;
  /** Reader and custom endpoint mappings list their members with it (lib/sync/members.ts). */
  rds?: RDSClient;
  rdsReads?: RdsReads;
  rdsPrimed?: MemberSetsRead;
  log: Log;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** The probe of the real path through the NLB (lib/sync/probe.ts), once per run after the mappings. */
  probe?: Probe;
  /** This container's last read of each group (lib/sync/reads.ts); without it every pass reads its group. */
  reads?: ReadLedger;
}

export type Trigger = 'schedule' | 'rds-event' | 'manual';

export interface SyncRequest {
  trigger: Trigger;
  force: boolean;
  dryRun: boolean;
  /** Only these endpoints (manual invoke); all mappings when absent. */
  endpoints?: string[];
  /** RDS event: keep re-resolving these endpoints until their answer changes or the watch window ends. */
  watch?: string[];
  /** The Lambda deadline (epoch ms): every phase of the run ends in time to log and report. */
  deadline?: number;
  /** The RDS event that started the run, and what it matched (lib/sync/event.ts), for the log. */
  event?: RdsEventInfo;
  /** Target groups found by tag (lib/sync/discovery.ts): the config's mappings include them; its failures fail the run. */
  discovery?: DiscoveryReport;
}

/** What an RDS event is about: its source, without `rds:` or the ARN around it, lower case. */
export interface RdsSource {
  kind: 'instance' | 'cluster' | 'blue-green' | 'unknown';
  id: string;
}

export interface RdsEventInfo {
  sourceIdentifier: string;
  eventId?: string;
  /** The event's own `time` (EventBridge envelope, ISO 8601): where a failover timeline starts. */
  time?: string;
  message?: string;
  source?: RdsSource;
  /** The mappings the event concerns (watched); the others were synced once. */
  matched?: string[];
  /** Clusters found through RDS (an instance's cluster, a deployment's members). */
  clusters?: string[];
  /** RDS lookups that failed; matching went on without them. */
  lookupErrors?: string[];
}

export class AddressRefusedError extends Error {
  override name = 'AddressRefusedError';
}

export interface MappingResult {
  endpoint: string;
  targetGroupArn: string;
  port: number;
  /** null when DNS could not tell */
  resolved: string[] | null;
  /** managed (non-draining) targets on the mapping's port before the run; null when the group could not be read */
  registered: string[] | null;
  /** null when the group could not be read (rule 10: unknown is not zero) */
  healthy: number | null;
  added: string[];
  removed: string[];
  /** `settled`: not read this run (its read budget); DNS answers what it did when the group was last read, in sync with a healthy target. */
  reason: PlanReason | 'settled' | 'error';
  /** Reader and custom endpoints: each member instance and what it resolved to */
  members?: MemberResult[];
  /** RDS-event watch: how many extra resolutions it took to see the change */
  polls?: number;
  /** Synced again during a watch (the schedule's runs wait meanwhile): how many passes in all. */
  syncs?: number;
  /** Rule 8: stale targets left for the next run, and why (lib/sync/overlap.ts). */
  deferred?: string[];
  deferReason?: DeferReason;
  durationMs: number;
  error?: { name: string; message: string; kind?: string };
  /** failoverMode warm: the writer, the weighted slot, what moved (lib/warm/run.ts). */
  warm?: WarmSummary;
}

export interface SyncSummary {
  trigger: Trigger;
  outcome: 'success' | 'failed';
  dryRun: boolean;
  force: boolean;
  durationMs: number;
  mappings: MappingResult[];
  failed: number;
  metricsSent: boolean;
  event?: SyncRequest['event'];
  /** Each followed failover's timeline (also logged on its own `failover timeline` line, not in the summary line). */
  failovers?: FailoverTimeline[];
  /** The real path through the NLB (lib/sync/probe.ts). */
  probe?: ProbeResult;
  discovery?: DiscoveryReport;
  /** SyncSuccess sent during the run, one a schedule interval, for the scheduled runs it held back. */
  heartbeats?: number;
  /** Mappings whose group was not read (settled, beyond the run's read budget: lib/sync/reads.ts). */
  settled?: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runSync(config: SyncConfig, request: SyncRequest, deps: SyncDeps): Promise<SyncSummary> {
  const clock: Clock = { now: deps.now ?? Date.now, sleep: deps.sleep ?? defaultSleep };
  const started = clock.now();
  const dryRun = request.dryRun || config.dryRun;
  const bounds = runBounds(started, config, request.deadline);
  const selected = request.endpoints ? config.mappings.filter((m) => request.endpoints?.includes(m.endpoint)) : config.mappings;
  const watched = new Set(bounds.watchUntil > started ? (request.watch ?? []) : []);
  // Every mapping is active until its first pass is done (lib/sync/watch.ts).
  const watchers = new Watchers(selected.length);
  const limit = pLimit(config.concurrency);
  // RDS reads reused within this run and its watch (lib/aws/rds.ts); the next run starts afresh.
  const runDeps: SyncDeps = { ...deps, rdsReads: new RdsReads() };
  // Reader and custom endpoints: one batched RDS read of them all (lib/aws/rds.ts readMemberSets)
  // before the first passes, used by each mapping's first pass only. A watch's polls read their
  // cluster afresh; the re-syncs during a watch share a batched read started at most one poll
  // interval before the pass (each mapping re-syncs on its own timer: there is no common round).
  const readAll = () => primeMemberSets(selected, runDeps, bounds.workUntil - clock.now());
  const primed = await readAll();
  const firstPasses = new Set(selected);
  let resyncRead: { at: number; read: Promise<MemberSetsRead | undefined> } | undefined;
  const passDeps = async (mapping: Mapping, options: MappingOptions): Promise<SyncDeps> => {
    if (firstPasses.delete(mapping)) return primed ? { ...runDeps, rdsPrimed: primed } : runDeps;
    if (options.watch || !isMemberSet(mapping.endpoint)) return runDeps;
    if (!resyncRead || clock.now() - resyncRead.at > config.failoverPollMs) resyncRead = { at: clock.now(), read: readAll() };
    const read = await resyncRead.read;
    return read ? { ...runDeps, rdsPrimed: read } : runDeps;
  };
  // A run that outlasts the schedule interval sends the heartbeat of the runs it holds back (lib/sync/heartbeat.ts).
  const heartbeat = new Heartbeat(started, config.scheduleIntervalMs);
  const beats: Promise<boolean>[] = [];
  const slot: Slot<MappingResult> = (mapping, options) =>
    limit(async () => syncWithin(mapping, options, bounds.workUntil, config, await passDeps(mapping, options), clock)).then((step) => {
      const beat = heartbeat.passed(step.result, clock.now());
      if (beat) beats.push(sendMetrics(new MetricsBatch().add('SyncSuccess', beat.failed === 0 ? 1 : 0), bounds.workUntil, config, deps, clock));
      return followedByWeights(mapping, step);
    });
  const read = (mapping: Mapping) => limit(() => withinDeadline(describeTargets(deps.elb, mapping.targetGroupArn), bounds.workUntil - clock.now(), 'DescribeTargetHealth'));
  const failovers: FailoverTimeline[] = [];
  // The event's time is a failover's origin only for the mappings the event concerns (watch or not).
  const concerned = new Set(request.watch ?? []);
  const followed = (mapping: Mapping, facts: FollowFacts, extra: Record<string, unknown> = {}) => {
    const { time, eventId } = request.event ?? {};
    const event = concerned.has(mapping.endpoint) && request.event ? { ...(time ? { time } : {}), ...(eventId ? { eventId } : {}) } : undefined;
    const timeline = buildTimeline(mapping, facts, { trigger: request.trigger, ...(event ? { event } : {}) });
    failovers.push(timeline);
    deps.log.info('failover timeline', { ...timeline, ...extra });
  };
  // Warm standby: a failover the weights alone followed is settled when ModifyListener answers.
  const followedByWeights = (mapping: Mapping, step: Step<MappingResult>) => {
    const facts = step.result.warm?.failover;
    if (facts) {
      delete step.result.warm?.failover;
      followed(mapping, facts, { failoverMode: 'warm', weightsChangedAt: new Date(facts.registeredAt).toISOString() });
    }
    return step;
  };

  // ELB's Describe* budget: the settled groups beyond it are read in later runs (lib/sync/reads.ts).
  const mayNotRead = deps.reads ? skippable(selected.map(readKey), deps.reads, config.targetReadsPerRun) : new Set<string>();
  const mappings = await Promise.all(
    selected.map((mapping) =>
      driveMapping(
        mapping,
        { force: request.force, dryRun, watch: watched.has(mapping.endpoint), ...(mayNotRead.has(readKey(mapping)) ? { maySkipRead: true } : {}) },
        { slot, watchers, bounds, config, clock, read, followed },
      ),
    ),
  );

  // After the mappings, so it sees the target group this run left (a failover followed included).
  const probe = deps.probe ? await deps.probe(bounds.workUntil) : undefined;
  await Promise.all(beats);
  const failed = mappings.filter((m) => m.error).length + discoveryFailures(request.discovery);
  const durationMs = clock.now() - started;
  const summary: SyncSummary = {
    trigger: request.trigger,
    outcome: failed > 0 ? 'failed' : 'success',
    dryRun,
    force: request.force,
    durationMs,
    mappings,
    failed,
    metricsSent: false,
    ...(request.event ? { event: request.event } : {}),
    ...(failovers.length > 0 ? { failovers } : {}),
    ...(probe ? { probe } : {}),
    ...(request.discovery ? { discovery: request.discovery } : {}),
    ...(heartbeat.beats.length > 0 ? { heartbeats: heartbeat.beats.length } : {}),
    ...(settledCount(mappings) > 0 ? { settled: settledCount(mappings) } : {}),
  };
  // Logged before the metrics are sent: a hanging CloudWatch call must not cost the run's record.
  const { metricsSent: _, failovers: _timelines, ...logged } = summary;
  deps.log.info('sync run', logged);
  const metrics = addProbeMetrics(addTimelineMetrics(syncMetrics(mappings, durationMs, dryRun, config.mappingMetrics, discoveryFailures(request.discovery)), failovers, config.mappingMetrics), probe);
  summary.metricsSent = await sendMetrics(metrics, bounds.metricsUntil, config, deps, clock);
  return summary;
}

/**
 * The run's time budget. With a Lambda deadline: the watch and the follows end early enough for
 * the register and deregister calls after them, mapping work stops short of the deadline so the summary is logged,
 * and the metrics get what is left.
 */
function runBounds(started: number, config: SyncConfig, deadline = Infinity) {
  return {
    watchUntil: Math.min(started + config.failoverWatchMs, deadline - FINISH_MARGIN_MS),
    // While something watches or follows, mappings are synced again as long as a pass fits.
    resyncUntil: deadline - FINISH_MARGIN_MS,
    // A follow only reads; it ends with the watch's margin so the re-syncs it holds open still fit.
    followUntil: deadline - FINISH_MARGIN_MS,
    workUntil: deadline - LOG_MARGIN_MS,
    metricsUntil: deadline - METRICS_MARGIN_MS,
  };
}

/** Kept back from the Lambda deadline: after the watch, for the register/deregister calls. */
export const FINISH_MARGIN_MS = 10_000;
/** After mapping work: for the summary line and the metrics. */
const LOG_MARGIN_MS = 2500;
const METRICS_MARGIN_MS = 500;

export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/** A pass that cannot end before the deadline reports what it did, and the run goes on to its summary. */
async function syncWithin(mapping: Mapping, options: MappingOptions, workUntil: number, config: SyncConfig, deps: SyncDeps, clock: Clock): Promise<Step<MappingResult>> {
  const result = emptyResult(mapping);
  const left = workUntil - clock.now();
  if (left <= 0) {
    result.error = describeError(new DeadlineError('not synced: the run reached the Lambda deadline first; the next run syncs it'));
    return { result, waiting: false };
  }
  if (!Number.isFinite(left)) return syncMapping(mapping, options, result, config, deps, clock);
  let timer: NodeJS.Timeout | undefined;
  // Once given up on, the pass must not change the group later (Lambda thaws it in the next invocation).
  const gate = { open: true };
  const timeout = new Promise<Step<MappingResult>>((resolve) => {
    timer = setTimeout(() => {
      gate.open = false;
      const unfinished = { ...result, reason: 'error' as const };
      unfinished.error = describeError(new DeadlineError(`did not finish before the Lambda deadline (${unfinishedPart(result)}); the next run completes it`));
      resolve({ result: unfinished, waiting: false });
    }, left);
  });
  try {
    return await Promise.race([syncMapping(mapping, { ...options, gate }, result, config, deps, clock), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const unfinishedPart = (r: MappingResult) => (r.resolved === null ? 'resolving or reading the target group' : r.added.length > 0 || r.reason === 'in-sync' ? 'deregistering' : 'registering');

function emptyResult(mapping: Mapping): MappingResult {
  return {
    endpoint: mapping.endpoint,
    targetGroupArn: mapping.targetGroupArn,
    port: mapping.port,
    resolved: null,
    registered: null,
    healthy: null,
    added: [],
    removed: [],
    reason: 'error',
    durationMs: 0,
  };
}

/** One pass: resolve, read, plan; unless watching and unchanged, register, re-read, deregister. Fills `result` as it goes. */
async function syncMapping(mapping: Mapping, options: MappingOptions, result: MappingResult, _config: SyncConfig, deps: SyncDeps, clock: Clock): Promise<Step<MappingResult>> {
  const started = clock.now();
  // Warm standby: the slots and the listener's weights instead of one target group.
  if (_config.warm?.slotArns.includes(mapping.targetGroupArn)) {
    const { waiting, ...fields } = await syncWarmMapping(mapping, _config.warm, options, deps);
    Object.assign(result, fields, { durationMs: clock.now() - started });
    return { result, waiting };
  }
  let registered: RegisteredTarget[] | undefined;
  /** When this pass read the group (not a watch poll reusing its first read). */
  let read: number | undefined;
  let waiting = false;
  let failover: Failover | undefined;
  try {
    // Rule 1: resolve first; the answer decides, the target group follows.
    const resolution = await resolve(mapping, deps);
    const answered = resolution.ok && !resolution.incomplete ? resolution.addresses : null;
    // Beyond the run's read budget, a settled group whose endpoint answers as before is not read (lib/sync/reads.ts).
    if (options.maySkipRead && maySkip(deps.reads?.get(readKey(mapping)), answered, options)) {
      Object.assign(result, { resolved: answered, reason: 'settled', durationMs: clock.now() - started, ...(resolution.members ? { members: resolution.members } : {}) });
      return { result, waiting: false };
    }
    // Rule 8's bound runs from the read the plan is made from to the deregister (lib/sync/overlap.ts).
    let readAt = clock.now();
    const seenAt = readAt;
    if (!options.registered) read = readAt;
    registered = options.registered ?? (await describeTargets(deps.elb, mapping.targetGroupArn));
    let plan = planTargets(resolution, registered, { port: mapping.port, force: options.force });
    if (options.registered && !isWaiting(plan)) {
      // The watch saw the change against the group as read when it began: act on a fresh read.
      readAt = read = clock.now();
      registered = await describeTargets(deps.elb, mapping.targetGroupArn);
      plan = planTargets(resolution, registered, { port: mapping.port, force: options.force });
    }

    Object.assign(result, {
      resolved: resolution.ok ? resolution.addresses : null,
      registered: registered.filter((t) => t.port === mapping.port && !isDraining(t)).map((t) => t.ip),
      healthy: countHealthy(resolution, registered, mapping.port),
      reason: plan.reason,
      ...(resolution.members ? { members: resolution.members } : {}),
    });
    // After a failover event DNS keeps the old answer for a while: the driver asks again.
    waiting = options.watch && isWaiting(plan);
    if (!resolution.ok) throw resolution.error;
    if (plan.reason === 'address-refused') throw refusedError(mapping, plan);
    if (waiting) return { result, waiting, registered };

    const stillOpen = () => {
      if (options.gate && !options.gate.open) throw new DeadlineError('given up at the Lambda deadline');
    };
    stillOpen();
    // Rule 3, make-before-break: a failed register throws before anything is deregistered.
    if (!options.dryRun) await registerTargets(deps.elb, mapping.targetGroupArn, plan.add, mapping.port, mapping.availabilityZone);
    result.added = plan.add;
    if (!options.dryRun) failover = failoverOf(plan, result.registered ?? [], seenAt, clock.now());
    if (options.dryRun || plan.remove.length === 0) {
      result.removed = plan.remove.map((t) => t.ip);
    } else {
      // Rule 8: re-read, and deregister only what is still safe to take out (lib/sync/overlap.ts).
      const now = await describeTargets(deps.elb, mapping.targetGroupArn);
      const decision = decideRemoval({ port: mapping.port, before: registered, added: plan.add, planned: plan.remove, now, ageMs: clock.now() - readAt });
      stillOpen();
      await deregisterTargets(deps.elb, mapping.targetGroupArn, decision.remove);
      result.removed = decision.remove.map((t) => t.ip);
      if (decision.reason) Object.assign(result, { deferred: decision.deferred.map((t) => t.ip), deferReason: decision.reason });
    }
    // A member that did not resolve: what resolved is registered, nothing removed, the mapping fails.
    if (resolution.ok && resolution.incomplete) throw resolution.incomplete;
  } catch (err) {
    result.error = { ...describeError(err), ...(err instanceof DnsError ? { kind: err.kind } : {}) };
    if (!(err instanceof DnsError) && result.reason !== 'address-refused') result.reason = 'error';
  }
  // What the next runs may skip: a group read in sync with a healthy target, while DNS agrees.
  if (read !== undefined) deps.reads?.record(readKey(mapping), result.error ? null : result.resolved, read, !result.error && result.reason === 'in-sync' && (result.healthy ?? 0) >= 1);
  result.durationMs = clock.now() - started;
  return { result, waiting, ...(registered ? { registered } : {}), ...(failover ? { failover } : {}) };
}

/**
 * A failover: the pass registered an address that was not in service while the group still held
 * one the new answer no longer lists. A first registration into an empty group (a new mapping, a
 * group emptied by hand) and a forced re-registration of the same addresses are not failovers.
 */
function failoverOf(plan: Plan, inService: string[], seenAt: number, registeredAt: number): Failover | undefined {
  const before = ipSet(inService);
  const newAddresses = plan.add.filter((ip) => !before.has(canonicalIp(ip)));
  const oldAddresses = plan.remove.map((t) => t.ip);
  if (newAddresses.length === 0 || oldAddresses.length === 0) return undefined;
  return { newAddresses, oldAddresses, seenAt, registeredAt };
}

/** A read raced against the time left: a follow must not hold the run past its deadline. */
async function withinDeadline<T>(call: Promise<T>, left: number, what: string): Promise<T> {
  const answer = await within(call, left);
  if (!answer.done) throw new DeadlineError(`${what} did not answer before the Lambda deadline`);
  return answer.value;
}

/** Sends the run's metrics within the time left; never fails the run (rule 9). */
async function sendMetrics(batch: MetricsBatch, until: number, config: SyncConfig, deps: SyncDeps, clock: Clock): Promise<boolean> {
  const sent = await within(batch.flush(deps.cloudwatch, config.metricsNamespace, deps.log), until - clock.now());
  if (sent.done) return sent.value;
  deps.log.error('metrics not sent', {
    namespace: config.metricsNamespace,
    metrics: batch.data.length,
    error: { name: 'DeadlineError', message: 'PutMetricData did not answer before the Lambda deadline: check the route to CloudWatch (NAT or the monitoring VPC endpoint)' },
  });
  return false;
}

const settledCount = (mappings: MappingResult[]) => mappings.filter((m) => m.reason === 'settled').length;

/** In sync, or DNS still failing: nothing has changed yet, keep watching. */
const isWaiting = (plan: Plan) => plan.reason === 'in-sync' || plan.reason === 'dns-failed';

/** DNS for writer/cluster/instance/proxy endpoints; the members' union for reader and custom ones. */
const resolve = (mapping: Mapping, deps: DesiredDeps) => resolveDesired(mapping, deps);

/** Healthy targets that are current: resolved addresses (or, if DNS failed, any managed target) in state healthy. */
function countHealthy(resolution: Resolution, registered: RegisteredTarget[], port: number): number {
  const current = resolution.ok ? ipSet(resolution.addresses) : undefined;
  return registered.filter((t) => t.port === port && t.state === 'healthy' && (!current || current.has(canonicalIp(t.ip)))).length;
}

function refusedError(mapping: Mapping, plan: Plan): AddressRefusedError {
  return new AddressRefusedError(
    `${mapping.endpoint} resolved to ${plan.refused.join(', ')}, which cannot be an NLB IP target (not a private address). ` +
      'The function is resolving from outside the database VPC or the DB instance is publicly accessible: run the function in the VPC (subnetIds/securityGroupIds) or set DNS_SERVERS to the VPC resolver.',
  );
}

function syncMetrics(mappings: MappingResult[], durationMs: number, dryRun: boolean, mode: MappingMetrics, otherFailures = 0): MetricsBatch {
  const batch = new MetricsBatch();
  const applied = (ips: string[]) => (dryRun ? 0 : ips.length);
  for (const m of mappings) {
    const add = mappingSeries(batch, mode, mappingDimensions(m));
    if (m.resolved) add('ResolvedAddresses', m.resolved.length, 'level');
    // Rule 10: a group that could not be read (AccessDenied, throttled, the deadline) sends no
    // datum: 0 would page "no healthy target" for an IAM or network fault. SyncErrors pages instead.
    if (m.registered !== null && m.healthy !== null) {
      add('RegisteredTargets', registeredAfter(m, m.registered, dryRun), 'level');
      add('HealthyTargets', m.healthy, 'level');
    }
    add('TargetsAdded', applied(m.added), 'count');
    add('TargetsRemoved', applied(m.removed), 'count');
    add('DnsFailures', m.error?.name === 'DnsError' ? 1 : 0, 'count');
    add('RdsApiFailures', m.error?.name === 'RdsApiError' ? 1 : 0, 'count');
    add('SyncErrors', m.error ? 1 : 0, 'count');
    add('RemovalsDeferred', m.deferred?.length ?? 0, 'count');
  }
  // Dimensionless run-level series: what the alarms watch.
  const sum = (f: (m: MappingResult) => number) => mappings.reduce((n, m) => n + f(m), 0);
  const failed = sum((m) => (m.error ? 1 : 0)) + otherFailures;
  batch
    .add('SyncSuccess', failed === 0 ? 1 : 0)
    .add('SyncErrors', failed)
    .add('DnsFailures', sum((m) => (m.error?.name === 'DnsError' ? 1 : 0)))
    .add('RdsApiFailures', sum((m) => (m.error?.name === 'RdsApiError' ? 1 : 0)))
    .add('TargetsAdded', sum((m) => applied(m.added)))
    .add('TargetsRemoved', sum((m) => applied(m.removed)))
    .add('RemovalsDeferred', sum((m) => m.deferred?.length ?? 0))
    .add('SyncDuration', durationMs, 'Milliseconds');
  // The least healthy group, only when every group the run meant to read was read: the minimum of
  // what was read could hide the unread one. A settled group (not read by design) had a healthy
  // target at its last read; one without is never settled, so it is read, and counted, every run.
  const healthy = mappings.filter((m) => m.reason !== 'settled').map((m) => m.healthy);
  if (healthy.length > 0 && healthy.every((n) => n !== null)) batch.add('HealthyTargets', Math.min(...healthy));
  return batch;
}

function registeredAfter(m: MappingResult, registered: string[], dryRun: boolean): number {
  if (dryRun) return registered.length;
  const after = ipSet(registered);
  m.added.forEach((ip) => after.add(canonicalIp(ip)));
  m.removed.forEach((ip) => after.delete(canonicalIp(ip)));
  return after.size;
}
