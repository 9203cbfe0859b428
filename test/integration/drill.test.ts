// `rds-nlb-sync drill` against moto (RDS: clusters, instances, FailoverDBCluster; ELB) and the
// loopback DNS server, through the CLI's main(). What moto 5.2.1 does and does not do here:
// - FailoverDBCluster swaps IsClusterWriter at once (checked below), but changes no DNS: the test
//   flips the cluster endpoint's CNAME itself once DescribeDBClusters shows the new writer
//   (followWriter, local to this file);
// - DescribeEvents returns no failover event (only creation and backup events), so the drill's
//   "RDS event seen" step stays not seen and the verdict is INCOMPLETE, never a 0 s event;
// - targets are healthy as soon as registered and gone as soon as deregistered.
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateDBInstanceCommand, DescribeDBClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, type CliIo } from '../../cli/main.js';
import type { DrillRecord } from '../../lib/drill/timeline.js';
import {
  emulatorClientConfig,
  emulatorEnv,
  freePort,
  motoOrSkip,
  readTargets,
  seedAuroraCluster,
  seedAws,
  startEmulators,
  type Emulators,
  type SeededAws,
  type SeededCluster,
} from '../harness/index.js';

const IPS: Record<string, string> = { 'orders-1': '10.0.1.11', 'orders-2': '10.0.2.12' };

