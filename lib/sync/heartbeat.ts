// The heartbeat of a long run. A run that watches an RDS event or follows a failover lasts up to
// the watch plus the follow (13 minutes by default) and holds the single sync slot meanwhile: the
// scheduled runs it holds back are throttled and publish nothing. So while it lasts, the run
// publishes the `SyncSuccess` those runs would have, once a schedule interval: at the first pass
// that ends an interval or more after the last beat, 1 when every pass since was clean, else 0.
// Its passes are what those runs would have done: while a run watches or follows, every mapping
// is synced again each interval (lib/sync/watch.ts). The summary's SyncSuccess comes at the end.

export interface Beat {
  /** When the beat was due (clock ms): the pass that ended the interval. */
  at: number;
  passes: number;
  failed: number;
}

export class Heartbeat {
  private passes = 0;
  private failed = 0;
  readonly beats: Beat[] = [];

  constructor(
    private last: number,
    private readonly intervalMs: number,
  ) {}

  /** One mapping pass ended at `now`: the beat that is due, if one is. */
  passed(pass: { error?: unknown }, now: number): Beat | undefined {
    this.passes++;
    if (pass.error) this.failed++;
    if (now - this.last < this.intervalMs) return undefined;
    const beat = { at: now, passes: this.passes, failed: this.failed };
    this.beats.push(beat);
    this.last = now;
    this.passes = 0;
    this.failed = 0;
    return beat;
  }
}
