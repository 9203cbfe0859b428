// docs/performance.md's figures come from one bench run (bench/results.json): the cost table is
// bench/fleet-cost.ts's output, and each number in the prose equals the results it quotes. Only
// the phrases below are checked, so new rows and sections (the failover budget) do not break it.
// After `npm run bench`, a failure here names the sentence to update.
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { DeregisterTargetsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeVpcEndpointConnectionsCommand, DescribeVpcEndpointServiceConfigurationsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { ALARMS, ASSUME, HOURS_PER_MONTH, METRIC_SERIES, PRICES, renderCostTable } from '../../bench/fleet-cost.js';
import { ELB_THROTTLING } from '../../bench/fake-aws.js';
import { runAccept } from '../../lib/accept/run.js';
import { loadSyncConfig, type MappingMetrics } from '../../lib/config.js';
import { MetricsBatch } from '../../lib/aws/metrics.js';
import { addTimelineMetrics, buildTimeline } from '../../lib/sync/timeline.js';
import { runSync } from '../../lib/sync/run.js';
import { createProbe } from '../../lib/sync/probe.js';
import { recordLog } from '../fixtures.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(path.join(root, 'docs', 'performance.md'), 'utf8');
const results = JSON.parse(readFileSync(path.join(root, 'bench', 'results.json'), 'utf8')) as BenchResults;

interface Summary {
  median: number;
}
interface BenchResults {
  durationSeconds: number;
  machine: { cores: number; memoryGiB: number; node: string; esbuild: string };
  bundle: { budgetBytes: number; results: { fn: string; variant: string; minifiedBytes: number; breakdown: Record<string, number> }[] };
  deploymentZip: { results: { fn: string; bytes: number }[] };
  coldStart: { results: { fn: string; variant: string; total: Summary }[] };
  cost: { defaultConcurrency: number; runs: { mappings: number; concurrency: number; durationMs: Summary }[]; oneByOneRatio: Record<string, number> };
  fleet: { scheduleMs: number; runs: FleetRow[] };
  monthly: { mappings: number; invocationsPerMonth: number; gbSeconds: number; memoryMb: number; usdBeforeFreeTier: number }[];
  warm: { trials: number; weightPropagationMs: number; cases: { label: string; awsCalls: number; passMs: { median: number; max: number }; weightsChangedMs?: { median: number; max: number } }[] };
}

interface FleetInvocation {
  ms: number;
  calls: Record<string, number>;
  throttled: Record<string, number>;
  settled: number;
  failed: number;
}
interface FleetRow {
  mappings: number;
  discovery: boolean;
  durationMs: Summary;
  calls: Record<string, number>;
  peakRssMb: number;
  maxOldSpaceMb?: number;
  memberSets?: boolean;
  /** Absent in a results.json from before the ELB throttling model (bench/fake-aws.ts). */
  elbThrottling?: boolean;
  readBudget: number;
  first: FleetInvocation;
  warm: FleetInvocation[];
}

const kb = (bytes: number) => Math.round(bytes / 1024);
const bundleBytes = (fn: string, variant: string) => {
  const found = results.bundle.results.find((r) => r.fn === fn && r.variant === variant);
  if (!found) throw new Error(`no ${fn}/${variant} bundle in bench/results.json`);
  return found.minifiedBytes;
};
const coldMedian = (fn: string, variant: string) => results.coldStart.results.find((r) => r.fn === fn && r.variant === variant)?.total.median ?? NaN;
const syncMs = (mappings: number, concurrency: number) => results.cost.runs.find((r) => r.mappings === mappings && r.concurrency === concurrency)?.durationMs.median ?? NaN;
const monthly = (mappings: number) => {
  const found = results.monthly.find((m) => m.mappings === mappings);
  if (!found) throw new Error(`no monthly row for ${mappings} mappings`);
  return found;
};
const breakdown = (pkg: string) => results.bundle.results.find((r) => r.fn === 'sync' && r.variant === 'chosen')?.breakdown[pkg] ?? NaN;
const zip = (fn: string) => results.deploymentZip.results.find((r) => r.fn === fn)?.bytes ?? NaN;
const thousands = (n: number) => n.toLocaleString('en-US');
const fleet = (mappings: number, discovery: boolean, capped = false) => {
  const found = results.fleet.runs.find((r) => r.mappings === mappings && r.discovery === discovery && Boolean(r.maxOldSpaceMb) === capped && !r.memberSets);
  if (!found) throw new Error(`no fleet run of ${mappings} mappings (discovery ${discovery}, capped ${capped}) in bench/results.json`);
  return found;
};
const seconds = (ms: number) => (ms / 1000).toFixed(1);
const warmCase = (label: string) => {
  const found = results.warm.cases.find((c) => c.label === label);
  if (!found) throw new Error(`no warm case "${label}" in bench/results.json`);
  return found;
};

describe('docs/performance.md and bench/results.json', () => {
  // [what, the sentence in the doc (a template: {} is the figure), the figure from the results]
  const figures: [string, string, () => string][] = [
    ['bench duration', 'The run below took\n{} s', () => String(results.durationSeconds)],
    ['machine', 'Intel Xeon, {} cores', () => String(results.machine.cores)],
    ['node', `Node {},`, () => results.machine.node.replace(/^v/, '')],
    ['esbuild', 'esbuild {}.', () => results.machine.esbuild],
    ['accept cold start quoted', 'yet measured {} ms here', () => String(Math.round(coldMedian('accept', 'chosen')))],
    ['sync bundle', '{} KB for\nsync', () => String(kb(bundleBytes('sync', 'chosen')))],
    ['accept bundle', 'sync, {} KB for accept', () => String(kb(bundleBytes('accept', 'chosen')))],
    ['zips', 'zips of {} KB', () => String(kb(zip('sync')))],
    ['accept zip', 'KB and {} KB. Sync', () => String(kb(zip('accept')))],
    ['budget overrun', 'over its 350 KB budget', () => '350'],
    ['RDS and SSM clients', 'breakdown: {} of the sync bundle', () => `${kb(breakdown('@aws-sdk/client-rds'))} KB and ${kb(breakdown('@aws-sdk/client-ssm'))} KB`],
    ['cjs-sdk sync', 'sync {} KB, accept', () => thousands(kb(bundleBytes('sync', 'cjs-sdk')))],
    ['cjs-sdk accept', 'accept {} KB.', () => thousands(kb(bundleBytes('accept', 'cjs-sdk')))],
    ['all-creds', '~{} KB of sync', () => String(kb(bundleBytes('sync', 'all-creds') - bundleBytes('sync', 'chosen')))],
    ['unshaken', 'accept drops from {} KB', () => String(kb(bundleBytes('accept', 'unshaken-schemas')))],
    ['shaken', '(`unshaken-schemas`) to\n  {} KB', () => String(kb(bundleBytes('accept', 'chosen')))],
    ['sync bundle again', 'The sync bundle is {} KB', () => String(kb(bundleBytes('sync', 'chosen')))],
    ['over budget', '{} KB over the 350 KB budget', () => String(kb(bundleBytes('sync', 'chosen') - results.bundle.budgetBytes))],
    ['reference', 'reference handler built the same way is {} KB', () => String(kb(bundleBytes('reference', 'chosen')))],
    ['added to reference', 'code add {} KB', () => String(kb(bundleBytes('sync', 'chosen') - bundleBytes('reference', 'chosen')))],
    ['unbundled sync', '**{}x (sync)', () => (coldMedian('sync', 'unbundled') / coldMedian('sync', 'chosen')).toFixed(1)],
    ['unbundled accept', 'and {}x (accept) slower**', () => (coldMedian('accept', 'unbundled') / coldMedian('accept', 'chosen')).toFixed(1)],
    ['one mapping', 'one mapping takes {} ms', () => String(Math.round(syncMs(1, results.cost.defaultConcurrency)))],
    ['100 mappings', '100 mappings take {} ms', () => String(Math.round(syncMs(100, results.cost.defaultConcurrency)))],
    ['one by one', 'and {} s one after the other', () => (syncMs(100, 1) / 1000).toFixed(1)],
    ['ratio', 'one after the other, {}x longer', () => (results.cost.oneByOneRatio['100'] ?? NaN).toFixed(1)],
    ['invocations', 'that is {} invocations', () => thousands(monthly(1).invocationsPerMonth)],
    ['GB-s 1', 'comes to {} GB-s for one mapping', () => thousands(monthly(1).gbSeconds)],
    ['GB-s 100', 'and {} GB-s for 100', () => thousands(monthly(100).gbSeconds)],
    ['USD 1', 'about ${} to', () => monthly(1).usdBeforeFreeTier.toFixed(2)],
    ['USD 100', 'to ${} a month', () => monthly(100).usdBeforeFreeTier.toFixed(2)],
    ['warm pass', 'warm pass: median {} AWS calls', () => { const c = warmCase('candidate in a slot'); return `${c.passMs.median} ms, max ${c.passMs.max} ms, ${c.awsCalls}`; }],
    ['warm weights changed', 'weights changed {} after the pass began', () => { const c = warmCase('candidate in a slot'); return `median ${c.weightsChangedMs?.median} ms, max ${c.weightsChangedMs?.max} ms`; }],
    ['warm trials', 'call after 20 ms, {} trials', () => String(results.warm.trials)],
    ['warm cold path', 'cold path through a slot: median {} for our part', () => { const c = warmCase('writer in no slot'); return `${c.passMs.median} ms (${c.awsCalls} AWS calls)`; }],
    ['weight propagation', 'weight propagation {} s, assumed', () => String(results.warm.weightPropagationMs / 1000)],
  ];

  it.each(figures)('quotes the %s figure of the run', (_, sentence, figure) => {
    expect(doc).toContain(sentence.replace('{}', figure()));
  });

  // The fleet rows meet ELB's documented Describe* rate (bench/fake-aws.ts ELB_THROTTLING): a
  // results.json from before that model has none of these fields, and `npm run bench` writes them.
  const throttledBench = results.fleet.runs.some((r) => r.elbThrottling !== undefined);
  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  const { capacity, refillPerSecond } = ELB_THROTTLING.describe;
  const fleetFigures: [string, string, () => string][] = [
    ['ELB bucket', 'share one of {} a second', () => `${capacity} tokens refilled at ${refillPerSecond}`],
    ['1,000 reads at ELB rate', '(1,000 - 40) / 10 = {} s', () => String((1000 - capacity) / refillPerSecond)],
    ['read budget', 'a budget of {} reads a run', () => String(fleet(1000, false).readBudget)],
    ['turns', 'every ceil(1,000 / {} runs', () => `${fleet(1000, false).readBudget}) = ${Math.ceil(1000 / fleet(1000, false).readBudget)}`],
    ['first run', 'reads all 1,000 groups in {} s', () => seconds(fleet(1000, false).first.ms)],
    ['first run throttled', '({} requests throttled and retried', () => String(sum(fleet(1000, false).first.throttled))],
    ['first run failed', 'adaptive retry; {} mappings failed)', () => String(fleet(1000, false).first.failed)],
    ['warm reads', 'read {}: 1,000 mappings take', () => { const w = fleet(1000, false).warm.at(-1); return `${w?.calls.DescribeTargetHealth} groups and skip ${w?.settled}`; }],
    ['1,000 mappings', '1,000 mappings take {}% of the', () => `${seconds(fleet(1000, false).durationMs.median)} s, ${Math.round((fleet(1000, false).durationMs.median / results.fleet.scheduleMs) * 100)}`],
    ['1,000 peak', 'the process peaks at {} MB of the deployed', () => String(fleet(1000, false).peakRssMb)],
    ['100 peak', 'Max Memory Used; {} MB at 100 mappings', () => String(fleet(100, false).peakRssMb)],
    ['100 mappings', 'every group every run: {} s, the', () => seconds(fleet(100, false).durationMs.median)],
    ['1,000 by tag', 'they take {} MB (the', () => `${seconds(fleet(1000, true).durationMs.median)} s and peak at ${fleet(1000, true).peakRssMb}`],
    ['1,000 by tag, first run', 'first run {} s). The time', () => seconds(fleet(1000, true).first.ms)],
    ['1,000 by tag, listing', "the listing's {} `DescribeTargetGroups` pages", () => String(fleet(1000, true).calls.DescribeTargetGroups)],
    ['1,000 by tag, heap capped', 'the discovery run peaks at {} s.', () => `${fleet(1000, true, true).peakRssMb} MB and takes ${seconds(fleet(1000, true, true).durationMs.median)}`],
  ];

  it.skipIf(!throttledBench).each(fleetFigures)('quotes the fleet %s figure of the run (ELB throttling modelled)', (_, sentence, figure) => {
    expect(doc).toContain(sentence.replace('{}', figure()));
  });

  it.skipIf(!throttledBench)('measures the 100 and 1,000 mapping rows with ELB throttling, the memory rows without', () => {
    const throttled = results.fleet.runs.filter((r) => r.elbThrottling).map((r) => [r.mappings, r.discovery, Boolean(r.maxOldSpaceMb), Boolean(r.memberSets)]);
    expect(throttled).toEqual([
      [100, false, false, false],
      [1000, false, false, false],
      [1000, true, false, false],
    ]);
  });

  it('shows the cost table bench/fleet-cost.ts computes from the run, between its markers', () => {
    const table = /<!-- cost-table:start[^>]*-->\n([\s\S]*?)\n<!-- cost-table:end -->/.exec(doc)?.[1];
    expect(table).toBe(renderCostTable(results.monthly));
    expect(table).toMatch(/\| Part \| 1 mapping \| 100 mappings \| 1,000 mappings \|/);
  });

  it('states the per-mapping metrics cost at 1,000 mappings from the model', () => {
    const hours = 1000 * ASSUME.changesPerMappingMonth * METRIC_SERIES.syncPerChange;
    const usd = (hours / HOURS_PER_MONTH) * PRICES.customMetricPerMonth;
    expect(doc).toContain(`1,000 x ${ASSUME.changesPerMappingMonth} x ${METRIC_SERIES.syncPerChange} = ${hours.toLocaleString('en-US')} series-hours, about ${Math.round(hours / HOURS_PER_MONTH)}\nseries-months, $${usd.toFixed(2)}`);
    expect(doc).toContain(`costs $${(METRIC_SERIES.syncPerMappingAll * PRICES.customMetricPerMonth).toFixed(2)} a mapping a month`);
  });

  it('says which region and date the prices are', () => {
    expect(doc).toMatch(/us-east-1 as of 2026-12-07/);
  });
});

describe('the counts the cost table prices', () => {
  const elb = mockClient(ElasticLoadBalancingV2Client);
  const cloudwatch = mockClient(CloudWatchClient);
  const ec2 = mockClient(EC2Client);
  beforeEach(() => {
    elb.reset();
    cloudwatch.reset();
    ec2.reset();
  });

  it('counts the custom metric series a sync run and an accept run publish', async () => {
    // resolved: what DNS answers; the group holds 10.0.1.5 (a different answer is a change).
    const series = async (mappings: number, probe: boolean, mode: MappingMetrics, resolved = '10.0.1.5') => {
      cloudwatch.reset();
      elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.5', Port: 5432 }, TargetHealth: { State: 'healthy' } }] });
      elb.on(RegisterTargetsCommand).resolves({});
      elb.on(DeregisterTargetsCommand).resolves({});
      cloudwatch.on(PutMetricDataCommand).resolves({});
      const list = Array.from({ length: mappings }, (_, i) => ({
        endpoint: `db${i}.c0ffee.eu-west-1.rds.amazonaws.com`,
        targetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg${i}/0123456789abcde${i}`,
        port: 5432,
      }));
      const config = loadSyncConfig({ SYNC_MAPPINGS: JSON.stringify(list), MAPPING_METRICS: mode });
      const probeFn = probe ? createProbe({ enabled: true, listeners: [{ host: 'nlb', port: 5432, protocol: 'postgres' }], timeoutMs: 100 }, async () => ({ ok: true, latencyMs: 3, detail: 'S' })) : undefined;
      await runSync(config, { trigger: 'schedule', force: false, dryRun: false }, {
        elb: new ElasticLoadBalancingV2Client({}),
        cloudwatch: new CloudWatchClient({}),
        resolve: async () => [resolved],
        log: recordLog(),
        ...(probeFn ? { probe: probeFn } : {}),
      });
      const data = cloudwatch.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []) as MetricDatum[];
      return new Set(data.map((d) => `${d.MetricName} ${JSON.stringify(d.Dimensions)}`)).size;
    };
    const one = await series(1, true, 'all');
    expect((await series(2, true, 'all')) - one).toBe(METRIC_SERIES.syncPerMappingAll);
    expect(one).toBe(METRIC_SERIES.syncRun + METRIC_SERIES.probe + METRIC_SERIES.syncPerMappingAll);
    expect(one - (await series(1, false, 'all'))).toBe(METRIC_SERIES.probe);
    // changes (the default): a quiet mapping publishes nothing of its own, a changed one its counts
    // (added, removed), and a followed failover its timings.
    expect(await series(2, true, 'changes')).toBe(METRIC_SERIES.syncRun + METRIC_SERIES.probe);
    const changed = (await series(1, true, 'changes', '10.0.2.9')) - (METRIC_SERIES.syncRun + METRIC_SERIES.probe);
    const timeline = buildTimeline(
      { endpoint: 'db0.c0ffee.eu-west-1.rds.amazonaws.com', targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg0/01234567890abcde', port: 5432 },
      { newAddresses: ['10.0.2.9'], oldAddresses: ['10.0.1.5'], seenAt: 1000, registeredAt: 2000, healthyAt: 120_000, end: 'settled', reads: 20, failedReads: 0, boundSeconds: 600 },
      { trigger: 'rds-event', event: { time: new Date(0).toISOString() } },
    );
    const timings = addTimelineMetrics(new MetricsBatch(), [timeline], 'changes').data.filter((d) => (d.Dimensions ?? []).length > 0).length;
    expect([changed, timings]).toEqual([2, 3]);
    expect(changed + timings).toBe(METRIC_SERIES.syncPerChange);

    cloudwatch.reset();
    cloudwatch.on(PutMetricDataCommand).resolves({});
    ec2.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({ ServiceConfigurations: [{ ServiceId: 'vpce-svc-0123456789abcdef0' }] });
    ec2.on(DescribeVpcEndpointConnectionsCommand).resolves({ VpcEndpointConnections: [] });
    await runAccept(
      { serviceIds: ['vpce-svc-0123456789abcdef0'], loadBalancerArns: [], allowedAccounts: ['834469178297'], rejectUnlisted: false, metricsNamespace: 'RdsNlbSync', dryRun: false },
      { trigger: 'schedule', dryRun: false },
      { ec2: new EC2Client({}), cloudwatch: new CloudWatchClient({}), log: recordLog() },
    );
    const data = cloudwatch.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []) as MetricDatum[];
    expect(data.filter((d) => (d.Dimensions ?? []).length === 0)).toHaveLength(METRIC_SERIES.acceptRun);
    expect(data.filter((d) => (d.Dimensions ?? []).length > 0)).toHaveLength(METRIC_SERIES.acceptPerService);
  });

  it('prices the alarms serverless.yml creates with createPrivateLink', () => {
    // Every alarm is declared in serverless.yml (deploy/params.cjs adds none); createPrivateLink adds nlb-healthy-hosts.
    const text = readFileSync(path.join(root, 'serverless.yml'), 'utf8');
    expect(text.match(/^\s+Type: AWS::CloudWatch::Alarm$/gm)).toHaveLength(ALARMS.standard);
    expect(text.match(/^\s+Type: AWS::CloudWatch::CompositeAlarm$/gm)).toHaveLength(ALARMS.composite);
    expect(readFileSync(path.join(root, 'deploy', 'params.cjs'), 'utf8')).not.toMatch(/AWS::CloudWatch::(Composite)?Alarm/);
  });
});
