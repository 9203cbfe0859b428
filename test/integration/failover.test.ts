// A failover end to end, with AWS's terms modelled: moto for RDS (FailoverDBCluster swaps the
// writer), the loopback DNS server playing RDS's DNS (followClusterWriter points the cluster
// endpoint at the new writer a moment later), and the ELBv2 front's timing model for the target
// group (registration, health checks, draining: test/harness/elb-timing.ts, scaled down).
// The real sync run and SDK clients; the `failover timeline` line is what is asserted.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCloudWatchClient, createElbClient, createRdsClient } from '../../lib/aws/clients.js';
import { loadSyncConfig, type SyncConfig } from '../../lib/config.js';
import { createResolver } from '../../lib/dns.js';
import type { Log } from '../../lib/log.js';
import { runSync, type SyncRequest } from '../../lib/sync/run.js';
import type { FailoverTimeline } from '../../lib/sync/timeline.js';
import {
  emulatorEnv,
  failoverCluster,
  followClusterWriter,
  motoOrSkip,
  readMetrics,
  seedAuroraCluster,
  seedAws,
  startEmulators,
  toHealthyMs,
  type Emulators,
  type SeededAws,
  type SeededCluster,
} from '../harness/index.js';

const OLD_IP = '10.0.1.23';
const NEW_IP = '10.0.2.47';
const NAMESPACE = 'RdsNlbSyncFailover';
/** 180 s of registration becomes 1.8 s, healthy 1.9 s after RegisterTargets. */
const SCALE = 0.01;

