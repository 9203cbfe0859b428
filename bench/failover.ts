// Failover convergence: how long after the RDS endpoint's DNS answer changes (t0) the new
// address is registered in the target group (RegisterTargets reaching the fake ELB, 20 ms per
// AWS call), with the deployed bundle's handler, warm, against a loopback DNS server.
//
// RDS-event path: the failover event has started a run that re-resolves every FAILOVER_POLL_MS
// (the real default) until the answer changes; t0 falls at evenly spread points of the poll
// cycle. Scheduled path: the run the schedule starts after t0; the bench ticks every
// SCHEDULE_BENCH_MS instead of every minute, and the wait for the tick is scaled back to the
// real schedule (the run's own time is not scaled).
//
// Then AWS's terms: the fake ELB reports target health with AWS's timing (test/harness/
// elb-timing.ts) scaled by ELB_SCALE, so each trial also waits until the new target is first
// `healthy`. Registered -> healthy is modelled (registration delay + interval x healthy
// threshold), not measured on AWS; the result keeps it apart from our measured term and gives
// the unscaled figure: ours + modelled registered -> healthy / ELB_SCALE.
import { join } from 'node:path';
import { loadSyncConfig } from '../lib/config.js';
import { startDnsServer } from '../test/harness/dns-server.js';
import { ROOT, type BundleResult } from './bundle.js';
import { ENDPOINT, TARGET_GROUP } from './cold-start.js';
import { AWS_LATENCY_MS } from './cost.js';
import { toHealthyMs, type ElbTiming } from '../test/harness/elb-timing.js';
import { startFakeAws, type FakeAws } from './fake-aws.js';
import { lambdaContext, loadHandler, pointSdkAt, rdsFailoverEvent, SCHEDULED_EVENT } from './handler.js';
import { progress, round, sleep, summarize, type Summary } from './stats.js';

const OLD_IP = '10.0.1.23';
const NEW_IP = '10.0.2.47';
/** The event's run has resolved once and is in its poll loop before the first t0. */
const EVENT_LEAD_MS = 100;
export const SCHEDULE_BENCH_MS = 1000;
/** AWS's ELB terms run at this fraction: registration 180 s -> 0.9 s. */
export const ELB_SCALE = 0.005;

/** AWS's terms as the bench models them. */
export interface ModeledElb {
  scale: number;
  /** Unscaled: registration delay, health-check interval, thresholds, deregistration delay. */
  timing: ElbTiming;
  /** Unscaled registered -> healthy for an address that serves: registration + interval x healthy threshold. */
  registeredToHealthyMs: number;
}

/** One path's failover, end to end. */
export interface EndToEnd {
  /** Ours, measured: DNS change -> RegisterTargets answered (the schedule's wait scaled to the real schedule). */
  ourTermMs: Summary;
  /** Measured against the scaled model: RegisterTargets -> first `healthy`. */
  registeredToHealthyScaledMs: Summary;
  /** ourTermMs + registered -> healthy unscaled: what the same failover takes with AWS's terms. */
  dnsToHealthyMs: Summary;
}

export interface FailoverResult {
  trials: number;
  awsLatencyMs: number;
  elb: ModeledElb;
  rdsEvent: { pollMs: number; watchSeconds: number; convergeMs: Summary; samples: number[]; endToEnd: EndToEnd };
  scheduled: {
    realScheduleMs: number;
    benchScheduleMs: number;
    /** t0 -> registration with the bench's schedule. */
    measuredMs: Summary;
    /** The same, with the wait for the tick scaled to the real schedule. */
    scaledMs: Summary;
    /** Tick -> registration: the run itself. */
    runMs: Summary;
    endToEnd: EndToEnd;
  };
}

