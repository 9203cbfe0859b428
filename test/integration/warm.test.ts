// Warm standby (FAILOVER_MODE=warm) against moto and the loopback DNS server: the real sync
// handler and SDK clients; one NLB listener forwarding to three slot target groups with weights
// (moto accepts ForwardConfig weights in ModifyListener and returns them in DescribeListeners);
// an Aurora cluster of four instances, failed over with FailoverDBCluster (moto swaps
// IsClusterWriter at once and changes no DNS: the test points the writer endpoint itself). ELB's
// target timing (registration, health checks) comes from the harness's ELBv2 front, scaled down
// (test/harness/elb-front.ts): a slot's candidate is healthy only once the front says so.
import {
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, type CliIo } from '../../cli/main.js';
import type { DrillRecord } from '../../lib/drill/timeline.js';
import type { SyncSummary } from '../../lib/sync/run.js';
import { coldStart } from '../cold-start.js';
import scheduleEvent from '../events/scheduled.json' with { type: 'json' };
import {
  emulatorClientConfig,
  emulatorEnv,
  failoverCluster,
  motoOrSkip,
  readTargets,
  seedAuroraCluster,
  seedAws,
  startEmulators,
  type Emulators,
  type SeededCluster,
} from '../harness/index.js';

const IPS: Record<string, string> = { 'orders-1': '10.0.1.11', 'orders-2': '10.0.1.12', 'orders-3': '10.0.2.13', 'orders-4': '10.0.2.14' };

