// npm run bench: every measurement of bench/, one table on stdout, bench/results.json.
// Offline and loopback only; about ten minutes on 2 cores, six of them the fleet rows, which wait on ELB's
// documented Describe* rate (bench/fake-aws.ts ELB_THROTTLING) as AWS would. `--quick`: fewer runs, a smoke test
// of the bench itself; it writes node_modules/.cache/rds-nlb-sync-bench/results.json instead.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { version as esbuildVersion } from 'esbuild';
import { FUNCTIONS, SYNC_BUDGET_BYTES, VARIANTS, type FunctionName, type VariantName } from './build-options.js';
import { OUT, ROOT, runBundleBench, type BundleResult } from './bundle.js';
import { coldStartNodeVersion, runColdStartBench, type ColdStartResult } from './cold-start.js';
import { fleetCases, MONTHLY_COUNTS, monthlyCost, runCostBench, runFleetBench } from './cost.js';
import { renderCostTable } from './fleet-cost.js';
import { measurePackageZips, PACKAGE_SCRIPT } from './package.js';
import { runFailoverBench } from './failover.js';
import { runWarmPassBench } from './warm-pass.js';
import { readServerlessFacts } from './serverless-config.js';
import { kb, ms, progress, round } from './stats.js';

const quick = process.argv.includes('--quick');
const COLD_START_RUNS = quick ? 3 : 15;
const COST_RUNS = quick ? 2 : 5;
// Warm runs after each fleet case's first: 2, as a throttled 1,000-mapping run takes ~30 s of ELB's rate.
const FLEET_RUNS = quick ? 1 : 2;
const FAILOVER_TRIALS = quick ? 3 : 12;
const WARM_TRIALS = quick ? 3 : 15;
/** Bundles whose cold start is measured besides the unbundled code. */
const COLD_START_VARIANTS: VariantName[] = ['chosen', 'plain', 'runtime-sdk'];
/** Lambda list prices, us-east-1 (also eu-west-1), USD: check the pricing page before quoting. */
const PRICE = { perMillionRequests: 0.2, perGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 } };

const started = performance.now();
const facts = await readServerlessFacts();
const machine = {
  cpu: cpus()[0]?.model.trim() ?? 'unknown',
  cores: cpus().length,
  memoryGiB: round(totalmem() / 2 ** 30, 0),
  os: `${platform()} ${release()}`,
  node: process.version,
  /** Cold starts run on the Lambda runtime's Node major (scripts/runtime-node.sh). */
  coldStartNode: coldStartNodeVersion(),
  esbuild: esbuildVersion,
  /** 1-minute load average at the start and the end: other work on the machine skews timings. */
  loadAverage: { start: round(loadavg()[0] ?? 0, 2), end: 0 },
};
progress(`${machine.cpu}, ${machine.cores} cores, node ${machine.node}; serverless.yml: sync ${facts.memoryMb} MB, ${facts.syncSchedule}`);

const bundles = await runBundleBench();
const zips = await measurePackageZips(Object.keys(FUNCTIONS) as FunctionName[]);
progress(`npm run ${PACKAGE_SCRIPT}: ${zips.map((z) => `${z.file} ${z.bytes} bytes`).join(', ')}`);
const coldStarts = await runColdStartBench(bundles, COLD_START_RUNS, COLD_START_VARIANTS);
const syncBundle = bundle('sync', 'chosen');
const cost = await runCostBench(syncBundle, COST_RUNS);
const fleet = await runFleetBench(syncBundle, FLEET_RUNS, { scheduleMs: facts.scheduleIntervalSeconds * 1000, timeoutMs: facts.syncTimeoutSeconds * 1000, cases: fleetCases(facts.memoryMb) });
const failover = await runFailoverBench(syncBundle, FAILOVER_TRIALS, scheduleMs(facts.syncSchedule));
const warm = await runWarmPassBench(WARM_TRIALS);
progress(`warm standby pass: ${warm.cases.map((c) => `${c.label} ${c.reason} median ${c.passMs.median} ms`).join(', ')}`);

