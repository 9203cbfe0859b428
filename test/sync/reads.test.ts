// ELB's read budget (lib/sync/reads.ts): ELB meters Describe* per account (40 at once, 10 a
// second), so a run reads every group that may need work and, of the settled ones, only as many
// as its budget, the least recently read first.
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { DeregisterTargetsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand, type TargetHealthStateEnum } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DnsError } from '../../lib/dns.js';
import { answerKey, maySkip, ReadLedger, readKey, skippable } from '../../lib/sync/reads.js';
import { runSync, type SyncRequest } from '../../lib/sync/run.js';
import { numberedMapping, recordLog, syncConfig } from '../fixtures.js';
import { virtualClock } from './virtual-clock.js';

describe('skippable', () => {
  const ledger = (entries: [string, number, boolean][]) => {
    const l = new ReadLedger();
    for (const [key, at, settled] of entries) l.record(key, ['10.0.1.5'], at, settled);
    return l;
  };

  it('skips nothing under the budget: every group is read every run, as before', () => {
    expect(skippable(['a', 'b', 'c'], ledger([['a', 1, true], ['b', 2, true], ['c', 3, true]]), 3)).toEqual(new Set());
  });

  it('spends the budget on the groups that may need work first, then on the least recently read settled ones', () => {
    // b is not settled and d was never read: both are read; 1 turn is left for a, c, e: the oldest, c.
    const l = ledger([['a', 20, true], ['b', 5, false], ['c', 10, true], ['e', 30, true]]);
    expect(skippable(['a', 'b', 'c', 'd', 'e'], l, 3)).toEqual(new Set(['a', 'e']));
  });

  it('skips every settled group when the groups that may need work take the whole budget', () => {
    expect(skippable(['a', 'b', 'c'], ledger([['a', 1, true], ['b', 2, false]]), 1)).toEqual(new Set(['a']));
  });
});

describe('maySkip', () => {
  const settled = { answer: answerKey(['10.0.1.6', '10.0.1.5']), at: 0, settled: true };
  const plain = { force: false, watch: false };

  it('skips a settled group whose endpoint answers the same addresses, in any order and notation', () => {
    expect(maySkip(settled, ['10.0.1.5', '10.0.1.6'], plain)).toBe(true);
    expect(answerKey(['2001:db8::1'])).toBe(answerKey(['2001:0db8:0:0:0:0:0:1']));
  });

  it.each([
    ['a new answer', settled, ['10.0.1.5'], plain],
    ['DNS failed', settled, null, plain],
    ['a group not settled at its last read', { ...settled, settled: false }, ['10.0.1.5', '10.0.1.6'], plain],
    ['a group never read', undefined, ['10.0.1.5', '10.0.1.6'], plain],
    ['a forced pass', settled, ['10.0.1.5', '10.0.1.6'], { force: true, watch: false }],
    ['a watched pass', settled, ['10.0.1.5', '10.0.1.6'], { force: false, watch: true }],
  ] as const)('reads for %s', (_, last, addresses, options) => {
    expect(maySkip(last, addresses === null ? null : [...addresses], options)).toBe(false);
  });

  it('tells apart two answers whose addresses would run together (the separator counts)', () => {
    const last = { answer: answerKey(['1.1.1.11', '1.1.1.2']), at: 0, settled: true };
    expect(maySkip(last, ['1.1.1.1', '11.1.1.2'], plain)).toBe(false);
  });

  it('forgets a group whose read failed or whose DNS failed', () => {
    const l = new ReadLedger();
    l.record('a', ['10.0.1.5'], 1, true);
    l.record('a', null, 2, false);
    expect(l.get('a')).toBeUndefined();
  });
});

