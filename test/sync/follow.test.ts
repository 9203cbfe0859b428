// Following a failover until ELB reports the new target healthy (issue 17 item 2), on a virtual
// clock. moto and the shared fake make a target healthy at once; this ELB models AWS's timing
// as DescribeTargetHealth reports it: after RegisterTargets `initial` / Elb.RegistrationInProgress
// for a registration delay, then `initial` / Elb.InitialHealthChecking for 2 checks at 5 s, then
// `healthy` (or `unhealthy` / Target.FailedHealthChecks when the address does not serve); after
// DeregisterTargets `draining` for the deregistration delay, then gone.
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  type TargetDescription,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Mapping, SyncConfig } from '../../lib/config.js';
import { runSync, type SyncRequest } from '../../lib/sync/run.js';
import { numberedMapping, recordLog, syncConfig } from '../fixtures.js';
import { virtualClock } from './virtual-clock.js';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const cwMock = mockClient(CloudWatchClient);

/** The run starts at this wall-clock time; the RDS event happened 10 s earlier. */
const START = Date.parse('2026-12-07T02:00:10.000Z');
const EVENT_TIME = '2026-12-07T02:00:00Z';

const mapping = numberedMapping;
const oldIp = (i: number) => `10.0.1.${i}`;
const newIp = (i: number) => `10.0.2.${i}`;

interface Timing {
  registrationMs: number;
  healthChecksMs: number;
  drainMs: number;
  /** Addresses whose health checks pass. */
  serves: (ip: string) => boolean;
}

