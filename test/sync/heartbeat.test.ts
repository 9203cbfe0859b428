// The heartbeat of a long run (lib/sync/heartbeat.ts): a run that watches or follows for minutes
// sends SyncSuccess once a schedule interval, as the scheduled runs it holds back would have.
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DnsError } from '../../lib/dns.js';
import { Heartbeat } from '../../lib/sync/heartbeat.js';
import { runSync, type SyncRequest } from '../../lib/sync/run.js';
import { BILLING, ORDERS, recordLog, syncConfig, TG_A, TG_B } from '../fixtures.js';
import { virtualClock } from './virtual-clock.js';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const cwMock = mockClient(CloudWatchClient);

describe('Heartbeat', () => {
  it('beats at the first pass an interval or more after the last beat, clean only if every pass since was', () => {
    const h = new Heartbeat(0, 60_000);
    expect(h.passed({}, 59_999)).toBeUndefined();
    expect(h.passed({ error: new Error('x') }, 60_000)).toEqual({ at: 60_000, passes: 2, failed: 1 });
    expect(h.passed({}, 100_000)).toBeUndefined();
    expect(h.passed({}, 121_000)).toEqual({ at: 121_000, passes: 2, failed: 0 });
    expect(h.beats.map((b) => b.at)).toEqual([60_000, 121_000]);
  });
});

describe('a run that outlasts the schedule interval', () => {
  const rdsEvent: SyncRequest = { trigger: 'rds-event', force: false, dryRun: false, watch: [ORDERS] };
  const successes = () =>
    cwMock.commandCalls(PutMetricDataCommand).flatMap((c) => (c.args[0].input.MetricData ?? []).filter((d) => d.MetricName === 'SyncSuccess' && (d.Dimensions ?? []).length === 0).map((d) => d.Value));

  beforeEach(() => {
    elbMock.reset();
    cwMock.reset();
    cwMock.on(PutMetricDataCommand).resolves({});
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_A }).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.5', Port: 5432 }, TargetHealth: { State: 'healthy' } }] });
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_B }).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.2.7', Port: 3306 }, TargetHealth: { State: 'healthy' } }] });
  });

  const run = async (billing: () => string[]) => {
    const clock = virtualClock();
    // ORDERS is watched for 180 s and never changes; BILLING is synced again each interval meanwhile.
    const resolve = async (host: string) => (host === ORDERS ? ['10.0.1.5'] : billing());
    const config = syncConfig({ failoverPollMs: 2000, failoverWatchMs: 180_000, scheduleIntervalMs: 60_000 });
    const summary = await clock.run(runSync(config, rdsEvent, { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log: recordLog(), ...clock }));
    return summary;
  };

  it('sends SyncSuccess 1 each interval its passes were clean, then the summary\'s', async () => {
    const summary = await run(() => ['10.0.2.7']);

    expect(summary).toMatchObject({ outcome: 'success', heartbeats: 3 });
    expect(successes()).toEqual([1, 1, 1, 1]);
  });

  it('sends 0 for an interval in which a pass failed, and 1 again once they are clean', async () => {
    let asked = 0;
    // BILLING's second pass (the first re-sync, at 60 s) fails; the others resolve.
    const summary = await run(() => {
      asked++;
      if (asked === 2) throw new DnsError('timeout', BILLING);
      return ['10.0.2.7'];
    });

    expect(summary.heartbeats).toBe(3);
    expect(successes()).toEqual([0, 1, 1, 1]);
  });

  it('sends nothing of its own when it ends within the interval (a scheduled run)', async () => {
    const clock = virtualClock();
    const summary = await clock.run(
      runSync(syncConfig(), { trigger: 'schedule', force: false, dryRun: false }, { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve: async (h) => (h === ORDERS ? ['10.0.1.5'] : ['10.0.2.7']), log: recordLog(), ...clock }),
    );

    expect(summary.heartbeats).toBeUndefined();
    expect(successes()).toEqual([1]);
  });
});