describe.skipIf(!motoOrSkip())('warm standby against the AWS emulator', () => {
  let emulators: Emulators;
  let elb: ElasticLoadBalancingV2Client;
  let cluster: SeededCluster;
  let slots: string[];
  let listenerArn: string;

  beforeAll(async () => {
    emulators = await startEmulators();
    elb = new ElasticLoadBalancingV2Client(emulatorClientConfig(emulators.moto.endpoint));
  });
  afterAll(() => {
    elb?.destroy();
    return emulators?.stop();
  });
  beforeEach(async () => {
    await emulators.moto.reset();
    const aws = await seedAws(emulators.moto.endpoint, { targetGroups: [{ name: 'slot1', port: 5432 }] });
    slots = [aws.targetGroupArns[0] ?? ''];
    for (const name of ['slot2', 'slot3']) {
      const { TargetGroups } = await elb.send(new CreateTargetGroupCommand({ Name: name, TargetType: 'ip', Protocol: 'TCP', Port: 5432, VpcId: aws.vpcId }));
      slots.push(TargetGroups?.[0]?.TargetGroupArn ?? '');
    }
    const { Listeners } = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: aws.loadBalancerArn }));
    listenerArn = Listeners?.[0]?.ListenerArn ?? '';
    // As the stack creates it (failoverMode warm): every slot, the first weighted.
    await setWeights([1, 0, 0]);
    cluster = await seedAuroraCluster(emulators.moto.endpoint, 'orders', ['orders-1', 'orders-2', 'orders-3', 'orders-4']);
    for (const [id, host] of Object.entries(cluster.instanceEndpoints)) emulators.dns.setA(host, [IPS[id] ?? '']);
    pointWriter('orders-1');
  });

  const pointWriter = (id: string) => emulators.dns.setCname(cluster.writerEndpoint, cluster.instanceEndpoints[id] ?? '');
  const setWeights = (weights: number[], arns = slots) =>
    elb.send(
      new ModifyListenerCommand({
        ListenerArn: listenerArn,
        DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: arns.map((arn, i) => ({ TargetGroupArn: arn, Weight: weights[i] ?? 0 })) } }],
      }),
    );
  const weights = async () => {
    const { Listeners } = await elb.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }));
    return (Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups ?? []).map((g) => [g.TargetGroupArn, g.Weight]);
  };
  /** Each slot's addresses, in slot order. */
  const held = async () => Promise.all(slots.map(async (arn) => (await readTargets(emulators.elb.endpoint, arn)).map((t) => t.ip)));
  const weightedIps = async () => {
    const w = await weights();
    const i = w.findIndex(([, weight]) => weight !== 0);
    return (await held())[i];
  };
  const env_ = () => ({
    ...emulatorEnv(emulators),
    SYNC_MAPPINGS: JSON.stringify([{ endpoint: cluster.writerEndpoint, targetGroupArn: slots[0], port: 5432 }]),
    FAILOVER_MODE: 'warm',
    WARM_LISTENER_ARN: listenerArn,
    WARM_SLOT_TARGET_GROUP_ARNS: slots.join(','),
    DNS_TIMEOUT_MS: '300',
    DNS_TRIES: '1',
  });
  const env = env_;
  const sync = async () => (await coldStart<SyncSummary>(() => import('../../functions/sync.js'), env()))(scheduleEvent);
  const failoverSeen = async () => {
    const rds = new RDSClient(emulatorClientConfig(emulators.moto.endpoint));
    try {
      const out = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'orders' }));
      return out.DBClusters?.[0]?.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier === 'orders-2';
    } finally {
      rds.destroy();
    }
  };
  /** Runs until a pass changes nothing (at most 4): the slots filled from empty; then ELB's (modeled) registration and health checks pass. */
  const settle = async () => {
    for (let i = 0; i < 4; i++) {
      if ((await sync()).mappings[0]?.reason === 'in-sync') {
        await Promise.all(slots.map((arn) => emulators.elb.settled(arn, 15_000)));
        return;
      }
    }
    throw new Error('warm standby did not settle in 4 passes');
  };

  it('fills the slots from empty: the writer weighted, the next candidates at weight 0', async () => {
    const first = await sync();
    // The weighted slot is empty at creation: the writer goes into another slot (the cold path), weighted at once.
    expect(first.mappings[0]?.warm).toMatchObject({ reason: 'cold', cold: true, weightsChanged: true, registered: [{ targetGroupArn: slots[1], ip: IPS['orders-1'] }] });
    await settle();

    expect(await weightedIps()).toEqual([IPS['orders-1']]);
    expect((await held()).flat().sort()).toEqual([IPS['orders-1'], IPS['orders-2'], IPS['orders-3']]);
    expect((await weights()).filter(([, w]) => w !== 0)).toHaveLength(1);
  });

  it('follows a failover with one weight change and no registration', async () => {
    await settle();
    const before = await held();
    // Before the failover the candidate sits in its own slot, healthy, at weight 0.
    const candidateSlot = before.findIndex((ips) => ips.includes(IPS['orders-2'] ?? ''));
    expect((await readTargets(emulators.elb.endpoint, slots[candidateSlot] ?? ''))[0]?.state).toBe('healthy');
    expect((await weights())[candidateSlot]?.[1]).toBe(0);

    await failoverCluster(emulators.moto.endpoint, 'orders', 'orders-2');
    pointWriter('orders-2');
    const [registers, deregisters] = [emulators.elb.calls('RegisterTargets'), emulators.elb.calls('DeregisterTargets')];
    const changesBefore = emulators.elb.weightHistory(listenerArn).length;
    const summary = await sync();

    expect(summary.outcome).toBe('success');
    // No RegisterTargets (nor DeregisterTargets) reached ELB on the failover path.
    expect([emulators.elb.calls('RegisterTargets') - registers, emulators.elb.calls('DeregisterTargets') - deregisters]).toEqual([0, 0]);
    expect(summary.mappings[0]).toMatchObject({ reason: 'address-changed', resolved: [IPS['orders-2']], added: [], removed: [] });
    expect(summary.mappings[0]?.warm).toMatchObject({ reason: 'weights-changed', weightsChanged: true, cold: false, registered: [], deregistered: [], weightedSlot: slots[candidateSlot] });
    expect(await weightedIps()).toEqual([IPS['orders-2']]);
    // No target moved on the failover path.
    expect(await held()).toEqual(before);
    // The failover timeline: "registered" is the weight change; the candidate was healthy already.
    expect(summary.failovers).toEqual([
      expect.objectContaining({ newAddresses: [IPS['orders-2']], oldAddresses: [IPS['orders-1']], outcome: 'healthy', registeredToHealthySeconds: 0 }),
    ]);
    expect(summary.mappings[0]?.warm?.failover).toBeUndefined();
    // The ELBv2 front saw one ModifyListener move the weight to the candidate's slot; new
    // connections follow it after the modelled propagation (unknown on AWS: an assumed figure).
    const changes = emulators.elb.weightHistory(listenerArn).slice(changesBefore);
    expect(changes).toHaveLength(1);
    expect(Object.entries(changes[0]?.to ?? {}).filter(([, w]) => w !== 0)).toEqual([[slots[candidateSlot], 1]]);
    expect((changes[0]?.effectiveAt ?? 0) - (changes[0]?.changedAt ?? 0)).toBeCloseTo(emulators.elb.timing.weightPropagationMs);
  });

  it('takes the cold path for a writer outside every slot, and says so', async () => {
    await settle();
    await failoverCluster(emulators.moto.endpoint, 'orders', 'orders-4');
    pointWriter('orders-4');

    const summary = await sync();

    expect(summary.mappings[0]?.warm).toMatchObject({ reason: 'cold', cold: true, weightsChanged: true, writer: IPS['orders-4'] });
    expect(summary.mappings[0]?.warm?.detail).toMatch(/sits in no slot.*cold path/);
    expect(summary.mappings[0]?.warm?.registered).toEqual([{ targetGroupArn: expect.any(String), ip: IPS['orders-4'] }]);
    expect(await weightedIps()).toEqual([IPS['orders-4']]);
    expect((await weights()).filter(([, w]) => w !== 0)).toHaveLength(1);
    // Not followed by weights alone: no warm timeline (the registration's own follow is not wired for slots).
    expect(summary.failovers).toBeUndefined();
  });

  it('changes nothing while DNS fails during a failover, and fails the run', async () => {
    await settle();
    const [slotsBefore, weightsBefore] = [await held(), await weights()];
    await failoverCluster(emulators.moto.endpoint, 'orders', 'orders-2');
    emulators.dns.fail(cluster.writerEndpoint, 'SERVFAIL');

    await expect(sync()).rejects.toMatchObject({ name: 'RunFailedError', message: expect.stringMatching(/servfail/i) });
    expect(await weights()).toEqual(weightsBefore);
    expect(await held()).toEqual(slotsBefore);
  });

  it('reports a listener someone else changed and leaves it untouched', async () => {
    await settle();
    // Someone forwards to two slots at once.
    await setWeights([1, 1, 0]);
    pointWriter('orders-2');
    const slotsBefore = await held();

    await expect(sync()).rejects.toMatchObject({ name: 'RunFailedError', message: expect.stringMatching(/listener-foreign: the listener has 2 non-zero weights/) });
    expect((await weights()).map(([, w]) => w)).toEqual([1, 1, 0]);
    expect(await held()).toEqual(slotsBefore);
  });

  describe('doctor', () => {
    beforeEach(() => {
      for (const [k, v] of Object.entries(emulatorEnv(emulators))) vi.stubEnv(k, v);
    });
    afterEach(() => vi.unstubAllEnvs());

    it('checks the slots instead of slot 1\'s targets: passes when settled, fails after an unfollowed failover', async () => {
      await settle();
      const doctor = async () => {
        const out: string[] = [];
        const io: CliIo = { env: env_(), stdout: (t) => void out.push(t), stderr: () => undefined, color: false };
        await main(['doctor', '--json'], io);
        return (JSON.parse(out.join('')) as { checks: { id: string; status: string; message: string }[] }).checks;
      };
      const before = await doctor();
      expect(before.filter((c) => c.id.startsWith('targets.'))).toEqual([]);
      expect(before.find((c) => c.id === 'warm.slots')).toMatchObject({ status: 'pass' });

      pointWriter('orders-3');
      expect((await doctor()).find((c) => c.id === 'warm.slots')).toMatchObject({ status: 'fail', message: expect.stringContaining(`not the writer ${IPS['orders-3']}`) });
    });
  });

  describe('plan', () => {
    beforeEach(() => {
      for (const [k, v] of Object.entries(emulatorEnv(emulators))) vi.stubEnv(k, v);
    });
    afterEach(() => vi.unstubAllEnvs());

    it('shows the warm decision, changing nothing: after a failover, the weight to move and no registration', async () => {
      await settle();
      const [slotsBefore, weightsBefore] = [await held(), await weights()];
      pointWriter('orders-2');
      const out: string[] = [];
      await main(['plan', '--json'], { env: env_(), stdout: (t) => void out.push(t), stderr: () => undefined, color: false });
      const report = JSON.parse(out.join('')) as { mappings: { reason: string; add: string[]; registered: { ip: string; state: string }[]; warm: { reason: string; planned: { weight: string | null } } }[] };
      const candidateSlot = slotsBefore.findIndex((ips) => ips.includes(IPS['orders-2'] ?? ''));
      expect(report.mappings[0]).toMatchObject({ reason: 'address-changed', add: [], warm: { reason: 'weights-changed', planned: { weight: slots[candidateSlot] } } });
      expect(await weights()).toEqual(weightsBefore);
      expect(await held()).toEqual(slotsBefore);
    });
  });

  describe('drill', () => {
    beforeEach(() => {
      for (const [k, v] of Object.entries(emulatorEnv(emulators))) vi.stubEnv(k, v);
    });
    afterEach(() => vi.unstubAllEnvs());

    it('reports the mode and times the weight change: the serving slot holds the new writer, healthy, at once', async () => {
      await settle();
      const out: string[] = [];
      const env = { ...env_(), FAILOVER_POLL_MS: '300' };
      const io: CliIo = { env, stdout: (t) => void out.push(t), stderr: () => undefined, color: false };
      // Aurora moves the writer endpoint once RDS names the new writer; moto does not: flip DNS when FailoverDBCluster ran.
      const flip = setInterval(() => void failoverSeen().then((seen) => seen && pointWriter('orders-2')), 100);
      const args = ['drill', '--db-cluster-identifier', 'orders', '--yes-fail-over', 'orders', '--target-instance', 'orders-2', '--endpoint', cluster.writerEndpoint, '--target-group-arn', slots[0] ?? '', '--port', '5432', '--budget-seconds', '5', '--local', '--json'];
      const code = await main(args, io).finally(() => clearInterval(flip));

      const record = JSON.parse(out.join('')) as DrillRecord & { failoverMode: string };
      expect(record.failoverMode).toBe('warm');
      const at = Object.fromEntries(record.steps.map((step) => [step.step, step.at]));
      for (const step of ['dns', 'registered', 'healthy', 'old-gone'] as const) expect(at[step]).toEqual(expect.any(Number));
      // In warm mode the new writer is healthy in the serving slot the moment it serves.
      expect(at.healthy).toBe(at.registered);
      // moto publishes no RDS event: the verdict is incomplete for that alone (as in test/integration/drill.test.ts).
      expect(record.verdict).toMatchObject({ outcome: 'incomplete', missing: ['event'] });
      expect(code).toBe(1);
      expect(await weightedIps()).toEqual([IPS['orders-2']]);
    });
  });
});
