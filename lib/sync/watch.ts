// The watch and the follow of a failover: a watched mapping re-resolves every poll until its
// answer changes; a failover's new target is followed until ELB reports it healthy. Both sleep
// outside the concurrency slots; meanwhile every mapping is synced again each schedule interval
// (scheduled runs wait behind this one: reserved concurrency 1).
import type { Mapping, SyncConfig } from '../config.js';
import { canonicalIp } from '../ip.js';
import { describeError } from '../log.js';
import { isDraining, type RegisteredTarget } from './plan.js';
import type { Failover, FollowFacts } from './timeline.js';

export interface Clock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export interface MappingOptions {
  force: boolean;
  dryRun: boolean;
  /** RDS event: hold off while the answer is unchanged (the driver re-asks every poll). */
  watch: boolean;
  /** The group as first read, reused by the watch's polls (only DNS is asked again). */
  registered?: RegisteredTarget[];
  /** Closed when the deadline gave up on this pass: no register or deregister after that. */
  gate?: { open: boolean };
  /** Beyond this run's read budget: the pass skips reading the group if it is settled and DNS agrees (lib/sync/reads.ts). */
  maySkipRead?: boolean;
}

/** One pass over one mapping, run in a concurrency slot. */
export type Slot<R extends PassResult> = (mapping: Mapping, options: MappingOptions) => Promise<Step<R>>;

/** What the driver reads of a pass's result (lib/sync/run.ts MappingResult). */
export interface PassResult {
  added: string[];
  removed: string[];
  polls?: number;
  syncs?: number;
  durationMs: number;
}

export interface Step<R extends PassResult> {
  result: R;
  /** Watching and nothing changed yet: nothing was applied. */
  waiting: boolean;
  registered?: RegisteredTarget[];
  /** The pass registered a new address in place of an old one: followed until healthy. */
  failover?: Failover;
}

export interface DriveContext<R extends PassResult> {
  slot: Slot<R>;
  watchers: Watchers;
  /**
   * When the watch ends; until when mappings are synced again while something watches or follows;
   * until when a follow may read (run.ts runBounds, all short of the Lambda deadline).
   */
  bounds: { watchUntil: number; resyncUntil: number; followUntil: number };
  config: SyncConfig;
  clock: Clock;
  /** DescribeTargetHealth for a follow, in a concurrency slot, bounded by the deadline. */
  read: (mapping: Mapping) => Promise<RegisteredTarget[]>;
  /** Each follow's facts as it ends (run.ts builds, logs and counts the timeline). */
  followed: (mapping: Mapping, facts: FollowFacts) => void;
}

/**
 * One mapping through the run. A watched mapping re-resolves every poll until its answer changes
 * or the watch ends; a pass that registers a failover's new address is then followed until ELB
 * reports it healthy (followFailover). Watches and follows sleep outside the concurrency slots, so
 * neither delays another mapping. While anything watches or follows (scheduled runs wait
 * meanwhile: reserved concurrency 1), every mapping is synced again each schedule interval, so
 * none is synced later than the schedule would.
 */
export async function driveMapping<R extends PassResult>(mapping: Mapping, options: MappingOptions, ctx: DriveContext<R>): Promise<R> {
  const { slot, watchers, bounds, config, clock } = ctx;
  const follows: Promise<void>[] = [];
  // A follow holds the run's re-syncs open until it ends.
  const follow = ({ failover }: Step<R>) => {
    if (!failover || config.failoverFollowMs === 0) return;
    watchers.add();
    follows.push(
      followFailover(mapping, failover, ctx)
        .then((facts) => ctx.followed(mapping, facts))
        .finally(() => watchers.done()),
    );
  };
  let lastStart = clock.now();
  // This mapping counts as active until its first pass (and watch) is done, so a follow it starts
  // keeps the other mappings' re-syncs going even if they finished first.
  let step = await slot(mapping, options);
  if (options.watch) {
    let polls = 0;
    while (step.waiting && clock.now() + config.failoverPollMs <= bounds.watchUntil) {
      await clock.sleep(config.failoverPollMs);
      polls++;
      step = await slot(mapping, { ...options, ...(step.registered ? { registered: step.registered } : {}) });
    }
    step.result.polls = polls;
  }
  follow(step);
  watchers.done();
  let result = step.result;
  for (;;) {
    const next = lastStart + config.scheduleIntervalMs;
    if (watchers.active === 0 || next > bounds.resyncUntil) break;
    await watchers.sleepUnlessDone(next - clock.now(), clock);
    if (watchers.active === 0) break;
    lastStart = clock.now();
    // Active while it runs: a failover this pass finds is followed with the re-syncs still going.
    watchers.add();
    // A re-sync skips a group settled earlier (in this run or before) whose endpoint answers as
    // then: re-reading every group each interval of a long run (a cold container's first, 100 s
    // at 1,000 groups) would outrun ELB's Describe* rate and never finish (lib/sync/reads.ts).
    const again = await slot(mapping, { force: options.force, dryRun: options.dryRun, watch: false, maySkipRead: true });
    follow(again);
    watchers.done();
    result = mergeResults(result, again.result);
  }
  await Promise.all(follows);
  return result;
}