export async function runFailoverBench(bundle: BundleResult, trials: number, realScheduleMs: number): Promise<FailoverResult> {
  const defaults = loadSyncConfig({ RDS_ENDPOINT: ENDPOINT, TARGET_GROUP_ARN: TARGET_GROUP, TARGET_PORT: '5432' });
  const aws = await startFakeAws({ latencyMs: AWS_LATENCY_MS, elbScale: ELB_SCALE });
  const dns = await startDnsServer();
  pointSdkAt(aws.endpoint);
  try {
    // The defaults of FAILOVER_POLL_MS and FAILOVER_WATCH_SECONDS: neither is set.
    const handler = await loadHandler(join(ROOT, bundle.file), { RDS_ENDPOINT: ENDPOINT, TARGET_GROUP_ARN: TARGET_GROUP, TARGET_PORT: '5432', DNS_SERVERS: dns.address });
    const reset = async () => {
      dns.setA(ENDPOINT, [OLD_IP]);
      aws.setTargets(TARGET_GROUP, [{ ip: OLD_IP, port: 5432 }]);
      await handler(SCHEDULED_EVENT, lambdaContext()); // warm, and in sync on the old address
    };
    const registered = (timeoutMs: number) => aws.waitForRegistration((r) => r.targets.some((t) => t.ip === NEW_IP), timeoutMs);

    const eventSamples: number[] = [];
    const eventHealthy: number[] = [];
    for (let i = 0; i < trials; i++) {
      await reset();
      const phase = ((i + 0.5) / trials) * defaults.failoverPollMs;
      const start = performance.now();
      const run = handler(rdsFailoverEvent(ENDPOINT.split('.')[0] ?? ''), lambdaContext(defaults.failoverWatchMs + 30_000));
      const registration = registered(EVENT_LEAD_MS + phase + 2 * defaults.failoverPollMs + 5000);
      await sleep(start + EVENT_LEAD_MS + phase - performance.now());
      const t0 = performance.now();
      dns.setA(ENDPOINT, [NEW_IP]);
      const { at } = await registration;
      const summary = await run;
      if (summary.outcome !== 'success') throw new Error(`RDS-event run failed: ${JSON.stringify(summary).slice(0, 500)}`);
      eventSamples.push(round(at - t0));
      eventHealthy.push(round((await firstHealthy(aws, NEW_IP, at)) - at));
    }
    progress(`failover, RDS event: median ${summarize(eventSamples).median} ms over ${trials} trials`);

    const measured: number[] = [];
    const scaled: number[] = [];
    const runs: number[] = [];
    const scheduledHealthy: number[] = [];
    const scale = realScheduleMs / SCHEDULE_BENCH_MS;
    for (let i = 0; i < trials; i++) {
      await reset();
      // A tick at `base` (old answer), t0 at an evenly spread point of the period, the next tick.
      const base = performance.now();
      const phase = ((i + 0.5) / trials) * SCHEDULE_BENCH_MS;
      await sleep(base + phase - performance.now());
      const t0 = performance.now();
      dns.setA(ENDPOINT, [NEW_IP]);
      const registration = registered(SCHEDULE_BENCH_MS + 5000);
      await sleep(base + SCHEDULE_BENCH_MS - performance.now());
      const tick = performance.now();
      const summary = await handler(SCHEDULED_EVENT, lambdaContext());
      const { at } = await registration;
      if (summary.outcome !== 'success') throw new Error(`scheduled run failed: ${JSON.stringify(summary).slice(0, 500)}`);
      measured.push(round(at - t0));
      runs.push(round(at - tick));
      scaled.push(round((tick - t0) * scale + (at - tick)));
      scheduledHealthy.push(round((await firstHealthy(aws, NEW_IP, at)) - at));
    }
    progress(`failover, schedule: run ${summarize(runs).median} ms after the tick`);

    progress(`failover, ELB modelled x${ELB_SCALE}: registered -> healthy median ${summarize(eventHealthy).median} ms scaled`);

    const endToEnd = (ours: number[], healthy: number[]): EndToEnd => ({
      ourTermMs: summarize(ours),
      registeredToHealthyScaledMs: summarize(healthy),
      dnsToHealthyMs: summarize(ours.map((o, i) => round(o + (healthy[i] ?? NaN) / ELB_SCALE))),
    });
    const { unscaled } = aws.elbTiming;
    return {
      trials,
      awsLatencyMs: AWS_LATENCY_MS,
      elb: { scale: ELB_SCALE, timing: unscaled, registeredToHealthyMs: toHealthyMs(unscaled) },
      rdsEvent: {
        pollMs: defaults.failoverPollMs,
        watchSeconds: defaults.failoverWatchMs / 1000,
        convergeMs: summarize(eventSamples),
        samples: eventSamples,
        endToEnd: endToEnd(eventSamples, eventHealthy),
      },
      scheduled: {
        realScheduleMs,
        benchScheduleMs: SCHEDULE_BENCH_MS,
        measuredMs: summarize(measured),
        scaledMs: summarize(scaled),
        runMs: summarize(runs),
        endToEnd: endToEnd(scaled, scheduledHealthy),
      },
    };
  } finally {
    await dns.close();
    await aws.close();
  }
}

/** When the fake ELB first reported `ip` healthy after the registration at `registeredAt` (performance.now() ms). */
async function firstHealthy(aws: FakeAws, ip: string, registeredAt: number): Promise<number> {
  const deadline = performance.now() + toHealthyMs(aws.elbTiming.scaled) + 10_000;
  for (;;) {
    // The latest registration of `ip`: the one this trial made.
    const h = aws.targetHistory(TARGET_GROUP).filter((x) => x.ip === ip && x.registeredAt <= registeredAt).at(-1);
    if (h?.firstHealthyAt !== undefined) return h.firstHealthyAt;
    if (performance.now() > deadline) throw new Error(`${ip} not healthy within ${deadline - registeredAt} ms of its registration`);
    await sleep(10);
  }
}