describe.skipIf(!motoOrSkip())('drill against the AWS emulator', () => {
  let emulators: Emulators;
  let aws: SeededAws;
  let cluster: SeededCluster;
  let rds: RDSClient;

  beforeAll(async () => {
    emulators = await startEmulators();
    rds = new RDSClient(emulatorClientConfig(emulators.moto.endpoint));
  });
  afterAll(async () => {
    rds?.destroy();
    await emulators?.stop();
  });
  beforeEach(async () => {
    await emulators.moto.reset();
    aws = await seedAws(emulators.moto.endpoint);
    cluster = await seedAuroraCluster(emulators.moto.endpoint, 'orders', ['orders-1', 'orders-2']);
    for (const [id, host] of Object.entries(cluster.instanceEndpoints)) emulators.dns.setA(host, [IPS[id] ?? '']);
    emulators.dns.setCname(cluster.writerEndpoint, host('orders-1'));
    const elb = new ElasticLoadBalancingV2Client(emulatorClientConfig(emulators.moto.endpoint));
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tg(), Targets: [{ Id: IPS['orders-1'], Port: 5432 }] }));
    elb.destroy();
    // The SDK clients the CLI creates read the endpoint, region and credentials from process.env.
    for (const [k, v] of Object.entries(emulatorEnv(emulators))) vi.stubEnv(k, v);
  });
  afterEach(() => vi.unstubAllEnvs());

  const host = (id: string) => cluster.instanceEndpoints[id] ?? '';
  const tg = () => aws.targetGroupArns[0] ?? '';

  async function cli(args: string[], onStderr: (text: string) => void = () => undefined) {
    const out: string[] = [];
    const err: string[] = [];
    const env = { DNS_SERVERS: emulators.dns.address, DNS_TIMEOUT_MS: '300', DNS_TRIES: '1', FAILOVER_POLL_MS: '300' };
    const io: CliIo = { env, stdout: (t) => void out.push(t), stderr: (t) => (err.push(t), onStderr(t)), color: false };
    const code = await main(args, io);
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  /**
   * What Aurora's DNS does after a failover, which moto does not: once DescribeDBClusters names a
   * new writer, the cluster endpoint's CNAME points at it. Local to this test (not a harness helper).
   */
  function followWriter(): { stop: () => Promise<void> } {
    let running = true;
    const loop = (async () => {
      while (running) {
        const out = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'orders' }));
        const writer = out.DBClusters?.[0]?.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier;
        if (writer && writer !== 'orders-1') {
          emulators.dns.setCname(cluster.writerEndpoint, host(writer));
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }

  const drillArgs = (budget: number) => ['drill', '--db-cluster-identifier', 'orders', '--yes-fail-over', 'orders', '--endpoint', cluster.writerEndpoint, '--target-group-arn', tg(), '--port', '5432', '--budget-seconds', String(budget), '--local', '--json'];

  it('drives an Aurora failover to a verdict: DNS, registered, healthy and old target gone in order; the event not seen is not 0 s', async () => {
    const flip = followWriter();
    const { code, stdout, stderr } = await cli(drillArgs(5));
    await flip.stop();

    const record = JSON.parse(stdout) as DrillRecord;
    const at = Object.fromEntries(record.steps.map((s) => [s.step, s.at]));
    expect(record.database).toMatchObject({ kind: 'cluster', id: 'orders', writerBefore: 'orders-1' });
    expect(record.before).toEqual({ addresses: [IPS['orders-1']], targets: [{ ip: IPS['orders-1'], state: 'healthy' }] });
    expect(at.requested).toBe(0);
    for (const step of ['dns', 'registered', 'healthy', 'old-gone'] as const) expect(at[step]).toEqual(expect.any(Number));
    expect(at.dns!).toBeLessThanOrEqual(at.registered!);
    expect(at.registered!).toBeLessThanOrEqual(at.healthy!);
    expect(at.registered!).toBeLessThanOrEqual(at['old-gone']!);
    expect(record.steps.find((s) => s.step === 'dns')?.detail).toBe(`${IPS['orders-1']} -> ${IPS['orders-2']}`);
    // moto keeps no failover event: not seen, so the end to end is unknown and the drill fails.
    expect(record.events).toEqual([]);
    expect(record.steps.find((s) => s.step === 'event')).toMatchObject({ at: null, time: null });
    expect(record.verdict).toMatchObject({ outcome: 'incomplete', ok: false, endToEndSeconds: null, missing: ['event'], budgetSeconds: 5 });
    expect(code).toBe(1);
    // The live timeline went to stderr (stdout is the record), one line per step as it happened.
    expect(stderr).toContain('\n    0.0 s  failover requested      FailoverDBCluster orders (answered in ');
    expect(stderr).toMatch(/DNS answer changed +10\.0\.1\.11 -> 10\.0\.2\.12/);
    expect((await readTargets(emulators.moto.endpoint, tg())).map((t) => t.ip)).toEqual([IPS['orders-2']]);
    // What moto does: FailoverDBCluster made the reader the writer at once.
    const out = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'orders' }));
    expect(out.DBClusters?.[0]?.DBClusterMembers?.map((m) => [m.DBInstanceIdentifier, m.IsClusterWriter])).toEqual([
      ['orders-1', false],
      ['orders-2', true],
    ]);
  }, 30_000);

  it('reports the window with no TCP connection while the probed listener is stopped', async () => {
    const port = await freePort();
    let server = await listen(port);
    let stoppedAt = 0;
    let restartedAt = 0;
    let restart: Promise<void> | undefined;
    const flip = followWriter();
    const { code, stdout } = await cli([...drillArgs(12), '--probe', `127.0.0.1:${port}`], (text) => {
      if (!text.includes('failover requested') || restart) return;
      restart = (async () => {
        await new Promise((r) => setTimeout(r, 1000));
        stoppedAt = Date.now();
        await close(server);
        await new Promise((r) => setTimeout(r, 2500));
        server = await listen(port);
        restartedAt = Date.now();
      })();
    });
    await flip.stop();
    await restart;
    await close(server);

    const record = JSON.parse(stdout) as DrillRecord;
    const since = (ms: number) => (ms - Date.parse(record.requestedAt ?? '')) / 1000;
    const probe = record.probe!;
    expect(probe.target).toBe(`127.0.0.1:${port}`);
    expect(probe.firstFailure?.error).toBe('ECONNREFUSED');
    // The window covers the stop: no failure before it, none after the restart, the first success
    // after the restart (times rounded to 0.1 s). Attempts start on 1 s ticks: the first failure
    // comes within a tick of the stop (bound generous for a loaded machine).
    expect(probe.firstFailure!.at).toBeGreaterThanOrEqual(since(stoppedAt) - 0.1);
    expect(probe.firstFailure!.at).toBeLessThanOrEqual(since(stoppedAt) + 2.5);
    expect(probe.lastFailure!.at).toBeLessThanOrEqual(since(restartedAt) + 0.1);
    expect(probe.firstSuccessAfter!.at).toBeGreaterThanOrEqual(since(restartedAt) - 0.1);
    expect(probe.noConnectionSeconds!).toBeGreaterThanOrEqual(since(restartedAt) - since(stoppedAt) - 2.5);
    expect(code).toBe(1); // the RDS event is never seen in moto
  }, 45_000);

  it('refuses a cluster with one instance, before failing over', async () => {
    await seedAuroraCluster(emulators.moto.endpoint, 'solo', ['solo-1']);

    const { code, stdout } = await cli(['drill', '--db-cluster-identifier', 'solo', '--yes-fail-over', 'solo', '--target-group-arn', tg(), '--json']);

    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toEqual({ outcome: 'refused', reason: 'DB cluster solo has one instance (solo-1) and no reader or standby to fail over to: add a reader first' });
  });

  it('refuses a DB instance that is not Multi-AZ, before failing over', async () => {
    await rds.send(new CreateDBInstanceCommand({ DBInstanceIdentifier: 'single', Engine: 'postgres', DBInstanceClass: 'db.t3.micro', AllocatedStorage: 20, MasterUsername: 'p', MasterUserPassword: 'not-a-secret-1', MultiAZ: false }));

    const { code, stdout } = await cli(['drill', '--db-instance-identifier', 'single', '--yes-fail-over', 'single', '--target-group-arn', tg()]);

    expect(code).toBe(2);
    expect(stdout).toBe('rds-nlb-sync drill: refused, nothing was done: DB instance single is not Multi-AZ (MultiAZ false): it has no standby to fail over to\n');
  });
});

async function listen(port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
