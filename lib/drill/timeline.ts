// The pure parts of a failover drill (rds-nlb-sync drill): which step an observation shows, the
// probe's window without a connection, the verdict against the budget, and the text. No I/O.
// Times are seconds since the failover was requested; a step not seen is null, never 0.
import type { DatabaseInfo, RdsEventRecord } from '../aws/failover.js';
import { canonicalIp, ipSet } from '../ip.js';
import { isDraining, type RegisteredTarget } from '../sync/plan.js';

export const STEPS = ['requested', 'event', 'dns', 'registered', 'healthy', 'old-gone'] as const;
export type StepName = (typeof STEPS)[number];

export const STEP_LABELS: Record<StepName, string> = {
  requested: 'failover requested',
  event: 'RDS event seen',
  dns: 'DNS answer changed',
  registered: 'new target registered',
  healthy: 'new target healthy',
  'old-gone': 'old target gone',
};

export interface StepRecord {
  step: StepName;
  label: string;
  /** Seconds since the request; null: not seen (unknown, not zero). */
  at: number | null;
  /** ISO time it was seen; null when not seen. */
  time: string | null;
  detail?: string;
}

/** One line of the live timeline: a step, an RDS event, a probe change, a poll error. */
export interface TimelineLine {
  at: number;
  text: string;
}

export interface ProbeAttempt {
  /** Seconds since the request (negative: before it). */
  at: number;
  time: string;
  ok: boolean;
  error?: string;
}

export interface ProbePoint {
  at: number;
  time: string;
  error?: string;
}

export interface ProbeRecord {
  target: string;
  intervalSeconds: number;
  attempts: number;
  failures: number;
  firstFailure: ProbePoint | null;
  lastFailure: ProbePoint | null;
  /** The first connection after the last failure; null while none (or when nothing failed). */
  firstSuccessAfter: ProbePoint | null;
  /**
   * From the first failed attempt to the first success after the last one: the window with no
   * connection, to the probe's interval. 0 when no attempt failed; null when it never recovered.
   */
  noConnectionSeconds: number | null;
}

export type Outcome = 'within-budget' | 'over-budget' | 'incomplete' | 'interrupted';

export interface Verdict {
  outcome: Outcome;
  ok: boolean;
  budgetSeconds: number;
  /** The last step (or the probe's recovery); null when a step was not seen. */
  endToEndSeconds: number | null;
  /** Steps (and "probe") not seen within the budget. */
  missing: string[];
  /** Steps seen after the budget. */
  late: string[];
}

export interface SeenEvent extends RdsEventRecord {
  /** RDS's time, seconds since the request. */
  at: number;
  /** When the drill's poll saw it. */
  seenAt: number;
}

export interface PollError {
  what: string;
  message: string;
  firstAt: number;
  count: number;
}

export interface DrillRecord {
  database: { kind: DatabaseInfo['kind']; id: string; endpoint: string | null; writerBefore?: string; targetInstance?: string };
  watch: { endpoint: string; targetGroupArn: string; port: number };
  /** Who syncs: the deployed function (the drill observes) or the drill itself (--local). */
  sync: 'deployed' | 'local';
  budgetSeconds: number;
  requestedAt: string | null;
  before: { addresses: string[]; targets: { ip: string; state: string }[] };
  steps: StepRecord[];
  events: SeenEvent[];
  probe?: ProbeRecord;
  pollErrors: PollError[];
  verdict: Verdict;
}

// ---------------------------------------------------------------------------------------------
// Observations -> steps

export interface Baseline {
  port: number;
  /** The endpoint's answer before the request. */
  addresses: string[];
  /** The group's targets on the port before the request. */
  targets: RegisteredTarget[];
}

/** What one poll saw; a part that failed is an Error (unknown: it decides no step). */
export interface Observation {
  at: number;
  time: string;
  answer?: string[] | Error;
  targets?: RegisteredTarget[] | Error;
  events?: RdsEventRecord[] | Error;
}

export interface Tracker {
  baseline: Baseline;
  steps: Map<StepName, StepRecord>;
  events: SeenEvent[];
  requestedMs: number;
}

export function newTracker(baseline: Baseline, requestedMs: number): Tracker {
  return { baseline, steps: new Map(), events: [], requestedMs };
}

const fmt = (seconds: number) => seconds.toFixed(1);
const round = (seconds: number) => Math.round(seconds * 10) / 10;

