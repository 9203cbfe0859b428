// Rule 8: overlapping runs (the Lambda and `rds-nlb-sync sync --local`, or two Lambdas) never
// leave the target group without a usable target, whatever answers each saw. A run re-reads the
// group after registering and decides here, from that fresh read, what it may deregister now;
// the rest is deferred (logged and counted) and the next run finishes it.
import { canonicalIp, ipSet } from '../ip.js';
import { isDraining, type RegisteredTarget } from './plan.js';

export type DeferReason =
  | 'changed-under-run' // someone else registered a target since this run's first read
  | 'recently-registered' // a stale target was `initial` in either read: another run just registered it
  | 'last-target' // deregistering would leave no non-draining target on the port
  | 'read-too-old'; // the reads are older than MAX_DECISION_AGE_MS: a newer run may be acting on newer ones

/**
 * Rule 8's time bound: from a run's first read of the group to its DeregisterTargets call (sent
 * once, never retried). A target another run registered cannot pass its health checks in less than
 * interval x healthy threshold (ELB's minimum: 5 s x 2 = 10 s; registration itself takes longer),
 * so a target seen past `initial` was registered by a run that has, by then, sent its own
 * deregister or given it up: two runs cannot each remove the other's answer. Kept under 10 s
 * with room for the request itself.
 */
export const MAX_DECISION_AGE_MS = 3000;

export interface RemovalInput {
  port: number;
  /** The group as this run first read it (the read its plan was made from). */
  before: RegisteredTarget[];
  /** What this run registered since (the plan's add). */
  added: string[];
  /** The planned removals. */
  planned: RegisteredTarget[];
  /** The group re-read just before deregistering. */
  now: RegisteredTarget[];
  /** ms from the first read (`before`) to this decision; the deregister is sent at once after it. */
  ageMs: number;
}

export interface RemovalDecision {
  /** Deregister these, as the fresh read reports them (its AZ). */
  remove: RegisteredTarget[];
  deferred: RegisteredTarget[];
  reason?: DeferReason;
}

export function decideRemoval(input: RemovalInput): RemovalDecision {
  const live = input.now.filter((t) => t.port === input.port && !isDraining(t));
  const liveIps = ipSet(live.map((t) => t.ip));
  const expected = ipSet([...input.before.filter((t) => t.port === input.port && !isDraining(t)).map((t) => t.ip), ...input.added]);
  const planned = ipSet(input.planned.map((t) => t.ip));
  // Planned targets already draining or gone need no call.
  const candidates = live.filter((t) => planned.has(canonicalIp(t.ip)));
  const deferAll = (reason: DeferReason): RemovalDecision => ({ remove: [], deferred: candidates, reason });
  if (candidates.length === 0) return { remove: [], deferred: [] };

  // Too slow (throttled retries, a slow API): another run may have read, registered and
  // deregistered meanwhile on newer answers. The next run decides from fresh reads.
  if (input.ageMs > MAX_DECISION_AGE_MS) return deferAll('read-too-old');

  // Another actor is working on this group right now: its answer may be newer than ours.
  if (live.some((t) => !expected.has(canonicalIp(t.ip)))) return deferAll('changed-under-run');

  // `initial` = registered moments ago (health checks not yet done): by another run, since this
  // run never removes what it registered. Removing it could undo a newer answer, also when its
  // health checks passed between this run's two reads.
  const initialAtFirstRead = ipSet(input.before.filter((t) => t.port === input.port && t.state === 'initial').map((t) => t.ip));
  const isRecent = (t: RegisteredTarget) => t.state === 'initial' || initialAtFirstRead.has(canonicalIp(t.ip));
  const recent = candidates.filter(isRecent);
  const remove = candidates.filter((t) => !isRecent(t));

  // What stays usable: live targets not removed, plus what this run registered that the read does
  // not show yet (ELB reads are eventually consistent). An added target shown draining was taken
  // out by someone else and does not count.
  const removing = ipSet(remove.map((t) => t.ip));
  const shown = ipSet(input.now.filter((t) => t.port === input.port).map((t) => t.ip));
  const staying = [...liveIps].filter((ip) => !removing.has(ip)).length + input.added.filter((ip) => !shown.has(canonicalIp(ip))).length;
  if (remove.length > 0 && staying === 0) return deferAll('last-target');

  return recent.length > 0 ? { remove, deferred: recent, reason: 'recently-registered' } : { remove, deferred: [] };
}