const { architecture } = facts;
// The cost table's columns: 1 and 100 mappings from the cost rows, 1,000 from the fleet row found by
// tag (the only way to 1,000: SYNC_MAPPINGS stops at 8 KB), V8 unbounded as deployed.
const monthlyRows = [
  ...cost.runs.filter((r) => r.concurrency === cost.defaultConcurrency && MONTHLY_COUNTS.includes(r.mappings)),
  ...fleet.filter((r) => r.discovery && r.maxOldSpaceMb === undefined && MONTHLY_COUNTS.includes(r.mappings)),
];
const monthly = monthlyRows.map((r) => {
  const m = monthlyCost(facts.syncSchedule, r.durationMs.median, facts.memoryMb, facts.memorySource);
  const usd = (m.invocationsPerMonth / 1e6) * PRICE.perMillionRequests + m.gbSeconds * PRICE.perGbSecond[architecture];
  return { mappings: r.mappings, ...('discovery' in r && r.discovery ? { discovery: true } : {}), ...m, architecture, usdBeforeFreeTier: round(usd, 3) };
});

const results = {
  generatedAt: new Date().toISOString(),
  quick,
  machine,
  durationSeconds: 0,
  serverless: facts,
  bundle: { budgetBytes: SYNC_BUDGET_BYTES, variants: Object.keys(VARIANTS), results: bundles },
  deploymentZip: { command: `npm run ${PACKAGE_SCRIPT}`, results: zips },
  coldStart: { runs: COLD_START_RUNS, awsLatencyMs: 0, results: coldStarts },
  cost,
  fleet: { awsLatencyMs: cost.awsLatencyMs, scheduleMs: scheduleMs(facts.syncSchedule), memoryMb: facts.memoryMb, runs: fleet },
  monthly,
  failover,
  warm,
};
results.durationSeconds = round((performance.now() - started) / 1000, 0);
machine.loadAverage.end = round(loadavg()[0] ?? 0, 2);

const file = quick ? join(OUT, 'results.json') : join(ROOT, 'bench', 'results.json');
await mkdir(join(file, '..'), { recursive: true });
await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
progress(`wrote ${file.slice(ROOT.length)} in ${results.durationSeconds} s`);
process.stdout.write(table(results.durationSeconds));
// docs/performance.md's cost table, from this run (test/docs/performance.test.ts holds them equal).
process.stdout.write(`\nCost of a deployed stack (docs/performance.md, between the cost-table markers):\n\n${renderCostTable(monthly)}\n`);

// ---------------------------------------------------------------------------------------------

function bundle(fn: FunctionName | 'reference', variant: VariantName): BundleResult {
  const found = bundles.find((b) => b.fn === fn && b.variant === variant);
  if (!found) throw new Error(`no bundle ${fn} (${variant})`);
  return found;
}

function cold(fn: FunctionName, variant: string): ColdStartResult {
  const found = coldStarts.find((c) => c.fn === fn && c.variant === variant);
  if (!found) throw new Error(`no cold start ${fn} (${variant})`);
  return found;
}

function scheduleMs(schedule: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours)\)$/.exec(schedule);
  return rate ? Number(rate[1]) * (rate[2]?.startsWith('hour') ? 3_600_000 : 60_000) : 60_000;
}