/** The new steps (and RDS events) this observation shows, as timeline lines; updates the tracker. */
export function observe(tracker: Tracker, obs: Observation): TimelineLine[] {
  const lines: TimelineLine[] = [];
  const mark = (step: StepName, detail: string) => {
    if (tracker.steps.has(step)) return;
    tracker.steps.set(step, { step, label: STEP_LABELS[step], at: round(obs.at), time: obs.time, detail });
    lines.push({ at: obs.at, text: stepLine(tracker.steps.get(step) as StepRecord) });
  };

  if (Array.isArray(obs.events)) {
    for (const e of obs.events) {
      if (tracker.events.some((s) => s.time === e.time && s.message === e.message)) continue;
      const seen: SeenEvent = { ...e, at: round((Date.parse(e.time) - tracker.requestedMs) / 1000), seenAt: round(obs.at) };
      tracker.events.push(seen);
      if (isFailoverEvent(e)) mark('event', `${e.message} (RDS time ${signed(seen.at)} s)`);
      else lines.push({ at: obs.at, text: line(obs.at, 'RDS event', `${e.message} (RDS time ${signed(seen.at)} s)`) });
    }
  }

  const { baseline } = tracker;
  if (Array.isArray(obs.answer) && !sameSet(obs.answer, baseline.addresses)) {
    mark('dns', `${list(baseline.addresses)} -> ${list(obs.answer)}`);
  }

  if (Array.isArray(obs.targets)) {
    const onPort = obs.targets.filter((t) => t.port === baseline.port);
    const before = ipSet(baseline.targets.map((t) => t.ip));
    const fresh = onPort.filter((t) => !before.has(canonicalIp(t.ip)) && !isDraining(t));
    if (fresh.length > 0) mark('registered', fresh.map(describeTarget).join(', '));
    const healthy = fresh.filter((t) => t.state === 'healthy');
    if (healthy.length > 0) mark('healthy', healthy.map((t) => t.ip).join(', '));
    const now = ipSet(onPort.map((t) => t.ip));
    const old = baseline.targets.filter((t) => !now.has(canonicalIp(t.ip)));
    // Only once something new is there: before that, an old target missing is not the failover.
    if (tracker.steps.has('registered') && old.length === baseline.targets.length && baseline.targets.length > 0) {
      mark('old-gone', `${list(old.map((t) => t.ip))} no longer in the target group`);
    }
  }
  return lines;
}

/** A failover event of the source (category "failover", or a message that says so). */
export function isFailoverEvent(e: RdsEventRecord): boolean {
  return e.categories.some((c) => c.toLowerCase() === 'failover') || /fail(ing)?[ -]?over/i.test(e.message);
}

const describeTarget = (t: RegisteredTarget) => `${t.ip} (${t.state}${t.reason ? `: ${t.reason}` : ''})`;
const list = (ips: readonly string[]) => (ips.length > 0 ? ips.join(', ') : '-');
const signed = (n: number) => (n >= 0 ? `+${fmt(n)}` : fmt(n));

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = ipSet(a);
  const sb = ipSet(b);
  return sa.size === sb.size && [...sa].every((ip) => sb.has(ip));
}

// ---------------------------------------------------------------------------------------------
// The probe's window