describe('runSync with a read ledger', () => {
  const elb = mockClient(ElasticLoadBalancingV2Client);
  const cw = mockClient(CloudWatchClient);
  const mapping = numberedMapping;
  const mappings = [1, 2, 3, 4, 5].map(mapping);
  const scheduled: SyncRequest = { trigger: 'schedule', force: false, dryRun: false };
  /** What each group holds, and its health. */
  let groups: Map<string, { ip: string; state: TargetHealthStateEnum }[]>;
  let dns: Map<string, string[] | Error>;
  let reads: string[];

  beforeEach(() => {
    elb.reset();
    cw.reset();
    cw.on(PutMetricDataCommand).resolves({});
    groups = new Map(mappings.map((m, i) => [m.targetGroupArn, [{ ip: `10.0.1.${i + 1}`, state: 'healthy' as const }]]));
    dns = new Map(mappings.map((m, i) => [m.endpoint, [`10.0.1.${i + 1}`]]));
    reads = [];
    elb.on(DescribeTargetHealthCommand).callsFake(({ TargetGroupArn }: { TargetGroupArn: string }) => {
      reads.push(TargetGroupArn);
      return { TargetHealthDescriptions: (groups.get(TargetGroupArn) ?? []).map((t) => ({ Target: { Id: t.ip, Port: 5432 }, TargetHealth: { State: t.state } })) };
    });
    elb.on(RegisterTargetsCommand).callsFake(({ TargetGroupArn, Targets }: { TargetGroupArn: string; Targets: { Id: string }[] }) => {
      groups.get(TargetGroupArn)?.push(...Targets.map((t) => ({ ip: t.Id, state: 'initial' as const })));
      return {};
    });
    elb.on(DeregisterTargetsCommand).callsFake(({ TargetGroupArn, Targets }: { TargetGroupArn: string; Targets: { Id: string }[] }) => {
      groups.set(TargetGroupArn, (groups.get(TargetGroupArn) ?? []).filter((t) => !Targets.some((x) => x.Id === t.ip)));
      return {};
    });
  });

  const run = async (ledger: ReadLedger, budget = 2, request = scheduled) => {
    reads = [];
    cw.reset();
    cw.on(PutMetricDataCommand).resolves({});
    const resolve = async (host: string) => {
      const answer = dns.get(host);
      if (!answer) throw new DnsError('nxdomain', host);
      if (answer instanceof Error) throw answer;
      return answer;
    };
    const summary = await runSync(syncConfig({ mappings, targetReadsPerRun: budget }), request, { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log: recordLog(), reads: ledger });
    const tg = (arn: string) => Number(/tg(\d+)/.exec(arn)?.[1]);
    return { summary, read: reads.map(tg).sort() };
  };
  const runLevel = (name: string) =>
    (cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []) as MetricDatum[]).find((d) => d.MetricName === name && (d.Dimensions ?? []).length === 0)?.Value;

  it('reads every group in its first run, then 2 a run in turns: each settled group at least every 3 runs', async () => {
    const ledger = new ReadLedger();
    expect((await run(ledger)).read).toEqual([1, 2, 3, 4, 5]);
    const second = await run(ledger);
    const third = await run(ledger);
    const fourth = await run(ledger);

    expect(second.summary).toMatchObject({ outcome: 'success', settled: 3 });
    expect(second.summary.mappings.filter((m) => m.reason === 'settled')).toHaveLength(3);
    expect(second.summary.mappings.find((m) => m.reason === 'settled')).toMatchObject({ resolved: [expect.any(String)], registered: null, healthy: null });
    expect([second.read, third.read, fourth.read].map((r) => r.length)).toEqual([2, 2, 2]);
    expect(new Set([...second.read, ...third.read, ...fourth.read])).toEqual(new Set([1, 2, 3, 4, 5]));
    // Only what was read counts in the run-level minimum; 1 here, every group healthy.
    expect(runLevel('HealthyTargets')).toBe(1);
  });

  it('reads a settled group beyond the budget when its endpoint answers something new, and follows it', async () => {
    const ledger = new ReadLedger();
    await run(ledger);
    dns.set(mapping(5).endpoint, ['10.0.2.5']);

    const { summary, read } = await run(ledger, 1);

    expect(read).toContain(5);
    expect(summary.mappings[4]).toMatchObject({ reason: 'address-changed', added: ['10.0.2.5'], removed: ['10.0.1.5'] });
    // Not settled now (a change in flight): read again, and DNS going back is followed too.
    dns.set(mapping(5).endpoint, ['10.0.1.5']);
    const back = await run(ledger, 1);
    expect(back.read).toContain(5);
    expect(back.summary.mappings[4]).toMatchObject({ reason: 'address-changed', added: ['10.0.1.5'] });
  });

  it('reads a group without a healthy target every run, so the run-level HealthyTargets shows its 0', async () => {
    const ledger = new ReadLedger();
    groups.set(mapping(3).targetGroupArn, [{ ip: '10.0.1.3', state: 'unhealthy' }]);
    await run(ledger);

    for (let i = 0; i < 3; i++) {
      const { read } = await run(ledger, 1);
      expect(read).toContain(3);
      expect(runLevel('HealthyTargets')).toBe(0);
    }
  });

  it('reads a group whose DNS fails, as before (nothing is skipped on an unknown answer)', async () => {
    const ledger = new ReadLedger();
    await run(ledger);
    dns.set(mapping(4).endpoint, new DnsError('timeout', mapping(4).endpoint));

    const { summary, read } = await run(ledger, 1);

    expect(read).toContain(4);
    expect(summary.mappings[3]).toMatchObject({ reason: 'dns-failed', registered: ['10.0.1.4'], healthy: 1 });
  });

  it('reads every group of a forced run whatever the budget', async () => {
    const ledger = new ReadLedger();
    await run(ledger);
    expect((await run(ledger, 1, { ...scheduled, trigger: 'manual', force: true })).read).toEqual([1, 2, 3, 4, 5]);
  });

  it('reads every group every run without a ledger (the CLI, tests): the budget needs a warm container', async () => {
    const cold = async () => {
      reads = [];
      await runSync(syncConfig({ mappings, targetReadsPerRun: 1 }), scheduled, { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve: async (h) => dns.get(h) as string[], log: recordLog() });
      return reads.length;
    };
    expect([await cold(), await cold()]).toEqual([5, 5]);
  });

  it('does not read again, in the re-syncs of a long run, a group it found settled (a cold container reads each once)', async () => {
    const clock = virtualClock();
    const ledger = new ReadLedger();
    const resolve = async (host: string) => dns.get(host) as string[];
    // An RDS event about db1: watched for 180 s, every other mapping synced again each 60 s meanwhile.
    const config = syncConfig({ mappings, targetReadsPerRun: 300, failoverPollMs: 2000, failoverWatchMs: 180_000, scheduleIntervalMs: 60_000 });
    const request: SyncRequest = { trigger: 'rds-event', force: false, dryRun: false, watch: [mapping(1).endpoint] };

    const summary = await clock.run(runSync(config, request, { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log: recordLog(), reads: ledger, ...clock }));

    expect(summary.mappings[1]?.syncs).toBeGreaterThanOrEqual(3);
    // Each group once: the re-syncs found the others settled, and db1's polls reuse its first read.
    expect(reads).toHaveLength(5);
    // A group whose endpoint moved is read in its re-sync all the same.
    reads = [];
    dns.set(mapping(2).endpoint, ['10.0.2.2']);
    const later = virtualClock();
    const again = await later.run(runSync(config, request, { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log: recordLog(), reads: ledger, ...later }));
    expect(again.mappings[1]).toMatchObject({ added: ['10.0.2.2'] });
    expect(reads.filter((arn) => arn === mapping(2).targetGroupArn).length).toBeGreaterThanOrEqual(2);
  });

  it('keys the ledger by target group and port', () => {
    expect(readKey({ targetGroupArn: 'arn:x', port: 5432 })).not.toBe(readKey({ targetGroupArn: 'arn:x', port: 6432 }));
  });
});