/**
 * Reads the group every FAILOVER_FOLLOW_POLL_MS until ELB reports every new target healthy and no
 * old target is left (deregistered targets drain, then disappear), or FAILOVER_FOLLOW_SECONDS
 * after RegisterTargets answered, or the deadline. A failed read is counted and the next poll
 * reads again: the follow only observes, it changes nothing.
 */
export async function followFailover(mapping: Mapping, failover: Failover, ctx: Pick<DriveContext<PassResult>, 'bounds' | 'config' | 'clock' | 'read'>): Promise<FollowFacts> {
  const { bounds, config, clock } = ctx;
  const facts: FollowFacts = { ...failover, end: 'bound', reads: 0, failedReads: 0, boundSeconds: config.failoverFollowMs / 1000 };
  const boundAt = failover.registeredAt + config.failoverFollowMs;
  const until = Math.min(boundAt, bounds.followUntil);
  const same = (a: string, b: string) => canonicalIp(a) === canonicalIp(b);
  let listed = false;
  for (;;) {
    try {
      const group = (await ctx.read(mapping)).filter((t) => t.port === mapping.port);
      const at = clock.now();
      facts.reads++;
      delete facts.lastError;
      const news = failover.newAddresses.map((ip) => group.find((t) => same(t.ip, ip)));
      const unlisted = news.some((t) => t === undefined);
      // A new target draining, or unlisted once listed, was deregistered again. ELB reads are
      // eventually consistent (lib/sync/overlap.ts): one not listed yet is given a poll interval.
      if (news.some((t) => t !== undefined && isDraining(t)) || (unlisted && (listed || at - failover.registeredAt >= config.failoverFollowPollMs))) {
        facts.end = 'left-group';
        break;
      }
      listed ||= !unlisted;
      const waiting = news.find((t) => t?.state !== 'healthy');
      if (facts.healthyAt === undefined) {
        if (unlisted) facts.last = { state: 'unlisted', description: 'DescribeTargetHealth does not list the new target yet' };
        else if (!waiting) facts.healthyAt = at;
        else facts.last = { state: waiting.state, ...(waiting.reason ? { reason: waiting.reason } : {}), ...(waiting.description ? { description: waiting.description } : {}) };
      }
      if (facts.oldGoneAt === undefined && !failover.oldAddresses.some((ip) => group.some((t) => same(t.ip, ip)))) facts.oldGoneAt = at;
      if (facts.healthyAt !== undefined && facts.oldGoneAt !== undefined) {
        facts.end = 'settled';
        break;
      }
    } catch (err) {
      facts.failedReads++;
      facts.lastError = describeError(err);
    }
    if (clock.now() + config.failoverFollowPollMs > until) {
      facts.end = until < boundAt ? 'deadline' : 'bound';
      break;
    }
    await clock.sleep(config.failoverFollowPollMs);
  }
  return facts;
}

/** Counts what keeps the run's re-syncs going (first passes, watches, follows); sleepers wake when the last one is done. */
export class Watchers {
  private readonly ended = new AbortController();
  constructor(public active: number) {}

  add(): void {
    this.active++;
  }

  done(): void {
    this.active--;
    if (this.active === 0) this.ended.abort();
  }

  async sleepUnlessDone(ms: number, clock: Clock): Promise<void> {
    if (this.active === 0 || ms <= 0) return;
    const signal = this.ended.signal;
    let onEnd: (() => void) | undefined;
    const ended = new Promise<void>((resolve) => signal.addEventListener('abort', (onEnd = () => resolve()), { once: true }));
    await Promise.race([clock.sleep(ms), ended]);
    if (onEnd) signal.removeEventListener('abort', onEnd);
  }
}

/** A mapping synced again during a watch: what changed adds up, the latest state stands. */
function mergeResults<R extends PassResult>(first: R, again: R): R {
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])];
  return {
    ...again,
    added: union(first.added, again.added),
    removed: union(first.removed, again.removed),
    ...(first.polls !== undefined ? { polls: first.polls } : {}),
    syncs: (first.syncs ?? 1) + 1,
    durationMs: first.durationMs + again.durationMs,
  };
}
