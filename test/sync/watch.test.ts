// The failover watch (issue 10 item 4): watchers sleep outside the concurrency slots, and while a
// run watches every mapping is synced at least once per schedule interval.
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Mapping } from '../../lib/config.js';
import { runSync, type SyncRequest } from '../../lib/sync/run.js';
import { BILLING, numberedMapping, ORDERS, recordLog, syncConfig } from '../fixtures.js';
import { virtualClock } from './virtual-clock.js';
import { fakeHost, fakeRds } from '../aws/fake-rds.js';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const cwMock = mockClient(CloudWatchClient);

const mapping = numberedMapping;
const oldIp = (i: number) => `10.0.1.${i}`;
const newIp = (i: number) => `10.0.2.${i}`;

/** When (virtual ms) each target group got a RegisterTargets. */
function recordRegistrations(clock: { now: () => number }) {
  const at: Record<string, number> = {};
  elbMock.on(RegisterTargetsCommand).callsFake((input: { TargetGroupArn: string }) => {
    at[input.TargetGroupArn] ??= clock.now();
    return {};
  });
  return at;
}

const rdsEvent = (watch: string[]): SyncRequest => ({ trigger: 'rds-event', force: false, dryRun: false, watch });

beforeEach(() => {
  elbMock.reset();
  cwMock.reset();
  cwMock.on(PutMetricDataCommand).resolves({});
});

describe('the failover watch', () => {
  it('registers the failed-over mapping within one poll with 12 mappings watching and 10 slots', async () => {
    const mappings = Array.from({ length: 12 }, (_, i) => mapping(i + 1));
    for (const [i, m] of mappings.entries()) {
      elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: m.targetGroupArn }).resolves({ TargetHealthDescriptions: [{ Target: { Id: oldIp(i + 1), Port: 5432 }, TargetHealth: { State: 'healthy' } }] });
    }
    const clock = virtualClock();
    const registeredAt = recordRegistrations(clock);
    // The 12th mapping failed over: DNS moves one poll after the run starts.
    const resolve = async (host: string) => {
      const i = Number(/^db(\d+)\./.exec(host)?.[1]);
      return i === 12 && clock.now() >= 2000 ? [newIp(i)] : [oldIp(i)];
    };
    const config = syncConfig({ mappings, concurrency: 10, failoverPollMs: 2000, failoverWatchMs: 180_000 });

    const summary = await clock.run(runSync(config, rdsEvent(mappings.map((m) => m.endpoint)), { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log: recordLog(), ...clock }));

    // Before: the 10 slots slept through the whole watch, and db12 was first resolved after it.
    expect(registeredAt[mapping(12).targetGroupArn]).toBe(2000);
    expect(summary.mappings[11]).toMatchObject({ added: [newIp(12)], removed: [oldIp(12)], polls: 1 });
  });

  it('lets a second watched mapping start while the first one sleeps, with one slot', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.5', Port: 5432 }, TargetHealth: { State: 'healthy' } }] });
    const clock = virtualClock();
    const registeredAt = recordRegistrations(clock);
    const resolve = async (host: string) => (host === BILLING && clock.now() >= 4000 ? ['10.0.2.9'] : ['10.0.1.5']);
    const base = syncConfig();
    const config = { ...base, mappings: base.mappings.map((m) => ({ ...m, port: 5432 })), concurrency: 1, failoverPollMs: 2000, failoverWatchMs: 30_000 };

    await clock.run(runSync(config, rdsEvent([ORDERS, BILLING]), { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log: recordLog(), ...clock }));

    expect(registeredAt[config.mappings[1]!.targetGroupArn]).toBe(4000);
  });

  it('syncs the unwatched mappings again every schedule interval while a watch runs', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.5', Port: 5432 }, TargetHealth: { State: 'healthy' } }] });
    const clock = virtualClock();
    const registeredAt = recordRegistrations(clock);
    const asked: Record<string, number[]> = {};
    // ORDERS never changes (watched all 180 s); BILLING fails over at 70 s, unannounced.
    const resolve = async (host: string) => {
      (asked[host] ??= []).push(clock.now());
      return host === BILLING && clock.now() >= 70_000 ? ['10.0.2.9'] : ['10.0.1.5'];
    };
    const base = syncConfig();
    const config = { ...base, mappings: base.mappings.map((m) => ({ ...m, port: 5432 })), failoverPollMs: 2000, failoverWatchMs: 180_000, scheduleIntervalMs: 60_000 };

    const summary = await clock.run(runSync(config, rdsEvent([ORDERS]), { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log: recordLog(), ...clock }));

    expect(asked[BILLING]?.slice(0, 3)).toEqual([0, 60_000, 120_000]);
    expect(registeredAt[config.mappings[1]!.targetGroupArn]).toBe(120_000);
    expect(summary.mappings[1]).toMatchObject({ endpoint: BILLING, added: ['10.0.2.9'], removed: ['10.0.1.5'] });
    expect(summary.mappings[1]?.syncs).toBeGreaterThanOrEqual(3);
  });

  it('stops re-syncing when the last watcher is done', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.5', Port: 5432 }, TargetHealth: { State: 'healthy' } }] });
    const clock = virtualClock();
    recordRegistrations(clock);
    const asked: string[] = [];
    const resolve = async (host: string) => {
      asked.push(host);
      return host === ORDERS && clock.now() >= 6000 ? ['10.0.2.9'] : ['10.0.1.5'];
    };
    const base = syncConfig();
    const config = { ...base, mappings: base.mappings.map((m) => ({ ...m, port: 5432 })), failoverPollMs: 2000, failoverWatchMs: 180_000 };

    const summary = await clock.run(runSync(config, rdsEvent([ORDERS]), { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve, log: recordLog(), ...clock }));

    expect(asked.filter((h) => h === BILLING)).toHaveLength(1);
    expect(summary.durationMs).toBe(6000);
  });
});