function table(seconds: number): string {
  const rows: [string, string, string][] = [];
  const size = (b: BundleResult) => `${kb(b.minifiedBytes)} min, ${kb(b.gzipBytes)} gzip`;
  const sync = bundle('sync', 'chosen');
  const over = sync.minifiedBytes - SYNC_BUDGET_BYTES;
  rows.push(['Bundle: sync (deployed options)', size(sync), over > 0 ? `over the 350 KB budget by ${kb(over)}` : `within the 350 KB budget (${kb(-over)} to spare)`]);
  rows.push(['Bundle: accept (deployed options)', size(bundle('accept', 'chosen')), 'EC2 client: see Bundle options: accept']);
  for (const z of zips) rows.push([`Deployment zip: ${z.fn}`, `${kb(z.bytes)} (${z.bytes.toLocaleString('en-US')} bytes)`, `${z.file}, as \`npm run ${PACKAGE_SCRIPT}\` writes it`]);
  rows.push(['Bundle: reference handler', size(bundle('reference', 'chosen')), 'ELBv2 + CloudWatch clients + middy, nothing else']);
  for (const fn of ['sync', 'accept'] as const) {
    const variants = (Object.keys(VARIANTS) as VariantName[]).filter((v) => v !== 'chosen');
    rows.push([`Bundle options: ${fn}`, variants.map((v) => `${v} ${kb(bundle(fn, v).minifiedBytes)}`).join(', '), `deployed: ${kb(bundle(fn, 'chosen').minifiedBytes)}`]);
  }
  for (const fn of ['sync', 'accept'] as const) {
    const unbundled = cold(fn, 'unbundled');
    for (const variant of [...COLD_START_VARIANTS, 'unbundled']) {
      const c = cold(fn, variant);
      const label = variant === 'chosen' ? 'bundle (deployed)' : variant === 'unbundled' ? 'unbundled, node_modules' : `bundle (${variant})`;
      const deployed = cold(fn, 'chosen');
      const note =
        variant === 'chosen'
          ? `unbundled is ${(unbundled.total.median / c.total.median).toFixed(1)}x slower`
          : `${(c.total.median / deployed.total.median).toFixed(1)}x the deployed bundle${variant === 'unbundled' ? `; ${c.runs} fresh processes each` : ''}`;
      rows.push([`Cold start: ${fn}, ${label}`, `median ${ms(c.total.median)}, p90 ${ms(c.total.p90)}`, `import ${ms(c.import.median)} + first invoke ${ms(c.firstInvoke.median)}; ${note}`]);
    }
  }
  for (const count of [1, 10, 100]) {
    const parallel = cost.runs.find((r) => r.mappings === count && r.concurrency === cost.defaultConcurrency);
    const serial = cost.runs.find((r) => r.mappings === count && r.concurrency === 1);
    if (!parallel || !serial) continue;
    rows.push([
      `Steady-state sync: ${count} mapping${count > 1 ? 's' : ''}`,
      `${ms(parallel.durationMs.median)}, ${parallel.totalCalls} AWS calls`,
      `SYNC_CONCURRENCY=${cost.defaultConcurrency}; one by one ${ms(serial.durationMs.median)} (${cost.oneByOneRatio[String(count)]}x); ${cost.awsLatencyMs} ms per AWS call`,
    ]);
  }
  const r = cost.reader;
  rows.push([
    'Steady-state sync: 1 reader endpoint',
    `${ms(r.durationMs.median)}, ${r.totalCalls} AWS calls`,
    `${Object.entries(r.calls).map(([action, n]) => `${action} ${n}`).join(', ')}; 3-instance cluster, members listed with the RDS API every run; ${cost.awsLatencyMs} ms per AWS call`,
  ]);
  // Fleet size: one scheduled run of a fresh sandbox process (bench/fleet-child.mjs), against the
  // schedule interval and the deployed memory size.
  // With ELB throttling (the fake's token buckets, AWS's documented Describe* rate) the first run of
  // a cold container reads every group; the warm runs read the budget's share of the settled ones.
  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  for (const f of fleet) {
    const reads = (w: { calls: Record<string, number> }) => w.calls.DescribeTargetHealth ?? 0;
    const firstRun = `first run (cold container) ${ms(f.first.ms)}: DescribeTargetHealth ${reads(f.first)}, ${sum(f.first.throttled)} throttled, ${f.first.failed} failed${f.first.errors ? ` (${f.first.errors.join(' | ')})` : ''}`;
    const warmRuns = `warm runs: DescribeTargetHealth ${f.warm.map(reads).join(' / ')}, settled ${f.warm.map((w) => w.settled).join(' / ')}, throttled ${f.warm.map((w) => sum(w.throttled)).join(' / ')}, failed ${f.warm.map((w) => w.failed).join(' / ')}`;
    rows.push([
      `Scheduled run: ${f.mappings.toLocaleString('en-US')} mappings${f.discovery ? ', found by tag' : ''}${f.memberSets ? `, reader + custom endpoints of ${f.mappings / 2} clusters` : ''}${f.maxOldSpaceMb ? `, heap capped at ${f.maxOldSpaceMb} MB` : ''}${f.elbThrottling ? ', ELB throttling' : ''}`,
      `${ms(f.durationMs.median)} warm, first run ${ms(f.first.ms)}; ${f.totalCalls.toLocaleString('en-US')} AWS calls, peak ${f.peakRssMb} MB`,
      `${f.elbThrottling ? `ELB's Describe* bucket as AWS documents it (40 tokens, 10 a second), read budget ${f.readBudget} a run; ${firstRun}; ${warmRuns}` : 'ELB not throttled (a memory / RDS-call row)'}; ${Object.entries(f.calls).map(([action, n]) => `${action} ${n}`).join(', ')} (last warm run); ${((f.durationMs.median / scheduleMs(facts.syncSchedule)) * 100).toFixed(1)}% of the ${facts.syncSchedule} interval; peak: the sandbox process's maxRSS (first run included) against the deployed ${facts.memoryMb} MB; SYNC_CONCURRENCY=${f.concurrency}${f.discovery ? ', DISCOVER_TARGET_GROUPS=true' : ''}; ${cost.awsLatencyMs} ms per AWS call; ${f.runs} warm runs, deadline ${ms(f.deadlineMs)}${f.deadlineMs < facts.syncTimeoutSeconds * 1000 ? ` (the bench's cap; deployed timeout ${facts.syncTimeoutSeconds} s)` : ''}, node ${f.node}${f.maxOldSpaceMb ? `, --max-old-space-size=${f.maxOldSpaceMb}` : ', no heap limit'}`,
    ]);
  }
  const [one] = monthly;
  if (one) {
    rows.push([
      `Month at ${one.schedule} (${facts.memoryMb} MB)`,
      monthly.map((m) => `${m.mappings}: ${m.gbSeconds.toLocaleString('en-US')} GB-s`).join(', '),
      `${one.invocationsPerMonth.toLocaleString('en-US')} invocations; memory: ${facts.memorySource}; ${one.architecture} list price, before free tier: $${monthly.map((m) => m.usdBeforeFreeTier).join(' / $')}`,
    ]);
  }
  const e = failover.rdsEvent;
  const elb = failover.elb;
  const sec = (x: number) => `${(x / 1000).toFixed(1)} s`;
  const aws = `AWS's terms modelled, not measured: registration ${sec(elb.timing.registrationMs)} + ${elb.timing.healthyThreshold} x ${sec(elb.timing.intervalMs)} health checks = ${sec(elb.registeredToHealthyMs)}, run at x${elb.scale}`;
  rows.push([
    'Failover: RDS-event path, DNS change -> healthy',
    `median ${sec(e.endToEnd.dnsToHealthyMs.median)}, max ${sec(e.endToEnd.dnsToHealthyMs.max)}`,
    `ours measured: DNS change -> registered median ${ms(e.convergeMs.median)}, max ${ms(e.convergeMs.max)} (re-resolve every ${e.pollMs} ms, default); ${aws} (${ms(e.endToEnd.registeredToHealthyScaledMs.median)} scaled); ${failover.trials} trials`,
  ]);
  const s = failover.scheduled;
  rows.push([
    `Failover: scheduled path, ${facts.syncSchedule}, DNS change -> healthy`,
    `median ${sec(s.endToEnd.dnsToHealthyMs.median)}, max ${sec(s.endToEnd.dnsToHealthyMs.max)}`,
    `ours measured: DNS change -> registered median ${ms(s.scaledMs.median)}, max ${ms(s.scaledMs.max)} (${failover.trials} trials ticking every ${s.benchScheduleMs} ms, wait scaled x${s.realScheduleMs / s.benchScheduleMs}; the run: ${ms(s.runMs.median)}); ${aws}`,
  ]);
  // Warm standby beside the cold paths above: the pass that moves the weights, measured; how long
  // ELB takes to send new connections by the new weights, modelled (AWS documents no figure).
  const slot = warm.cases.find((c) => c.label === 'candidate in a slot');
  const noSlot = warm.cases.find((c) => c.label === 'writer in no slot');
  if (slot?.weightsChangedMs) {
    rows.push([
      'Failover: warm standby, RDS event -> weights changed',
      `median ${ms(slot.weightsChangedMs.median)}, max ${ms(slot.weightsChangedMs.max)}`,
      `ours measured: pass start -> ModifyListener answered (${slot.awsCalls} AWS calls at ${warm.awsLatencyMs} ms, whole pass median ${ms(slot.passMs.median)}, ${warm.trials} trials); + weight propagation ${sec(warm.weightPropagationMs)}, modelled: unknown, AWS documents none (assumed); no registration wait: the slot's target is already healthy`,
    ]);
  }
  if (noSlot) {
    rows.push([
      'Failover: warm standby, writer in no slot',
      `pass median ${ms(noSlot.passMs.median)}, max ${ms(noSlot.passMs.max)}`,
      `the cold path through a slot (${noSlot.reason}); then ELB's registration and health checks as in the cold rows (${sec(elb.registeredToHealthyMs)} modelled)`,
    ]);
  }
  if (facts.esbuildDrift.length) rows.push(['serverless.yml custom.esbuild', 'DIFFERS from bench/build-options.ts', facts.esbuildDrift.join(', ')]);

  const title = `rds-nlb-sync bench: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, node ${machine.node}, esbuild ${machine.esbuild} (${seconds} s${quick ? ', --quick' : ''})`;
  const lines = ['| Measurement | Result | Notes |', '| --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)];
  return `${title}\n\n${lines.join('\n')}\n`;
}