/** One ELB for every target group, on the run's clock. */
function timedElb(now: () => number, timing: Timing) {
  const groups = new Map<string, Map<string, { ip: string; port: number; registeredAt: number; deregisteredAt?: number }>>();
  const group = (arn: string) => groups.get(arn) ?? groups.set(arn, new Map()).get(arn)!;
  const key = (t: TargetDescription) => `${t.Id}:${t.Port}`;
  /** A target registered before the run: healthy. */
  const seed = (arn: string, ip: string, port = 5432) => group(arn).set(`${ip}:${port}`, { ip, port, registeredAt: -Infinity });
  const health = (t: { registeredAt: number; deregisteredAt?: number; ip: string }, at: number): TargetHealthDescription['TargetHealth'] => {
    if (t.deregisteredAt !== undefined) return { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' };
    if (at < t.registeredAt + timing.registrationMs) return { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' };
    if (at < t.registeredAt + timing.registrationMs + timing.healthChecksMs) return { State: 'initial', Reason: 'Elb.InitialHealthChecking', Description: 'Initial health checks in progress' };
    return timing.serves(t.ip) ? { State: 'healthy' } : { State: 'unhealthy', Reason: 'Target.FailedHealthChecks', Description: 'Health checks failed' };
  };
  elbMock.on(RegisterTargetsCommand).callsFake(({ TargetGroupArn, Targets }: { TargetGroupArn: string; Targets: TargetDescription[] }) => {
    for (const t of Targets) group(TargetGroupArn).set(key(t), { ip: t.Id!, port: t.Port!, registeredAt: now() });
    return {};
  });
  elbMock.on(DeregisterTargetsCommand).callsFake(({ TargetGroupArn, Targets }: { TargetGroupArn: string; Targets: TargetDescription[] }) => {
    for (const t of Targets) {
      const target = group(TargetGroupArn).get(key(t));
      if (target) target.deregisteredAt ??= now();
    }
    return {};
  });
  elbMock.on(DescribeTargetHealthCommand).callsFake(({ TargetGroupArn }: { TargetGroupArn: string }) => {
    const at = now();
    const g = group(TargetGroupArn);
    for (const [k, t] of g) if (t.deregisteredAt !== undefined && at >= t.deregisteredAt + timing.drainMs) g.delete(k);
    return { TargetHealthDescriptions: [...g.values()].map((t) => ({ Target: { Id: t.ip, Port: t.port }, TargetHealth: health(t, at) })) };
  });
  const deregister = (arn: string, ip: string, port = 5432) => {
    const target = group(arn).get(`${ip}:${port}`);
    if (target) target.deregisteredAt ??= now();
  };
  return { seed, deregister };
}

/** The virtual clock, shifted to wall-clock time so the line's ISO timestamps read as real ones. */
function wallClock() {
  const clock = virtualClock();
  return { now: () => START + clock.now(), sleep: clock.sleep, run: clock.run, elapsed: clock.now };
}

const AWS_TIMING: Timing = { registrationMs: 90_000, healthChecksMs: 10_000, drainMs: 60_000, serves: () => true };

function config(mappings: Mapping[], extra: Partial<SyncConfig> = {}): SyncConfig {
  return syncConfig({ mappings, failoverPollMs: 2000, failoverWatchMs: 180_000, failoverFollowMs: 600_000, failoverFollowPollMs: 5000, scheduleIntervalMs: 60_000, ...extra });
}

const rdsEvent = (watch: string[], deadline?: number): SyncRequest => ({
  trigger: 'rds-event',
  force: false,
  dryRun: false,
  watch,
  event: { sourceIdentifier: 'db1', eventId: 'RDS-EVENT-0073', time: EVENT_TIME, matched: watch },
  ...(deadline ? { deadline } : {}),
});
const scheduled: SyncRequest = { trigger: 'schedule', force: false, dryRun: false };

function sentMetrics(): MetricDatum[] {
  return cwMock.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
}
const metric = (name: string, perGroup: boolean) => sentMetrics().filter((m) => m.MetricName === name && (m.Dimensions ?? []).length > 0 === perGroup).map((m) => m.Value);

beforeEach(() => {
  elbMock.reset();
  cwMock.reset();
  cwMock.on(PutMetricDataCommand).resolves({});
});
afterEach(() => vi.restoreAllMocks());

describe('following a failover', () => {
  it('follows the new target through registration and health checks to healthy, then writes one timeline line', async () => {
    const m = mapping(1);
    const clock = wallClock();
    timedElb(clock.now, AWS_TIMING).seed(m.targetGroupArn, oldIp(1));
    // DNS moves 4 s into the run (the second poll of the watch).
    const resolve = async () => (clock.elapsed() >= 4000 ? [newIp(1)] : [oldIp(1)]);
    const log = recordLog();

    const summary = await clock.run(runSync(config([m]), rdsEvent([m.endpoint]), { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log, ...clock }));

    const lines = log.lines.filter((l) => l.message === 'failover timeline');
    expect(lines).toHaveLength(1);
    // Registered at 14 s from the event; healthy 100 s later (90 s registration + 2 checks x 5 s),
    // seen on the next 5 s read; the old target drains 60 s, then is gone.
    expect(lines[0]?.extra).toEqual({
      endpoint: m.endpoint,
      targetGroupArn: m.targetGroupArn,
      port: 5432,
      newAddresses: [newIp(1)],
      oldAddresses: [oldIp(1)],
      trigger: 'rds-event',
      outcome: 'healthy',
      secondsFrom: 'event',
      eventId: 'RDS-EVENT-0073',
      eventTime: '2026-12-07T02:00:00.000Z',
      seenAt: '2026-12-07T02:00:14.000Z',
      seenSeconds: 14,
      registeredAt: '2026-12-07T02:00:14.000Z',
      registeredSeconds: 14,
      healthyAt: '2026-12-07T02:01:54.000Z',
      healthySeconds: 114,
      oldGoneAt: '2026-12-07T02:01:14.000Z',
      oldGoneSeconds: 74,
      registeredToHealthySeconds: 100,
      followBoundSeconds: 600,
      reads: 21,
    });
    expect(summary.failovers).toEqual([lines[0]?.extra]);
    // The summary line stays one per run and does not repeat the timeline.
    expect(log.lines.filter((l) => l.message === 'sync run')).toHaveLength(1);
    expect(log.lines.find((l) => l.message === 'sync run')?.extra).not.toHaveProperty('failovers');
    expect(summary.durationMs).toBe(104_000);
    expect(metric('FailoverEventToRegistered', true)).toEqual([14]);
    expect(metric('FailoverEventToHealthy', true)).toEqual([114]);
    expect(metric('FailoverEventToHealthy', false)).toEqual([114]);
    expect(metric('FailoverRegisteredToHealthy', true)).toEqual([100]);
    // MAPPING_METRICS=changes (the default): a mapping's 0 is not published, the run's 0 is (the alarm reads it).
    expect(metric('FailoversNotHealthy', true)).toEqual([]);
    expect(metric('FailoversNotHealthy', false)).toEqual([0]);
  });

  it("says when the new target is not healthy within the bound, with ELB's reason, and counts it", async () => {
    const m = mapping(1);
    const clock = wallClock();
    timedElb(clock.now, { ...AWS_TIMING, serves: (ip) => ip !== newIp(1) }).seed(m.targetGroupArn, oldIp(1));
    const resolve = async () => [newIp(1)];
    const log = recordLog();

    const summary = await clock.run(
      runSync(config([m], { failoverFollowMs: 300_000 }), rdsEvent([m.endpoint]), { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log, ...clock }),
    );

    const line = log.lines.find((l) => l.message === 'failover timeline')?.extra;
    expect(line).toMatchObject({
      outcome: 'not-healthy-within-bound',
      followBoundSeconds: 300,
      lastState: 'unhealthy',
      lastReason: 'Target.FailedHealthChecks',
      lastDescription: 'Health checks failed',
      oldGoneSeconds: 70,
    });
    expect(line).not.toHaveProperty('healthyAt');
    // The bound counts from RegisterTargets: the last read at or before 300 s after it.
    expect(summary.durationMs).toBe(300_000);
    expect(metric('FailoversNotHealthy', true)).toEqual([1]);
    expect(metric('FailoversNotHealthy', false)).toEqual([1]);
    expect(metric('FailoverEventToHealthy', true)).toEqual([]);
    expect(metric('FailoverRegisteredToHealthy', false)).toEqual([]);
    expect(metric('FailoverEventToRegistered', true)).toEqual([10]);
  });

  it('ends the follow before the Lambda deadline, says so, and counts it as neither healthy nor not', async () => {
    const m = mapping(1);
    const clock = wallClock();
    timedElb(clock.now, { ...AWS_TIMING, registrationMs: 300_000 }).seed(m.targetGroupArn, oldIp(1));
    const resolve = async () => [newIp(1)];
    const log = recordLog();
    const deadline = START + 150_000;

    const summary = await clock.run(runSync(config([m]), rdsEvent([m.endpoint], deadline), { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log, ...clock }));

    const line = log.lines.find((l) => l.message === 'failover timeline')?.extra;
    expect(line).toMatchObject({ outcome: 'cut-by-deadline', lastState: 'initial', lastReason: 'Elb.RegistrationInProgress' });
    // Reads stop 10 s before the deadline (the watch's margin), and the summary is logged in time.
    expect(START + summary.durationMs).toBeLessThanOrEqual(deadline - 10_000);
    expect(summary.outcome).toBe('success');
    expect(metric('FailoversNotHealthy', true)).toEqual([]);
    expect(metric('FailoversNotHealthy', false)).toEqual([]);
    expect(metric('FailoverEventToRegistered', false)).toEqual([10]);
  });

  it('counts from the first sighting in a scheduled run, and does not delay the other mappings or their re-syncs', async () => {
    const [a, b] = [mapping(1), mapping(2)];
    const clock = wallClock();
    // Registration takes 200 s here, so a is still followed at the 120 s re-sync.
    const elb = timedElb(clock.now, { ...AWS_TIMING, registrationMs: 200_000 });
    elb.seed(a.targetGroupArn, oldIp(1));
    elb.seed(b.targetGroupArn, oldIp(2));
    const asked: Record<string, number[]> = {};
    // a failed over before the run (its first resolution takes 3 s, so b's first pass ends
    // before a's follow starts); b fails over 70 s into the run, unannounced.
    const resolve = async (host: string) => {
      (asked[host] ??= []).push(clock.elapsed());
      if (host === a.endpoint) {
        if (clock.elapsed() === 0) await clock.sleep(3000);
        return [newIp(1)];
      }
      return clock.elapsed() >= 70_000 ? [newIp(2)] : [oldIp(2)];
    };
    const log = recordLog();

    const summary = await clock.run(
      runSync(config([a, b], { concurrency: 1 }), scheduled, { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log, ...clock }),
    );

    // b is synced at once, then once a schedule interval while a follows: it is registered at the
    // 120 s re-sync, as the next scheduled run would have done.
    expect(asked[b.endpoint]?.slice(0, 3)).toEqual([3000, 60_000, 120_000]);
    expect(summary.mappings[1]).toMatchObject({ endpoint: b.endpoint, added: [newIp(2)], removed: [oldIp(2)] });
    const timelines = log.lines.filter((l) => l.message === 'failover timeline').map((l) => l.extra);
    expect(timelines.map((t) => [t.endpoint, t.outcome, t.secondsFrom, t.trigger, t.seenSeconds])).toEqual([
      [a.endpoint, 'healthy', 'first-seen', 'schedule', 0],
      [b.endpoint, 'healthy', 'first-seen', 'schedule', 0],
    ]);
    expect(timelines[0]).not.toHaveProperty('eventTime');
    expect(timelines[0]).toMatchObject({ seenAt: '2026-12-07T02:00:13.000Z', registeredSeconds: 0, healthySeconds: 210, registeredToHealthySeconds: 210 });
    expect(metric('FailoverEventToHealthy', false)).toEqual([]);
    expect(metric('FailoverRegisteredToHealthy', false)).toEqual([210, 210]);
  });

  it("counts from the event only for the mappings the event concerns", async () => {
    const [a, b] = [mapping(1), mapping(2)];
    const clock = wallClock();
    const elb = timedElb(clock.now, AWS_TIMING);
    elb.seed(a.targetGroupArn, oldIp(1));
    elb.seed(b.targetGroupArn, oldIp(2));
    const log = recordLog();
    const resolve = async (host: string) => [host === a.endpoint ? newIp(1) : newIp(2)];

    await clock.run(runSync(config([a, b]), rdsEvent([a.endpoint]), { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log, ...clock }));

    const timelines = log.lines.filter((l) => l.message === 'failover timeline').map((l) => l.extra);
    expect(timelines.map((t) => [t.endpoint, t.trigger, t.secondsFrom, t.registeredSeconds])).toEqual([
      [a.endpoint, 'rds-event', 'event', 10],
      [b.endpoint, 'rds-event', 'first-seen', 0],
    ]);
    expect(metric('FailoverEventToRegistered', true)).toEqual([10]);
  });

  it('does not follow a first registration into an empty group', async () => {
    const m = mapping(1);
    const clock = wallClock();
    timedElb(clock.now, AWS_TIMING);
    const log = recordLog();

    const summary = await clock.run(runSync(config([m]), scheduled, { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve: async () => [newIp(1)], log, ...clock }));

    expect(summary.mappings[0]).toMatchObject({ added: [newIp(1)], removed: [] });
    expect(summary.durationMs).toBe(0);
    expect(log.lines.filter((l) => l.message === 'failover timeline')).toEqual([]);
    expect(sentMetrics().filter((d) => d.MetricName?.startsWith('Failover'))).toEqual([]);
  });

  it('keeps following a new target the first read does not list yet (ELB reads are eventually consistent)', async () => {
    const m = mapping(1);
    const clock = wallClock();
    timedElb(clock.now, AWS_TIMING).seed(m.targetGroupArn, oldIp(1));
    // The first DescribeTargetHealth after the pass (the follow's first read) misses the new target.
    let reads = 0;
    const elb = new ElasticLoadBalancingV2Client({});
    const send = elb.send.bind(elb);
    elb.send = (async (command: { constructor: { name: string } }) => {
      const out = (await send(command as never)) as { TargetHealthDescriptions?: TargetHealthDescription[] };
      if (command.constructor.name === 'DescribeTargetHealthCommand' && ++reads === 3) return { TargetHealthDescriptions: out.TargetHealthDescriptions?.filter((t) => t.Target?.Id !== newIp(1)) };
      return out;
    }) as typeof elb.send;
    const log = recordLog();

    await clock.run(runSync(config([m]), scheduled, { elb, cloudwatch: new CloudWatchClient({}), resolve: async () => [newIp(1)], log, ...clock }));

    expect(log.lines.find((l) => l.message === 'failover timeline')?.extra).toMatchObject({ outcome: 'healthy', registeredToHealthySeconds: 100 });
  });

  it('stops following when the new target leaves the group before it is healthy', async () => {
    const m = mapping(1);
    const clock = wallClock();
    const elb = timedElb(clock.now, AWS_TIMING);
    elb.seed(m.targetGroupArn, oldIp(1));
    const log = recordLog();
    const sleep = async (ms: number) => {
      await clock.sleep(ms);
      // An operator deregisters the new target 30 s in.
      if (clock.elapsed() === 30_000) elb.deregister(m.targetGroupArn, newIp(1));
    };

    await clock.run(runSync(config([m]), scheduled, { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve: async () => [newIp(1)], log, now: clock.now, sleep }));

    const lines = log.lines.filter((l) => l.message === 'failover timeline').map((l) => l.extra);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ newAddresses: [newIp(1)], outcome: 'left-group', lastState: 'initial', lastReason: 'Elb.RegistrationInProgress', reads: 7 });
    expect(metric('FailoversNotHealthy', false)).toEqual([]);
  });
});