describe('a watched reader endpoint (member set) reuses its RDS reads within the run', () => {
  const rdsMock = mockClient(RDSClient);
  const READER = 'orders.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com';
  const host = (id: string) => `${id}.c0ffee.eu-west-1.rds.amazonaws.com`;
  const address: Record<string, string> = { [host('orders-1')]: '10.0.1.1', [host('orders-2')]: '10.0.2.2' };

  it('asks DescribeDBClusters each poll and DescribeDBInstances once, and still follows the roles swapping mid-watch', async () => {
    rdsMock.reset();
    const clock = virtualClock();
    // The failover at 6 s: orders-2 becomes the writer, orders-1 a reader.
    rdsMock.on(DescribeDBClustersCommand).callsFake(() => {
      const swapped = clock.now() >= 6000;
      return { DBClusters: [{ DBClusterIdentifier: 'orders', DBClusterMembers: [{ DBInstanceIdentifier: 'orders-1', IsClusterWriter: !swapped }, { DBInstanceIdentifier: 'orders-2', IsClusterWriter: swapped }] }] };
    });
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: ['orders-1', 'orders-2'].map((id) => ({ DBInstanceIdentifier: id, DBClusterIdentifier: 'orders', Endpoint: { Address: host(id) } })) });
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.2.2', Port: 5432 }, TargetHealth: { State: 'healthy' } }] });
    const registeredAt = recordRegistrations(clock);
    const reader: Mapping = { endpoint: READER, targetGroupArn: mapping(1).targetGroupArn, port: 5432, ipAddressType: 'ipv4' };
    const config = syncConfig({ mappings: [reader], failoverPollMs: 2000, failoverWatchMs: 20_000, failoverFollowMs: 0 });
    const resolve = async (name: string) => [address[name] ?? '10.9.9.9'];

    await clock.run(runSync(config, rdsEvent([READER]), { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), rds: new RDSClient({}), resolve, log: recordLog(), ...clock }));

    expect(registeredAt[reader.targetGroupArn]).toBe(6000);
    const clusterReads = rdsMock.commandCalls(DescribeDBClustersCommand).length;
    // One read per poll until the change (0, 2, 4, 6 s), then the passes after it: never more than one per poll.
    expect(clusterReads).toBeGreaterThanOrEqual(4);
    expect(clusterReads).toBeLessThanOrEqual(20_000 / 2000 + 2);
    // The instance endpoint names: once for the run (before: once per poll as well).
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 1);
  });
});

