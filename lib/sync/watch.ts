// The watch of a failover: a watched mapping re-resolves every poll until its answer changes,
// sleeping outside the concurrency slots; meanwhile every mapping is synced again each schedule
// interval (scheduled runs wait behind this one: reserved concurrency 1).
import type { Mapping, SyncConfig } from '../config.js';
import type { RegisteredTarget } from './plan.js';
import type { MappingResult } from './run.js';

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
}

/** One pass over one mapping, run in a concurrency slot. */
export type Slot = (mapping: Mapping, options: MappingOptions) => Promise<Step>;

export interface Step {
  result: MappingResult;
  /** Watching and nothing changed yet: nothing was applied. */
  waiting: boolean;
  registered?: RegisteredTarget[];
}

export interface DriveContext {
  slot: Slot;
  watchers: Watchers;
  /** When the watch ends (run.ts runBounds). */
  bounds: { watchUntil: number };
  config: SyncConfig;
  clock: Clock;
}

/**
 * One mapping through the run. A watched mapping re-resolves every poll until its answer changes
 * or the watch ends; it sleeps outside the concurrency slots, so a watch never delays another
 * mapping. While anything watches (scheduled runs wait meanwhile: reserved concurrency 1), every
 * mapping is synced again each schedule interval, so none is synced later than the schedule would.
 */
export async function driveMapping(mapping: Mapping, options: MappingOptions, ctx: DriveContext): Promise<MappingResult> {
  const { slot, watchers, bounds, config, clock } = ctx;
  let lastStart = clock.now();
  let step = await slot(mapping, options);
  if (options.watch) {
    let polls = 0;
    while (step.waiting && clock.now() + config.failoverPollMs <= bounds.watchUntil) {
      await clock.sleep(config.failoverPollMs);
      polls++;
      step = await slot(mapping, { ...options, ...(step.registered ? { registered: step.registered } : {}) });
    }
    step.result.polls = polls;
    watchers.done();
  }
  let result = step.result;
  for (;;) {
    const next = lastStart + config.scheduleIntervalMs;
    if (watchers.active === 0 || next > bounds.watchUntil) break;
    await watchers.sleepUnlessDone(next - clock.now(), clock);
    if (watchers.active === 0) break;
    lastStart = clock.now();
    result = mergeResults(result, (await slot(mapping, { force: options.force, dryRun: options.dryRun, watch: false })).result);
  }
  return result;
}

/** Counts the mappings still watching; sleepers wake when the last one is done. */
export class Watchers {
  private readonly ended = new AbortController();
  constructor(public active: number) {}

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
function mergeResults(first: MappingResult, again: MappingResult): MappingResult {
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
