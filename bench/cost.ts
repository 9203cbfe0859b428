// Cost per run: AWS API calls and wall time of one steady-state sync (every target group already
// right) for 1, 10 and 100 mappings, each AWS call delayed 20 ms by the fake AWS, DNS from a
// loopback server. The deployed bundle's handler runs warm in this process, with the default
// SYNC_CONCURRENCY and with 1 (one mapping after the other). Then what a month of the default
// schedule costs in invocations and GB-seconds, from the measured duration. runFleetBench: 100 and
// 1,000 mappings (and 1,000 found by tag) in a fresh sandbox process (bench/fleet-child.mjs), against
// ELB's documented throttling: the cold container's first scheduled run (every group read) and the
// warm runs after it (the read budget's share of the settled groups), their wall time, AWS calls per
// API, throttled requests and peak memory; and, without throttling, the memory rows and 1,000 reader
// and custom endpoint mappings over 500 clusters (their member sets read in one batched read per run). Plus
// one reader endpoint mapping (a 3-instance cluster: the members listed with the RDS API each run).
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { startDnsServer, type DnsServer } from '../test/harness/dns-server.js';
import { loadSyncConfig } from '../lib/config.js';
import { ROOT, type BundleResult } from './bundle.js';
import { lambdaNode } from './cold-start.js';
import { startFakeAws, type FakeAws } from './fake-aws.js';
import { APP_KEYS, lambdaContext, loadHandler, pointSdkAt, SCHEDULED_EVENT } from './handler.js';
import { round, progress, sleep, summarize, type Summary } from './stats.js';

export const AWS_LATENCY_MS = 20;
export const MAPPING_COUNTS = [1, 10, 100] as const;

export interface CostRun {
  mappings: number;
  concurrency: number;
  runs: number;
  durationMs: Summary;
  /** AWS API calls of one run, per action. */
  calls: Record<string, number>;
  totalCalls: number;
}

export interface CostResult {
  awsLatencyMs: number;
  defaultConcurrency: number;
  runs: CostRun[];
  /** mappings -> (concurrency 1 median) / (default concurrency median) */
  oneByOneRatio: Record<string, number>;
  /** One reader endpoint mapping, steady state, default concurrency. */
  reader: CostRun;
}