export function probeRecord(target: string, intervalSeconds: number, attempts: readonly ProbeAttempt[]): ProbeRecord {
  const point = (a: ProbeAttempt): ProbePoint => ({ at: round(a.at), time: a.time, ...(a.error ? { error: a.error } : {}) });
  const failures = attempts.filter((a) => !a.ok);
  const first = failures[0];
  const last = failures[failures.length - 1];
  const after = last ? attempts.find((a) => a.ok && a.at > last.at) : undefined;
  return {
    target,
    intervalSeconds,
    attempts: attempts.length,
    failures: failures.length,
    firstFailure: first ? point(first) : null,
    lastFailure: last ? point(last) : null,
    firstSuccessAfter: after ? point(after) : null,
    noConnectionSeconds: !first ? 0 : after ? round(after.at - first.at) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Verdict

export function decideVerdict(steps: readonly StepRecord[], probe: ProbeRecord | undefined, budgetSeconds: number, interrupted: boolean): Verdict {
  const missing = steps.filter((s) => s.at === null).map((s) => s.step as string);
  if (probe && probe.firstFailure && !probe.firstSuccessAfter) missing.push('probe');
  const times = [...steps.map((s) => s.at), ...(probe?.firstSuccessAfter ? [probe.firstSuccessAfter.at] : [])];
  const endToEndSeconds = missing.length > 0 ? null : Math.max(...times.filter((t): t is number => t !== null));
  const late = [...steps.filter((s) => s.at !== null && s.at > budgetSeconds).map((s) => s.step as string), ...(probe?.firstSuccessAfter && probe.firstSuccessAfter.at > budgetSeconds ? ['probe'] : [])];
  const outcome: Outcome = interrupted ? 'interrupted' : missing.length > 0 ? 'incomplete' : late.length > 0 ? 'over-budget' : 'within-budget';
  return { outcome, ok: outcome === 'within-budget', budgetSeconds, endToEndSeconds, missing, late };
}

/** Every step in order, the ones not seen with at: null. */
export function allSteps(seen: ReadonlyMap<StepName, StepRecord>): StepRecord[] {
  return STEPS.map((step) => seen.get(step) ?? { step, label: STEP_LABELS[step], at: null, time: null });
}

// ---------------------------------------------------------------------------------------------
// Text

export function line(at: number | null, label: string, detail = ''): string {
  const when = at === null ? '      -  ' : `${fmt(at).padStart(7)} s`;
  return `${when}  ${label.padEnd(22)}${detail ? `  ${detail}` : ''}`.trimEnd();
}

export const stepLine = (s: StepRecord) => line(s.at, s.label, s.at === null ? 'not seen' : s.detail);

export function probeLines(p: ProbeRecord): string[] {
  if (!p.firstFailure) return [line(null, 'probe', `${p.target}: every connection worked (${p.attempts} attempts, every ${p.intervalSeconds} s)`)];
  return [
    line(p.firstFailure.at, 'probe: first failure', `${p.target}${p.firstFailure.error ? ` (${p.firstFailure.error})` : ''}`),
    line(p.lastFailure?.at ?? null, 'probe: last failure', `${p.failures} of ${p.attempts} attempts failed`),
    p.firstSuccessAfter
      ? line(p.firstSuccessAfter.at, 'probe: connected again', `${fmt(p.noConnectionSeconds ?? 0)} s without a connection (to ${p.intervalSeconds} s)`)
      : line(null, 'probe: connected again', 'not seen: no connection since the first failure'),
  ];
}

export function renderVerdict(v: Verdict): string {
  const budget = `budget ${v.budgetSeconds} s`;
  switch (v.outcome) {
    case 'within-budget':
      return `verdict: within budget: end to end in ${fmt(v.endToEndSeconds ?? 0)} s (${budget})`;
    case 'over-budget':
      return `verdict: OVER BUDGET: end to end in ${fmt(v.endToEndSeconds ?? 0)} s (${budget}); late: ${v.late.join(', ')}`;
    case 'incomplete':
      return `verdict: INCOMPLETE: not seen within the ${budget}: ${v.missing.map(stepName).join(', ')}; end to end unknown`;
    case 'interrupted':
      return `verdict: INTERRUPTED before the end (${budget}); not seen yet: ${v.missing.map(stepName).join(', ') || 'nothing'}`;
  }
}

const stepName = (s: string) => (s in STEP_LABELS ? STEP_LABELS[s as StepName] : s === 'probe' ? 'probe connected again' : s);

export function renderHeader(r: Pick<DrillRecord, 'database' | 'watch' | 'sync' | 'budgetSeconds' | 'before'>): string {
  const db = r.database;
  const writer = db.writerBefore ? ` (writer ${db.writerBefore}${db.targetInstance ? `, to ${db.targetInstance}` : ''})` : '';
  const tg = r.watch.targetGroupArn.split(':targetgroup/')[1] ?? r.watch.targetGroupArn;
  return [
    `rds-nlb-sync drill: DB ${db.kind} ${db.id}${writer}, budget ${r.budgetSeconds} s`,
    `watching ${r.watch.endpoint} -> ${tg} port ${r.watch.port}; sync by ${r.sync === 'local' ? 'this drill (--local)' : 'the deployed function (observed)'}`,
    `before: DNS ${list(r.before.addresses)}; targets ${list(r.before.targets.map((t) => `${t.ip} (${t.state})`))}`,
  ].join('\n');
}

/** The final text: every step in order (not seen ones too), the probe, poll errors, the verdict. */
export function renderSummary(r: DrillRecord): string {
  const errors = r.pollErrors.map((e) => line(e.firstAt, 'poll error', `${e.what}: ${e.message}${e.count > 1 ? ` (${e.count} times)` : ''}`));
  return [
    'timeline (seconds since the failover was requested):',
    ...r.steps.map(stepLine),
    ...(r.probe ? probeLines(r.probe) : []),
    ...errors,
    '',
    renderVerdict(r.verdict),
  ].join('\n');
}