describe('reader endpoints synced again during a watch share one batched RDS read', () => {
  const rdsMock = mockClient(RDSClient);

  it('reads both clusters in one DescribeDBClusters per re-sync round instead of one per mapping, and sees a failover there', async () => {
    rdsMock.reset();
    const clock = virtualClock();
    const swap = () => clock.now() >= 100_000;
    fakeRds(rdsMock, [
      { id: 'ra', members: ['ra-1', 'ra-2', 'ra-3'] },
      { id: 'rb', members: ['rb-1', 'rb-2'] },
    ]);
    // rb fails over at 100 s: rb-2 becomes the writer (the fake's first member).
    const clusterReadsAt: number[] = [];
    rdsMock.on(DescribeDBClustersCommand).callsFake((input: { Filters?: { Values?: string[] }[]; DBClusterIdentifier?: string }) => {
      clusterReadsAt.push(clock.now());
      const wanted = input.Filters?.[0]?.Values ?? [input.DBClusterIdentifier ?? ''];
      const members = { ra: ['ra-1', 'ra-2', 'ra-3'], rb: swap() ? ['rb-2', 'rb-1'] : ['rb-1', 'rb-2'] };
      return { DBClusters: wanted.map((id) => ({ DBClusterIdentifier: id, DBClusterMembers: members[id as 'ra' | 'rb'].map((m, i) => ({ DBInstanceIdentifier: m, IsClusterWriter: i === 0 })) })) };
    });
    const ip: Record<string, string> = { [fakeHost('ra-2')]: '10.0.3.2', [fakeHost('ra-3')]: '10.0.3.3', [fakeHost('rb-1')]: '10.0.4.1', [fakeHost('rb-2')]: '10.0.4.2' };
    const readerOf = (c: string, i: number): Mapping => ({ ...mapping(i), endpoint: `${c}.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com` });
    const [watched, ra, rb] = [mapping(1), readerOf('ra', 2), readerOf('rb', 3)];
    const held: Record<string, string[]> = { [watched.targetGroupArn]: ['10.0.1.1'], [ra.targetGroupArn]: ['10.0.3.2', '10.0.3.3'], [rb.targetGroupArn]: ['10.0.4.2'] };
    elbMock.on(DescribeTargetHealthCommand).callsFake((input: { TargetGroupArn: string }) => ({
      TargetHealthDescriptions: (held[input.TargetGroupArn] ?? []).map((Id) => ({ Target: { Id, Port: 5432 }, TargetHealth: { State: 'healthy' } })),
    }));
    const registeredAt = recordRegistrations(clock);
    // The watched writer never changes: the watch lasts its 180 s, the readers are synced again every 60 s.
    const resolve = async (name: string) => [ip[name] ?? '10.0.1.1'];
    const config = syncConfig({ mappings: [watched, ra, rb], failoverPollMs: 2000, failoverWatchMs: 180_000, scheduleIntervalMs: 60_000, failoverFollowMs: 0 });

    const summary = await clock.run(runSync(config, rdsEvent([watched.endpoint]), { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), rds: new RDSClient({}), resolve, log: recordLog(), ...clock }));

    // The first passes (0 s) and each round of re-syncs: one call each, both clusters in it (before: one per mapping per pass).
    expect(clusterReadsAt).toEqual([0, 60_000, 120_000, 180_000]);
    expect(rdsMock.commandCalls(DescribeDBClustersCommand).map((c) => c.args[0].input.Filters?.[0]?.Values)).toEqual(Array(4).fill(['ra', 'rb']));
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 4);
    expect(summary.mappings[1]?.syncs).toBe(4);
    // rb's failover at 100 s is seen by the 120 s re-sync: its reader endpoint now serves rb-1.
    expect(registeredAt[rb.targetGroupArn]).toBe(120_000);
    expect(summary.mappings[2]).toMatchObject({ added: ['10.0.4.1'], removed: ['10.0.4.2'] });
    expect(summary.mappings[1]).toMatchObject({ added: [], removed: [], reason: 'in-sync' });
    expect(summary.mappings[1]?.error).toBeUndefined();
  });
});
