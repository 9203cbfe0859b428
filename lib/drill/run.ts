// One failover drill: request the failover, then poll (RDS events, the endpoint's DNS answer, the
// target group; with --local one sync pass first) until every step is seen or the budget ends,
// printing each step as it happens. Every poll is bounded by the budget; an abort (Ctrl-C) ends
// it early with what was seen. The reads come in as functions, so the loop runs on fakes too.
import type { RdsEventRecord } from '../aws/failover.js';
import { describeError } from '../log.js';
import type { RegisteredTarget } from '../sync/plan.js';
import type { Probe, RawAttempt } from './probe.js';
import {
  allSteps,
  decideVerdict,
  line,
  newTracker,
  observe,
  probeRecord,
  renderHeader,
  stepLine,
  STEPS,
  type Baseline,
  type DrillRecord,
  type Observation,
  type PollError,
} from './timeline.js';

export interface DrillInput {
  database: DrillRecord['database'];
  watch: DrillRecord['watch'];
  sync: DrillRecord['sync'];
  budgetMs: number;
  pollMs: number;
  /** The endpoint's answer and the group's targets before the request (read by the caller). */
  baseline: Baseline;
}

export interface DrillDeps {
  /** FailoverDBCluster / RebootDBInstance; resolves to the API's name. Called once, never retried. */
  requestFailover: () => Promise<string>;
  listEvents: (since: Date) => Promise<RdsEventRecord[]>;
  resolve: () => Promise<string[]>;
  describeTargets: () => Promise<RegisteredTarget[]>;
  /** --local: one sync pass; resolves to an error message when the pass failed. */
  sync?: () => Promise<string | undefined>;
  /** --probe: started just before the request, stopped at the end. */
  startProbe?: (onChange: (attempt: RawAttempt) => void) => Probe;
  /** One line of the live timeline. */
  print: (text: string) => void;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** RDS's clock and ours may differ by a little: events this long before the request still count. */
const EVENT_CLOCK_SLACK_MS = 5000;

export class BudgetEndedError extends Error {
  override name = 'BudgetEndedError';
}

export async function runDrill(input: DrillInput, deps: DrillDeps): Promise<DrillRecord> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? abortableSleep;
  const { print, signal } = deps;
  print(renderHeader({ ...input, budgetSeconds: input.budgetMs / 1000, before: beforeOf(input.baseline) }));

  let requestedMs = now();
  const seconds = (ms: number) => (ms - requestedMs) / 1000;
  const probe = deps.startProbe?.((a) => print(a.ok ? line(seconds(a.ms), 'probe: connected', '') : line(seconds(a.ms), 'probe: no connection', a.error ?? '')));
  const pollErrors: PollError[] = [];
  let tracker = newTracker(input.baseline, requestedMs);
  let interrupted = false;
  try {
    requestedMs = now();
    tracker = newTracker(input.baseline, requestedMs);
    const api = await deps.requestFailover();
    const answeredMs = now();
    tracker.steps.set('requested', { step: 'requested', label: 'failover requested', at: 0, time: iso(requestedMs), detail: `${api} ${input.database.id} (answered in ${answeredMs - requestedMs} ms)` });
    print(stepLine(tracker.steps.get('requested')!));

    const deadline = requestedMs + input.budgetMs;
    const within = <T>(read: () => Promise<T>) => bounded(read, deadline, now, signal);
    const failed = (what: string, at: number, err: Error) => {
      const message = describeError(err).message.split('\n')[0] ?? '';
      const known = pollErrors.find((e) => e.what === what && e.message === message);
      if (known) return void known.count++;
      pollErrors.push({ what, message, firstAt: Math.round(at * 10) / 10, count: 1 });
      print(line(at, 'poll error', `${what}: ${message}`));
    };

    while (now() < deadline && !signal?.aborted) {
      if (deps.sync) {
        const outcome = await within(deps.sync);
        if (outcome instanceof Error && !(outcome instanceof BudgetEndedError)) failed('sync', seconds(now()), outcome);
        else if (typeof outcome === 'string') failed('sync', seconds(now()), new Error(outcome));
      }
      const [events, answer, targets] = await Promise.all([
        within(() => deps.listEvents(new Date(requestedMs - EVENT_CLOCK_SLACK_MS))),
        within(deps.resolve),
        within(deps.describeTargets),
      ]);
      if (signal?.aborted) break;
      const at = seconds(now());
      const obs: Observation = { at, time: iso(now()), events, answer, targets };
      for (const l of observe(tracker, obs)) print(l.text);
      for (const [what, value] of [['DescribeEvents', events], ['DNS', answer], ['DescribeTargetHealth', targets]] as const) {
        if (value instanceof Error && !(value instanceof BudgetEndedError)) failed(what, at, value);
      }
      const probeUp = !probe || probe.attempts().at(-1)?.ok === true;
      if (STEPS.every((s) => tracker.steps.has(s)) && probeUp) break;
      const left = Math.min(input.pollMs, deadline - now());
      if (left > 0) await sleep(left, signal);
    }
    interrupted = signal?.aborted === true;
  } finally {
    await probe?.stop();
  }

  const steps = allSteps(tracker.steps);
  const probeRec = probe
    ? probeRecord(probe.target, probe.intervalMs / 1000, probe.attempts().map((a) => ({ at: seconds(a.ms), time: iso(a.ms), ok: a.ok, ...(a.error ? { error: a.error } : {}) })))
    : undefined;
  const budgetSeconds = input.budgetMs / 1000;
  return {
    database: input.database,
    watch: input.watch,
    sync: input.sync,
    budgetSeconds,
    requestedAt: iso(requestedMs),
    before: beforeOf(input.baseline),
    steps,
    events: tracker.events,
    ...(probeRec ? { probe: probeRec } : {}),
    pollErrors,
    verdict: decideVerdict(steps, probeRec, budgetSeconds, interrupted),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();
const beforeOf = (b: Baseline) => ({ addresses: b.addresses, targets: b.targets.map(({ ip, state }) => ({ ip, state })) });

/** The read's value or its error; a BudgetEndedError when the budget ends (or the drill is aborted) first. */
async function bounded<T>(read: () => Promise<T>, deadline: number, now: () => number, signal?: AbortSignal): Promise<T | Error> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const cut = new Promise<Error>((resolve) => {
    const end = () => resolve(new BudgetEndedError('not answered before the budget ended'));
    timer = setTimeout(end, Math.max(0, deadline - now()));
    if (signal) signal.addEventListener('abort', (onAbort = end), { once: true });
  });
  const call = read().then(
    (value) => value,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  try {
    return await Promise.race([call, cut]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