const endpointOf = (i: number) => `db${i}.c0ffee.eu-west-1.rds.amazonaws.com`;
const targetGroupOf = (i: number) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/bench-${i}/${(0x1000000000000000 + i).toString(16)}`;
const ipOf = (i: number) => `10.0.${Math.floor(i / 200) + 1}.${(i % 200) + 10}`;

export async function runCostBench(bundle: BundleResult, runsPerCase: number): Promise<CostResult> {
  // The real default, from the code: no SYNC_CONCURRENCY set.
  const defaultConcurrency = loadSyncConfig({ RDS_ENDPOINT: endpointOf(0), TARGET_GROUP_ARN: targetGroupOf(0), TARGET_PORT: '5432' }).concurrency;
  const aws = await startFakeAws({ latencyMs: AWS_LATENCY_MS });
  const dns = await startDnsServer();
  pointSdkAt(aws.endpoint);
  const runs: CostRun[] = [];
  try {
    for (const count of MAPPING_COUNTS) {
      const mappings = Array.from({ length: count }, (_, i) => ({ endpoint: endpointOf(i), targetGroupArn: targetGroupOf(i), port: 5432 }));
      mappings.forEach((m, i) => {
        dns.setA(m.endpoint, [ipOf(i)]);
        aws.setTargets(m.targetGroupArn, [{ ip: ipOf(i), port: 5432 }]);
      });
      for (const concurrency of [defaultConcurrency, 1]) {
        const env: Record<string, string> = { SYNC_MAPPINGS: JSON.stringify(mappings), DNS_SERVERS: dns.address };
        if (concurrency !== defaultConcurrency) env.SYNC_CONCURRENCY = String(concurrency);
        const handler = await loadHandler(join(ROOT, bundle.file), env);
        await handler(SCHEDULED_EVENT, lambdaContext()); // the cold invoke: not a steady-state run
        const durations: number[] = [];
        let calls: Record<string, number> = {};
        for (let i = 0; i < runsPerCase; i++) {
          aws.resetCounts();
          const started = performance.now();
          const summary = await handler(SCHEDULED_EVENT, lambdaContext());
          durations.push(performance.now() - started);
          if (summary.outcome !== 'success' || summary.mappings.some((m) => m.reason !== 'in-sync')) throw new Error(`steady-state run was not in sync: ${JSON.stringify(summary).slice(0, 500)}`);
          calls = aws.counts();
        }
        const run = { mappings: count, concurrency, runs: runsPerCase, durationMs: summarize(durations), calls, totalCalls: Object.values(calls).reduce((a, b) => a + b, 0) };
        progress(`cost: ${count} mapping(s), concurrency ${concurrency}: ${run.durationMs.median} ms, ${run.totalCalls} calls`);
        runs.push(run);
      }
    }
  } finally {
    await dns.close();
    await aws.close();
  }
  const reader = await runReaderCost(join(ROOT, bundle.file), runsPerCase, defaultConcurrency);
  const median = (m: number, c: number) => runs.find((r) => r.mappings === m && r.concurrency === c)?.durationMs.median ?? NaN;
  const oneByOneRatio = Object.fromEntries(MAPPING_COUNTS.map((m) => [String(m), round(median(m, 1) / median(m, defaultConcurrency), 2)]));
  return { awsLatencyMs: AWS_LATENCY_MS, defaultConcurrency, runs, oneByOneRatio, reader };
}

/** A reader endpoint over a writer and two readers, the group already on both readers: its RDS and ELB calls per run. */
export async function runReaderCost(handlerFile: string, runs: number, concurrency: number): Promise<CostRun> {
  const aws = await startFakeAws({ latencyMs: AWS_LATENCY_MS });
  const dns = await startDnsServer();
  pointSdkAt(aws.endpoint);
  try {
    const host = (id: string) => `${id}.c0ffee.eu-west-1.rds.amazonaws.com`;
    const members = ['bench-1', 'bench-2', 'bench-3'].map((id, i) => ({ id, writer: i === 0, address: host(id) }));
    aws.setCluster('bench', members);
    members.forEach((m, i) => dns.setA(m.address, [ipOf(i)]));
    const mapping = { endpoint: 'bench.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com', targetGroupArn: targetGroupOf(0), port: 5432 };
    aws.setTargets(mapping.targetGroupArn, [1, 2].map((i) => ({ ip: ipOf(i), port: 5432 })));
    const handler = await loadHandler(handlerFile, { SYNC_MAPPINGS: JSON.stringify([mapping]), DNS_SERVERS: dns.address });
    await handler(SCHEDULED_EVENT, lambdaContext()); // the cold invoke
    const durations: number[] = [];
    let calls: Record<string, number> = {};
    for (let i = 0; i < runs; i++) {
      aws.resetCounts();
      const started = performance.now();
      const summary = await handler(SCHEDULED_EVENT, lambdaContext());
      durations.push(performance.now() - started);
      if (summary.outcome !== 'success' || summary.mappings[0]?.reason !== 'in-sync') throw new Error(`reader steady-state run was not in sync: ${JSON.stringify(summary).slice(0, 500)}`);
      calls = aws.counts();
    }
    const run = { mappings: 1, concurrency, runs, durationMs: summarize(durations), calls, totalCalls: Object.values(calls).reduce((a, b) => a + b, 0) };
    progress(`cost: 1 reader endpoint mapping: ${run.durationMs.median} ms, ${JSON.stringify(calls)}`);
    return run;
  } finally {
    await dns.close();
    await aws.close();
  }
}

export interface MonthlyCost {
  schedule: string;
  invocationsPerMonth: number;
  memoryMb: number;
  memorySource: string;
  /** Billed duration of one run: the measured median, rounded up to the next ms (Lambda bills per ms). */
  billedMs: number;
  gbSeconds: number;
}

/** 730 hours: the month AWS prices with. */
const MINUTES_PER_MONTH = 730 * 60;

export function monthlyCost(schedule: string, durationMs: number, memoryMb: number, memorySource: string): MonthlyCost {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(schedule);
  const everyMinutes = rate ? Number(rate[1]) * (rate[2]?.startsWith('hour') ? 60 : 1) : 1;
  const invocationsPerMonth = Math.round(MINUTES_PER_MONTH / everyMinutes);
  const billedMs = Math.ceil(durationMs);
  return { schedule, invocationsPerMonth, memoryMb, memorySource, billedMs, gbSeconds: round((invocationsPerMonth * billedMs * memoryMb) / 1024 / 1000, 0) };
}

// --- fleet size: 100 and 1,000 mappings, one scheduled run each -----------------------------------

export const FLEET_COUNTS = [100, 1000] as const;
/** The columns of docs/performance.md's cost table. */
export const MONTHLY_COUNTS: number[] = [1, 100, 1000];
/** Discovery's default tag key (lib/config.ts DEFAULT_DISCOVERY_TAG_KEY). */
const DISCOVERY_TAG = 'rds-nlb-sync:endpoint';

/** One scheduled invocation of a fleet case. */
export interface FleetInvocation {
  /** Wall time of the handler's invoke. */
  ms: number;
  /** AWS API calls answered, per action. */
  calls: Record<string, number>;
  /** ELB requests refused with `Throttling` (each attempt the SDK sent), per action. */
  throttled: Record<string, number>;
  /** Mappings whose group was not read (settled, beyond the run's read budget: lib/sync/reads.ts). */
  settled: number;
  /** Mappings that failed (the run then fails, as Lambda sees it). */
  failed: number;
  /** The failed mappings' distinct errors, at most 5. */
  errors?: string[];
}

export interface FleetRun {
  mappings: number;
  /** true: the mappings are target groups found by tag (DISCOVER_TARGET_GROUPS), listed every run. */
  discovery: boolean;
  concurrency: number;
  runs: number;
  /**
   * true: the fake ELB throttles as AWS documents (bench/fake-aws.ts ELB_THROTTLING: Describe* 40
   * tokens, 10 a second, one bucket for the account), so the run's time is what ELB's rate allows.
   */
  elbThrottling: boolean;
  /** The read budget of a run (TARGET_READS_PER_SECOND x SCHEDULE_INTERVAL_SECONDS, defaults). */
  readBudget: number;
  /** Each invocation's Lambda deadline, ms: the deployed timeout, or FLEET_DEADLINE_CAP_MS if shorter. */
  deadlineMs: number;
  /**
   * The cold container's first scheduled run: no group read yet, so every group is read (the
   * ledger, lib/sync/reads.ts, lives in the container). Not in durationMs.
   */
  first: FleetInvocation;
  /** The warm runs after it, in order (each after ELB's buckets refilled, as the rest of the interval would). */
  warm: FleetInvocation[];
  /** Wall time of one steady-state scheduled run (the handler's invoke), warm: the warm runs' summary. */
  durationMs: Summary;
  /** AWS API calls of one run, per action: the last warm run's. */
  calls: Record<string, number>;
  totalCalls: number;
  /**
   * Peak resident memory of the sandbox process (bench/fleet-child.mjs: node and the deployed bundle
   * only, the fake AWS and DNS in this process), process.resourceUsage().maxRSS after the last run:
   * the peak over its whole life, cold invoke included, as Lambda's "Max Memory Used". MB = 2^20 bytes.
   */
  peakRssMb: number;
  /** rss right after the bundle was imported, before any invoke. */
  loadedRssMb: number;
  /** The sandbox's Node (the Lambda runtime's major, scripts/runtime-node.sh). */
  node: string;
  /**
   * --max-old-space-size given to the sandbox, MB; absent: none (V8 sizes its heap from the
   * machine's memory, 24 GiB here, and collects lazily, so the peak is higher than it needs).
   */
  maxOldSpaceMb?: number;
  /**
   * true: reader and custom endpoint mappings, a reader and a custom endpoint per 3-instance
   * cluster (mappings / 2 clusters), members listed with the RDS API every run; otherwise writer
   * endpoints (DNS only).
   */
  memberSets?: boolean;
}

/**
 * count / 2 Aurora clusters of a writer and two readers, each served by a reader endpoint mapping
 * and a custom endpoint mapping (ANY, its third member excluded), every group already right.
 */
export function seedMemberSets(aws: FakeAws, dns: DnsServer, count: number) {
  const host = (id: string) => `${id}.c0ffee.eu-west-1.rds.amazonaws.com`;
  const mappings: { endpoint: string; targetGroupArn: string; port: number }[] = [];
  for (let c = 0; c < count / 2; c++) {
    const members = [1, 2, 3].map((m) => ({ id: `mc${c}-${m}`, writer: m === 1, address: host(`mc${c}-${m}`), ip: ipOf(3 * c + m - 1) }));
    aws.setCluster(`mc${c}`, members);
    aws.setCustomEndpoint(`mc${c}-any`, { clusterId: `mc${c}`, type: 'ANY', excludedMembers: [`mc${c}-3`] });
    members.forEach((m) => dns.setA(m.address, [m.ip]));
    const serve = (endpoint: string, i: number, served: typeof members) => {
      mappings.push({ endpoint, targetGroupArn: targetGroupOf(i), port: 5432 });
      aws.setTargets(targetGroupOf(i), served.map((m) => ({ ip: m.ip, port: 5432 })));
    };
    serve(`mc${c}.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com`, 2 * c, members.slice(1));
    serve(`mc${c}-any.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com`, 2 * c + 1, members.slice(0, 2));
  }
  return mappings;
}

interface Invoked {
  ms: number;
  outcome: string;
  mappings: number;
  reasons: string[];
  settled: number;
  failed: number;
  errors?: string[];
  rssBytes: number;
  maxRssBytes: number;
}

/** A fresh node process holding the bundle (bench/fleet-child.mjs), driven over IPC. */
async function startSandbox(file: string, env: Record<string, string>, execArgv: string[]) {
  const child = fork(join(ROOT, 'bench', 'fleet-child.mjs'), [file, JSON.stringify(SCHEDULED_EVENT)], {
    execArgv,
    // The Lambda runtime's Node major, as the cold starts (scripts/runtime-node.sh).
    execPath: lambdaNode(),
    // The SDK settings (pointSdkAt), none of the app settings an earlier bench left in this process.
    env: Object.fromEntries(Object.entries(process.env).filter(([key]) => !APP_KEYS.includes(key))),
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<{ type: string; error?: string; node?: string } & Partial<Invoked>>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`fleet sandbox exited (${code}) before answering`));
      child.once('exit', onExit);
      child.once('message', (m) => {
        child.off('exit', onExit);
        const msg = m as { type: string; error?: string; node?: string } & Partial<Invoked>;
        if (msg.type === 'error') reject(new Error(`fleet sandbox: ${msg.error}`));
        else resolve(msg);
      });
    });
  await next(); // ready
  child.send({ type: 'load', env });
  const loaded = await next();
  return {
    loadedRssBytes: loaded.rssBytes ?? NaN,
    node: loaded.node ?? 'unknown',
    /** One scheduled invocation, its Lambda deadline `timeoutMs` away. */
    invoke: async (timeoutMs: number): Promise<Invoked> => {
      const answer = next();
      child.send({ type: 'invoke', timeoutMs });
      return (await answer) as Invoked;
    },
    close: () => void child.kill(),
  };
}

/** One fleet case: a fresh sandbox, its first (cold) run and `runs` warm ones. */
export interface FleetCase {
  count: number;
  discovery: boolean;
  maxOldSpaceMb?: number;
  memberSets?: boolean;
  /** ELB throttles as AWS documents (bench/fake-aws.ts ELB_THROTTLING). */
  elbThrottling: boolean;
}

/**
 * The fleet rows: 100 and 1,000 mappings at the default concurrency, static (SYNC_MAPPINGS) and,
 * for 1,000, found by tag, with ELB throttling as AWS documents it: their times are what ELB's
 * Describe* rate allows. Then the memory rows: the discovery case again with V8's old space capped
 * at 85% of the deployed memory (what the function needs rather than what an unbounded V8 keeps),
 * and 1,000 reader and custom endpoint mappings (their RDS calls), without throttling: each
 * throttled 1,000 case costs the bench about two minutes of ELB's rate, and throttling changes
 * neither the memory nor the RDS calls.
 */
export function fleetCases(memoryMb: number): FleetCase[] {
  const cap = Math.floor(memoryMb * 0.85);
  return [
    ...FLEET_COUNTS.map((count) => ({ count, discovery: false, elbThrottling: true })),
    { count: 1000, discovery: true, elbThrottling: true },
    { count: 1000, discovery: true, maxOldSpaceMb: cap, elbThrottling: false },
    { count: 1000, discovery: false, memberSets: true, elbThrottling: false },
    { count: 1000, discovery: false, maxOldSpaceMb: cap, memberSets: true, elbThrottling: false },
  ];
}

export interface FleetOptions {
  /** The schedule interval, ms: SCHEDULE_INTERVAL_SECONDS of the deployed function (the read budget follows). */
  scheduleMs: number;
  /** The deployed sync timeout, ms: each invocation's Lambda deadline, up to FLEET_DEADLINE_CAP_MS. */
  timeoutMs: number;
  cases: FleetCase[];
}

/**
 * The bench gives an invocation at most this long (its Lambda deadline), not the deployed 822 s: a
 * first run that takes longer than 3 minutes is reported as one that did not finish in time
 * (`first.failed`, deadline errors) rather than holding the bench for 14 minutes.
 */
export const FLEET_DEADLINE_CAP_MS = 180_000;

const REASONS_IN_STEADY_STATE = new Set(['in-sync', 'settled']);

/** Each case in a fresh sandbox: its first scheduled run (cold container), then `runsPerCase` warm ones. */
export async function runFleetBench(bundle: BundleResult, runsPerCase: number, options: FleetOptions): Promise<FleetRun[]> {
  const intervalSeconds = Math.round(options.scheduleMs / 1000);
  const base = { RDS_ENDPOINT: endpointOf(0), TARGET_GROUP_ARN: targetGroupOf(0), TARGET_PORT: '5432', SCHEDULE_INTERVAL_SECONDS: String(intervalSeconds) };
  const { concurrency: defaultConcurrency, targetReadsPerRun: readBudget } = loadSyncConfig(base);
  const deadlineMs = Math.min(options.timeoutMs, FLEET_DEADLINE_CAP_MS);
  const out: FleetRun[] = [];
  for (const { count, discovery, maxOldSpaceMb, memberSets = false, elbThrottling } of options.cases) {
    const aws = await startFakeAws({ latencyMs: AWS_LATENCY_MS, elbThrottling });
    const dns = await startDnsServer();
    pointSdkAt(aws.endpoint);
    const label = `${count} mappings${discovery ? ' (discovery)' : ''}${memberSets ? ' (reader + custom endpoints)' : ''}${maxOldSpaceMb ? `, --max-old-space-size=${maxOldSpaceMb}` : ''}${elbThrottling ? ', ELB throttling' : ''}`;
    try {
      const mappings = memberSets
        ? seedMemberSets(aws, dns, count)
        : Array.from({ length: count }, (_, i) => ({ endpoint: endpointOf(i), targetGroupArn: targetGroupOf(i), port: 5432 }));
      if (!memberSets) {
        mappings.forEach((m, i) => {
          dns.setA(m.endpoint, [ipOf(i)]);
          aws.setTargets(m.targetGroupArn, [{ ip: ipOf(i), port: 5432 }]);
        });
      }
      const env: Record<string, string> = { DNS_SERVERS: dns.address, SCHEDULE_INTERVAL_SECONDS: String(intervalSeconds) };
      if (discovery) {
        aws.setTargetGroups(mappings.map((m, i) => ({ arn: m.targetGroupArn, name: `bench-${i}`, port: m.port, tags: { [DISCOVERY_TAG]: m.endpoint } })));
        env.DISCOVER_TARGET_GROUPS = 'true';
      } else {
        env.SYNC_MAPPINGS = JSON.stringify(mappings);
      }
      const child = await startSandbox(join(ROOT, bundle.file), env, maxOldSpaceMb ? [`--max-old-space-size=${maxOldSpaceMb}`] : []);
      const warm: FleetInvocation[] = [];
      let first: FleetInvocation | undefined;
      let last: Invoked | undefined;
      try {
        // One scheduled invocation. Every group is already right: a reason other than in sync or
        // settled is the bench's fault. A failed mapping is a finding under ELB throttling (a call
        // that ran out of retries), the bench's fault without it.
        const invoke = async (): Promise<FleetInvocation> => {
          aws.resetCounts();
          const r = await child.invoke(deadlineMs);
          const unexpected = r.reasons.filter((reason) => !REASONS_IN_STEADY_STATE.has(reason) && !(elbThrottling && reason === 'error'));
          if (r.mappings !== count || unexpected.length > 0 || (!elbThrottling && r.outcome !== 'success')) {
            throw new Error(`fleet run (${label}) was not in sync: ${JSON.stringify({ ...r, errors: r.errors })}`);
          }
          last = r;
          const calls = aws.counts();
          return { ms: round(r.ms, 1), calls, throttled: aws.throttled(), settled: r.settled, failed: r.failed, ...(r.errors ? { errors: r.errors } : {}) };
        };
        // Between runs the rest of the schedule interval refills ELB's buckets (at most 4 s).
        const refill = () => sleep(aws.elbBuckets ? Math.max(aws.elbBuckets.describe.msUntilFull(), aws.elbBuckets.mutate.msUntilFull()) : 0);
        first = await invoke();
        progress(`fleet: ${label}: first (cold) run ${Math.round(first.ms)} ms, ${JSON.stringify(first.calls)}, throttled ${JSON.stringify(first.throttled)}, ${first.failed} failed${first.errors ? ` (${first.errors.join(' | ')})` : ''}`);
        for (let i = 0; i < runsPerCase; i++) {
          await refill();
          warm.push(await invoke());
        }
      } finally {
        child.close();
      }
      const mb = (b: number) => round(b / 2 ** 20, 0);
      const calls = warm.at(-1)?.calls ?? {};
      const run: FleetRun = {
        mappings: count,
        discovery,
        concurrency: defaultConcurrency,
        runs: runsPerCase,
        elbThrottling,
        readBudget,
        deadlineMs,
        first,
        warm,
        durationMs: summarize(warm.map((w) => w.ms)),
        calls,
        totalCalls: Object.values(calls).reduce((a, b) => a + b, 0),
        peakRssMb: mb(last?.maxRssBytes ?? NaN),
        loadedRssMb: mb(child.loadedRssBytes),
        node: child.node,
        ...(maxOldSpaceMb ? { maxOldSpaceMb } : {}),
        ...(memberSets ? { memberSets } : {}),
      };
      const throttled = (w: FleetInvocation) => Object.values(w.throttled).reduce((a, b) => a + b, 0);
      progress(
        `fleet: ${label}: warm median ${run.durationMs.median} ms, ${JSON.stringify(calls)}, throttled ${warm.map(throttled).join('/')}, settled ${warm.map((w) => w.settled).join('/')}, failed ${warm.map((w) => w.failed).join('/')}, peak rss ${run.peakRssMb} MB (${run.loadedRssMb} MB after import)`,
      );
      out.push(run);
    } finally {
      await dns.close();
      await aws.close();
    }
  }
  return out;
}
