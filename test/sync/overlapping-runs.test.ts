// Rule 8, proved by exhaustion: two sync runs with different DNS answers are driven step by step
// (each AWS call is one step) through EVERY interleaving of their calls, against a fake ELB that
// models health states and draining (moto does not). Between every pair of steps ELB's health
// checks may complete (initial -> healthy or unhealthy, draining -> gone) or not: both branches
// are explored. Health checks take time (ELB's minimum: 5 s interval x 2 checks), so each such
// change moves the runs' clock by HEALTH_CHECK_MS. After every step the target group must keep a
// non-draining target on the port; after health checks pass and one quiet run, it must hold the
// latest answer.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { deregisterTargets, describeTargets, registerTargets } from '../../lib/aws/targets.js';
import { canonicalIp } from '../../lib/ip.js';
import { planTargets } from '../../lib/sync/plan.js';
import { runSync } from '../../lib/sync/run.js';
import { recordLog, syncConfig } from '../fixtures.js';
import { FakeElb, type FakeElbOptions } from './fake-elb.js';

/** ELB's shortest time from registration to healthy: HealthCheckIntervalSeconds 5 x HealthyThresholdCount 2. */
const HEALTH_CHECK_MS = 10_000;

const A = '10.0.1.5';
const B = '10.0.2.9';
const C = '10.0.3.3';
const PORT = 5432;
const config = syncConfig({ mappings: syncConfig().mappings.slice(0, 1) });
const noMetrics = { send: async () => ({}) } as unknown as CloudWatchClient;

type Run = (elb: ElasticLoadBalancingV2Client, answer: string[], now: () => number) => Promise<unknown>;

const realRun: Run = (elb, answer, now) =>
  runSync(config, { trigger: 'manual', force: false, dryRun: false }, { elb, cloudwatch: noMetrics, resolve: async () => answer, log: recordLog(), now });

/** The algorithm before rule 8's guard: read, register, deregister. Shows the explorer can fail. */
const naiveRun: Run = async (elb, answer) => {
  const registered = await describeTargets(elb, config.mappings[0]!.targetGroupArn);
  const plan = planTargets({ ok: true, addresses: answer }, registered, { port: PORT, force: false });
  await registerTargets(elb, config.mappings[0]!.targetGroupArn, plan.add, PORT);
  await deregisterTargets(elb, config.mappings[0]!.targetGroupArn, plan.remove);
};