describe('the failover timeline line, as Powertools writes it', () => {
  /** The field list of docs/operate.md's "Failover history" Logs Insights query. */
  function failoverHistoryQuery() {
    const doc = readFileSync(new URL('../../docs/operate.md', import.meta.url), 'utf8');
    const query = /```\n# Failover history[^\n]*\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const fields = (/fields ([\s\S]*?)\n\|/.exec(query)?.[1] ?? '').split(',').map((f) => f.trim().split(/\s+as\s+/)[0] ?? '');
    return { query, fields: fields.filter((f) => f !== '@timestamp') };
  }
  const read = (line: Record<string, unknown>, path: string) => path.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], line);

  it('carries every field the documented "Failover history" query reads', async () => {
    const lines: Record<string, unknown>[] = [];
    const write = (chunk: unknown) => {
      for (const text of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(text) as Record<string, unknown>);
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(write);
    vi.spyOn(process.stderr, 'write').mockImplementation(write);
    const log = new Logger({ serviceName: 'rds-nlb-sync', logLevel: 'INFO' });
    const [a, b] = [mapping(1), mapping(2)];
    const clock = wallClock();
    const elb = timedElb(clock.now, { ...AWS_TIMING, serves: (ip) => ip !== newIp(2) });
    elb.seed(a.targetGroupArn, oldIp(1));
    elb.seed(b.targetGroupArn, oldIp(2));
    const resolve = async (host: string) => [host === a.endpoint ? newIp(1) : newIp(2)];

    await clock.run(runSync(config([a, b], { failoverFollowMs: 300_000 }), rdsEvent([a.endpoint, b.endpoint]), { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log, ...clock }));

    const { query, fields } = failoverHistoryQuery();
    expect(query).toContain('filter message = "failover timeline"');
    expect(fields).toEqual([
      'endpoint', 'outcome', 'trigger', 'eventId', 'eventTime', 'seenSeconds', 'registeredSeconds',
      'healthySeconds', 'oldGoneSeconds', 'registeredToHealthySeconds', 'newAddresses.0', 'oldAddresses.0', 'lastState', 'lastReason',
    ]);
    const timelines = lines.filter((l) => l.message === 'failover timeline');
    const healthy = timelines.find((l) => l.outcome === 'healthy') ?? {};
    const notHealthy = timelines.find((l) => l.outcome === 'not-healthy-within-bound') ?? {};
    const onlyWhenNot = ['lastState', 'lastReason'];
    const onlyWhenHealthy = ['healthySeconds', 'registeredToHealthySeconds'];
    for (const field of fields) {
      if (!onlyWhenNot.includes(field)) expect(read(healthy, field), `healthy: ${field}`).toBeDefined();
      if (!onlyWhenHealthy.includes(field)) expect(read(notHealthy, field), `not healthy: ${field}`).toBeDefined();
    }
    expect(notHealthy).toMatchObject({ lastState: 'unhealthy', lastReason: 'Target.FailedHealthChecks' });
    // No reserved key was passed (Powertools would have warned that it dropped it).
    expect(lines.filter((l) => String(l.message).includes('reserved key'))).toEqual([]);
  });
});