describe.skipIf(!motoOrSkip())('a failover end to end, with ELB timing modelled', () => {
  let emulators: Emulators;
  let aws: SeededAws;
  let cluster: SeededCluster;
  const saved = { ...process.env };

  beforeAll(async () => {
    emulators = await startEmulators({ elb: { scale: SCALE } });
    // The SDK clients below read their endpoints from the environment, as in Lambda.
    Object.assign(process.env, emulatorEnv(emulators));
  });
  afterAll(async () => {
    process.env = saved;
    await emulators?.stop();
  });
  beforeEach(async () => {
    await emulators.moto.reset();
    emulators.elb.setServing('all');
    aws = await seedAws(emulators.moto.endpoint, { targetGroups: [{ name: 'orders', port: 5432 }] });
    cluster = await seedAuroraCluster(emulators.moto.endpoint, 'orders', ['orders-1', 'orders-2']);
    emulators.dns.setCname(cluster.writerEndpoint, cluster.instanceEndpoints['orders-1'] ?? '');
    emulators.dns.setA(cluster.instanceEndpoints['orders-1'] ?? '', [OLD_IP]);
    emulators.dns.setA(cluster.instanceEndpoints['orders-2'] ?? '', [NEW_IP]);
  });

  const configWith = (followSeconds: number): SyncConfig => ({
    ...loadSyncConfig({
      SYNC_MAPPINGS: JSON.stringify([{ endpoint: cluster.writerEndpoint, targetGroupArn: aws.targetGroupArns[0], port: 5432 }]),
      DNS_SERVERS: emulators.dns.address,
      DNS_TIMEOUT_MS: '300',
      DNS_TRIES: '1',
      METRICS_NAMESPACE: NAMESPACE,
      FAILOVER_POLL_MS: '100',
      FAILOVER_WATCH_SECONDS: '10',
      FAILOVER_FOLLOW_SECONDS: String(followSeconds),
    }),
    // Read the group every 100 ms rather than every 5 s: the terms here are scaled by SCALE.
    failoverFollowPollMs: 100,
  });

  async function run(config: SyncConfig, request: SyncRequest) {
    const lines: Record<string, unknown>[] = [];
    const log: Log = { info: (message, ...extra) => lines.push(Object.assign({ message }, ...extra)), warn: () => undefined, error: () => undefined };
    const deps = { elb: createElbClient(), cloudwatch: createCloudWatchClient(), rds: createRdsClient(), resolve: createResolver(config.dns), log };
    try {
      const summary = await runSync(config, request, deps);
      return { summary, timelines: lines.filter((l) => l.message === 'failover timeline') as unknown as FailoverTimeline[] };
    } finally {
      deps.elb.destroy();
      deps.cloudwatch.destroy();
      deps.rds.destroy();
    }
  }

  /** The cluster fails over to orders-2; RDS's DNS follows 300 ms later; RDS's event starts a run. */
  async function failOver(config: SyncConfig) {
    const first = await run(config, { trigger: 'schedule', force: false, dryRun: false });
    expect(first.summary.mappings[0]).toMatchObject({ added: [OLD_IP] });
    await emulators.elb.settled(aws.targetGroupArns[0] ?? '');

    const stop = followClusterWriter({ rdsEndpoint: emulators.moto.endpoint, dns: emulators.dns, clusterId: 'orders', clusterEndpoint: cluster.writerEndpoint, delayMs: 300 });
    const eventTime = new Date().toISOString();
    await failoverCluster(emulators.moto.endpoint, 'orders', 'orders-2');
    try {
      return await run(config, {
        trigger: 'rds-event',
        force: false,
        dryRun: false,
        watch: [cluster.writerEndpoint],
        deadline: Date.now() + 60_000,
        event: { sourceIdentifier: 'orders', eventId: 'RDS-EVENT-0073', time: eventTime, source: { kind: 'cluster', id: 'orders' }, matched: [cluster.writerEndpoint] },
      });
    } finally {
      await stop();
    }
  }

  it('ends in one failover timeline line: event, seen, registered, healthy no sooner than ELB allows, old target gone', async () => {
    const { summary, timelines } = await failOver(configWith(20));

    expect(summary.outcome).toBe('success');
    expect(timelines).toHaveLength(1);
    const t = timelines[0]!;
    expect(t).toMatchObject({ outcome: 'healthy', secondsFrom: 'event', eventId: 'RDS-EVENT-0073', newAddresses: [NEW_IP], oldAddresses: [OLD_IP], port: 5432 });
    // Every step present, in order.
    const at = [t.eventTime, t.seenAt, t.registeredAt, t.healthyAt].map((iso) => Date.parse(iso ?? ''));
    expect(at.every(Number.isFinite)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(Date.parse(t.oldGoneAt ?? '')).toBeGreaterThanOrEqual(Date.parse(t.registeredAt));
    expect([t.seenSeconds, t.registeredSeconds, t.healthySeconds ?? NaN]).toEqual([...[t.seenSeconds, t.registeredSeconds, t.healthySeconds ?? NaN]].sort((a, b) => a - b));
    // Healthy after registered by at least the modelled registration and health checks.
    expect(Date.parse(t.healthyAt ?? '') - Date.parse(t.registeredAt)).toBeGreaterThanOrEqual(toHealthyMs(emulators.elb.timing) - 5);
    expect(t.registeredToHealthySeconds).toBeGreaterThanOrEqual((toHealthyMs(emulators.elb.timing) - 5) / 1000);

    const metrics = await readMetrics(emulators.moto.endpoint, NAMESPACE);
    const runLevel = (name: string) => metrics.find((m) => m.name === name && Object.keys(m.dimensions).length === 0);
    expect(runLevel('FailoverEventToHealthy')?.maximum).toBeCloseTo(t.healthySeconds ?? NaN, 1);
    expect(runLevel('FailoverRegisteredToHealthy')?.maximum).toBeCloseTo(t.registeredToHealthySeconds ?? NaN, 1);
    expect(runLevel('FailoversNotHealthy')).toMatchObject({ sum: 0, maximum: 0 });
  }, 60_000);

  it('says so when the new address never serves: not healthy within the bound, with ELB\'s reason, counted for the alarm', async () => {
    // The emulated database: the old writer still serves, the new one refuses the health checks.
    emulators.elb.setServing([`${OLD_IP}:5432`]);

    const { summary, timelines } = await failOver(configWith(4));

    expect(summary.mappings[0]).toMatchObject({ added: [NEW_IP] });
    expect(timelines).toHaveLength(1);
    const t = timelines[0]!;
    expect(t).toMatchObject({ outcome: 'not-healthy-within-bound', followBoundSeconds: 4, lastState: 'unhealthy', lastReason: 'Target.FailedHealthChecks' });
    expect(t.healthyAt).toBeUndefined();
    expect(t.healthySeconds).toBeUndefined();

    // FailoversNotHealthy 1: the failover-not-healthy alarm (in the paging composite; the template
    // test checks it) fires on a Maximum >= 1.
    const metrics = await readMetrics(emulators.moto.endpoint, NAMESPACE);
    expect(metrics.find((m) => m.name === 'FailoversNotHealthy' && Object.keys(m.dimensions).length === 0)).toMatchObject({ maximum: 1 });
    expect(metrics.find((m) => m.name === 'FailoverEventToHealthy')).toBeUndefined();
  }, 60_000);
});