/** Lets every started run reach its next AWS call (or its end): all work between calls is microtasks. */
const settle = async () => {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

interface Pending {
  command: unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * Runs both runs once, choosing at step i the `choices[i]`-th option: which waiting run makes its
 * call, and (from the second step on, when a health check or a drain is pending) whether ELB's
 * health checks complete just before it. Reports the branching seen.
 */
async function interleave(run: Run, initial: string[], answers: [string[], string[]], choices: number[], elbOptions: FakeElbOptions) {
  const elb = new FakeElb(
    initial.map((ip) => ({ ip, port: PORT, state: 'healthy' })),
    elbOptions,
  );
  let t = 0;
  const now = () => t;
  const pending = new Map<number, Pending>();
  const client = (id: number) =>
    ({ send: (command: unknown) => new Promise((resolve, reject) => pending.set(id, { command, resolve, reject })) }) as unknown as ElasticLoadBalancingV2Client;
  const runs = answers.map((answer, id) => run(client(id), answer, now));
  const branching: number[] = [];
  const violations: string[] = [];
  const trace: string[] = [];
  await settle();
  for (let step = 0; pending.size > 0; step++) {
    const ready = [...pending.keys()].sort();
    const healthOptions = step > 0 && elb.pending() ? [false, true] : [false];
    const options = ready.flatMap((id) => healthOptions.map((health) => ({ id, health })));
    branching.push(options.length);
    const { id, health } = options[choices[step] ?? 0]!;
    if (health) {
      elb.tick();
      t += HEALTH_CHECK_MS;
      trace.push('health checks');
    }
    const call = pending.get(id)!;
    pending.delete(id);
    trace.push(`run${id + 1} ${(call.command as object).constructor.name.replace('Command', '')}`);
    try {
      call.resolve(elb.handle(call.command));
    } catch (err) {
      call.reject(err);
    }
    if (elb.live(PORT).length === 0) violations.push(trace.join(' -> '));
    await settle();
  }
  await Promise.all(runs);
  return { elb, branching, violations };
}

/** Every interleaving, depth first: the next choice vector after `choices` given the branching seen. */
function nextChoices(choices: number[], branching: number[]): number[] | undefined {
  const c = branching.map((_, i) => choices[i] ?? 0);
  for (let i = c.length - 1; i >= 0; i--) {
    if (c[i]! + 1 < branching[i]!) return [...c.slice(0, i), c[i]! + 1];
  }
  return undefined;
}

async function explore(run: Run, initial: string[], answers: [string[], string[]], latest: string[], elbOptions: FakeElbOptions = {}) {
  let choices: number[] | undefined = [];
  let interleavings = 0;
  const violations: string[] = [];
  const notConverged: string[] = [];
  while (choices) {
    const { elb, branching, violations: v } = await interleave(run, initial, answers, choices, elbOptions);
    interleavings++;
    violations.push(...v);
    // A minute later: health checks done, drained targets gone, and the next (quiet) run.
    elb.tick();
    await run(elb.client(), latest, () => 0);
    elb.tick();
    const all = [...elb.targets.values()].filter((t) => t.port === PORT).map((t) => canonicalIp(t.ip)).sort();
    if (JSON.stringify(all) !== JSON.stringify(latest.map(canonicalIp).sort())) notConverged.push(`${JSON.stringify(choices)}: ${all.join(',')}`);
    choices = nextChoices(choices, branching);
  }
  return { interleavings, violations, notConverged };
}

// [group before, run 1's answer, run 2's answer]; run 1's answer is the latest (DNS now says it).
const SCENARIOS: [string, string[], string[], string[]][] = [
  ['A->B, the other run with the old answer A', [A], [B], [A]],
  ['B->A, the other run with the old answer B', [B], [A], [B]],
  ['A->A+B, the other run with A', [A], [A, B], [A]],
  ['A+B->A, the other run with A+B', [A, B], [A], [A, B]],
  ['A->B, the other run with A+B', [A], [B], [A, B]],
  ['A->B, the other run with C', [A], [B], [C]],
  ['A->B, both runs with B', [A], [B], [B]],
];
// ELB spells IPv6 targets in its own form (not the form registered): the runs must still see their own.
const V6_OLD = '2600:1f18:aaaa::5';
const V6_NEW = '2600:1f18:aaaa::9';
const shout = (ip: string) => (ip.includes(':') ? ip.toUpperCase().replace('::', ':0:0:0:0:') : ip);

describe('overlapping sync runs (rule 8), every interleaving against a fake ELB with draining', () => {
  it.each(SCENARIOS)('%s: never leaves the group without a usable target, and converges', async (_, initial, latest, stale) => {
    const result = await explore(realRun, initial, [latest, stale], latest);

    expect(result.interleavings).toBeGreaterThan(1);
    expect(result.violations).toEqual([]);
    expect(result.notConverged).toEqual([]);
  });

  it('the failing case of issue 18: B turns healthy between the other run\'s two reads, and both deregister', async () => {
    const result = await explore(realRun, [A], [[B], [A]], [B]);

    expect(result.interleavings).toBeGreaterThan(20);
    expect(result.violations).toEqual([]);
  });

  it('IPv6 spelled differently by ELB than registered: never empties the group, and converges', async () => {
    const result = await explore(realRun, [V6_OLD], [[V6_NEW], [V6_OLD]], [V6_NEW], { spell: shout });

    expect(result.interleavings).toBeGreaterThan(20);
    expect(result.violations).toEqual([]);
    expect(result.notConverged).toEqual([]);
  });

  it('new targets that fail their health checks (initial -> unhealthy): never empties the group, and converges', async () => {
    const result = await explore(realRun, [A], [[B], [A]], [B], { failing: [B] });

    expect(result.violations).toEqual([]);
    expect(result.notConverged).toEqual([]);
  });

  // Known gap (docs/reliability.md): a group already holding both answers, {A, B}, and two runs
  // with crossed answers. Each run's two reads agree with its plan, neither target is recent, both
  // decide within the bound, and each removes the other's target. No read-then-deregister rule can
  // see it: ELB has no conditional deregister; it needs a lock between runs. Marked as failing so
  // that a fix shows here.
  it.fails('A+B, the runs with crossed answers B and A: not yet safe without a lock', async () => {
    const result = await explore(realRun, [A, B], [[B], [A]], [B]);

    expect(result.violations).toEqual([]);
  });

  it('the same exploration catches the unguarded algorithm emptying the group (the harness can fail)', async () => {
    const result = await explore(naiveRun, [A], [[B], [A]], [B]);

    expect(result.violations.length).toBeGreaterThan(0);
  });
});
