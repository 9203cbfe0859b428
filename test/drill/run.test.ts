// The drill's loop on fakes and a virtual clock: AWS's minutes take no time here. The fake ELB
// models what moto does not: a registered target is `initial` for a while before `healthy`, and a
// deregistered one `draining` before it is gone.
import { describe, expect, it } from 'vitest';
import type { RdsEventRecord } from '../../lib/aws/failover.js';
import { runDrill, type DrillDeps, type DrillInput } from '../../lib/drill/run.js';
import type { RawAttempt } from '../../lib/drill/probe.js';
import type { RegisteredTarget } from '../../lib/sync/plan.js';
import { virtualClock } from '../sync/virtual-clock.js';

const OLD = '10.0.1.11';
const NEW = '10.0.2.12';
const T0 = Date.parse('2026-12-07T10:00:00.000Z');

const input = (over: Partial<DrillInput> = {}): DrillInput => ({
  database: { kind: 'cluster', id: 'orders', endpoint: 'orders.cluster-x.eu-west-1.rds.amazonaws.com', writerBefore: 'orders-1' },
  watch: { endpoint: 'orders.cluster-x.eu-west-1.rds.amazonaws.com', targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tg/0123', port: 5432 },
  sync: 'deployed',
  budgetMs: 600_000,
  pollMs: 2000,
  baseline: { port: 5432, addresses: [OLD], targets: [{ ip: OLD, port: 5432, state: 'healthy' }] },
  ...over,
});

/** A failover as AWS times it (seconds since the request): event, DNS flip, register, health checks, drain. */
function world(clock: { now: () => number }, times = { event: 8, dns: 30, registered: 32, healthy: 152, drained: 180 }) {
  const s = () => (clock.now() - T0) / 1000;
  const calls = { failover: 0 };
  const deps: Omit<DrillDeps, 'print'> = {
    requestFailover: async () => (calls.failover++, 'FailoverDBCluster'),
    listEvents: async (): Promise<RdsEventRecord[]> =>
      s() >= times.event ? [{ message: 'Started cross AZ failover to DB instance orders-2', time: new Date(T0 + (times.event - 1) * 1000).toISOString(), categories: ['failover'] }] : [],
    resolve: async () => (s() >= times.dns ? [NEW] : [OLD]),
    describeTargets: async (): Promise<RegisteredTarget[]> => {
      const t = s();
      const old = t < times.registered + 1 ? 'healthy' : t < times.drained ? 'draining' : undefined;
      const fresh = t < times.registered ? undefined : t < times.healthy ? 'initial' : 'healthy';
      return [...(old ? [{ ip: OLD, port: 5432, state: old }] : []), ...(fresh ? [{ ip: NEW, port: 5432, state: fresh }] : [])];
    },
  };
  return { deps, calls };
}

function setup() {
  const v = virtualClock();
  const clock = { now: () => T0 + v.now(), sleep: (ms: number) => v.sleep(ms) };
  const lines: string[] = [];
  return { v, clock, lines, print: (t: string) => void lines.push(t) };
}

describe('runDrill', () => {
  it('sees every step at the poll that shows it and ends within budget once all are seen', async () => {
    const { v, clock, lines, print } = setup();
    const { deps, calls } = world(clock);

    const record = await v.run(runDrill(input(), { ...deps, print, now: clock.now, sleep: clock.sleep }));

    expect(record.steps.map((s) => [s.step, s.at])).toEqual([
      ['requested', 0],
      ['event', 8],
      ['dns', 30],
      ['registered', 32],
      ['healthy', 152],
      ['old-gone', 180],
    ]);
    expect(record.verdict).toMatchObject({ outcome: 'within-budget', ok: true, endToEndSeconds: 180 });
    expect(record.events).toEqual([expect.objectContaining({ at: 7, seenAt: 8 })]);
    expect(calls.failover).toBe(1);
    expect(lines.filter((l) => /^ +\d+\.\d s {2}/.test(l))).toHaveLength(6);
    expect(v.now()).toBe(180_000); // stopped at the last step, not at the budget
  });

  it('stops at the budget, and says which steps it never saw', async () => {
    const { v, clock, print } = setup();
    const { deps } = world(clock);

    const record = await v.run(runDrill(input({ budgetMs: 120_000 }), { ...deps, print, now: clock.now, sleep: clock.sleep }));

    expect(record.verdict).toMatchObject({ outcome: 'incomplete', endToEndSeconds: null, missing: ['healthy', 'old-gone'] });
    expect(record.steps.find((s) => s.step === 'healthy')).toMatchObject({ at: null, time: null });
    expect(v.now()).toBe(120_000);
  });

  it('keeps polling through failed reads, records each error once with its count, and decides nothing from them', async () => {
    const { v, clock, lines, print } = setup();
    const { deps } = world(clock, { event: 8, dns: 10, registered: 12, healthy: 14, drained: 16 });
    let dnsCalls = 0;
    const resolve = async () => {
      if (++dnsCalls <= 3) throw Object.assign(new Error('DNS timeout for orders'), { name: 'DnsError' });
      return deps.resolve();
    };

    const record = await v.run(runDrill(input(), { ...deps, resolve, print, now: clock.now, sleep: clock.sleep }));

    expect(record.pollErrors).toEqual([{ what: 'DNS', message: 'DNS timeout for orders', firstAt: 0, count: 3 }]);
    expect(lines.filter((l) => l.includes('poll error'))).toHaveLength(1);
    expect(record.verdict.ok).toBe(true);
  });

  it('runs the sync each poll with --local, and reports a failed pass as a poll error', async () => {
    const { v, clock, print } = setup();
    const { deps } = world(clock, { event: 1, dns: 4, registered: 4, healthy: 6, drained: 8 });
    let passes = 0;
    const sync = async () => (++passes === 1 ? 'orders: DnsError: DNS servfail' : undefined);

    const record = await v.run(runDrill(input({ sync: 'local' }), { ...deps, sync, print, now: clock.now, sleep: clock.sleep }));

    expect(passes).toBe(5); // polls at 0, 2, 4, 6, 8 s
    expect(record.pollErrors).toEqual([expect.objectContaining({ what: 'sync', message: 'orders: DnsError: DNS servfail' })]);
  });

  it('ends at once on abort (Ctrl-C) with what it saw, verdict interrupted', async () => {
    const { v, clock, print } = setup();
    const { deps } = world(clock);
    const stop = new AbortController();
    const sleep = async (ms: number) => {
      if (clock.now() - T0 >= 40_000) stop.abort();
      await clock.sleep(ms);
    };

    const record = await v.run(runDrill(input(), { ...deps, print, now: clock.now, sleep, signal: stop.signal }));

    expect(record.verdict).toMatchObject({ outcome: 'interrupted', ok: false, missing: ['healthy', 'old-gone'] });
    expect(record.steps.find((s) => s.step === 'dns')?.at).toBe(30);
    expect(v.now()).toBeLessThan(45_000);
  });

  it('bounds a read that never answers by the budget', async () => {
    const start = Date.now();
    const never = () => new Promise<never>(() => undefined);

    const record = await runDrill(input({ budgetMs: 300, pollMs: 100 }), {
      requestFailover: async () => 'FailoverDBCluster',
      listEvents: never,
      resolve: never,
      describeTargets: never,
      print: () => undefined,
    });

    expect(Date.now() - start).toBeLessThan(2000);
    expect(record.verdict.outcome).toBe('incomplete');
    expect(record.pollErrors).toEqual([]); // the budget ending is not a poll error
  });

  it('fails without a record when the failover request itself fails (nothing to time)', async () => {
    const { clock } = setup();
    const { deps } = world(clock);
    const requestFailover = async () => {
      throw Object.assign(new Error('Database cluster is in a state which is not valid for failover'), { name: 'InvalidDBClusterStateFault' });
    };

    await expect(runDrill(input(), { ...deps, requestFailover, print: () => undefined, now: clock.now })).rejects.toThrow('not valid for failover');
  });

  it('records the probe window and waits for the probe to connect again before ending', async () => {
    const { v, clock, print } = setup();
    const { deps } = world(clock, { event: 1, dns: 2, registered: 2, healthy: 2, drained: 2 });
    const attempts: RawAttempt[] = [
      { ms: T0 - 500, ok: true },
      { ms: T0 + 1000, ok: false, error: 'ECONNREFUSED' },
      { ms: T0 + 2000, ok: false, error: 'ETIMEDOUT' },
    ];
    let stopped = false;
    const startProbe = () => ({
      target: 'nlb:5432',
      intervalMs: 1000,
      // Connected again once the clock passes 9 s.
      attempts: () => (clock.now() - T0 >= 9000 ? [...attempts, { ms: T0 + 9000, ok: true }] : attempts),
      stop: async () => void (stopped = true),
    });

    const record = await v.run(runDrill(input(), { ...deps, startProbe, print, now: clock.now, sleep: clock.sleep }));

    expect(stopped).toBe(true);
    expect(record.probe).toMatchObject({ target: 'nlb:5432', failures: 2, firstFailure: { at: 1, error: 'ECONNREFUSED' }, lastFailure: { at: 2 }, firstSuccessAfter: { at: 9 }, noConnectionSeconds: 8 });
    expect(record.verdict).toMatchObject({ ok: true, endToEndSeconds: 9 });
    expect(v.now()).toBe(10_000); // every step by 2 s, but it polled on until the probe connected again
  });
});
