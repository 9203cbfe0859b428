// The real sync handler and SDK clients against moto (AWS API emulator) and a loopback DNS
// server. ELBv2 goes through the harness's front with AWS's target timing, scaled down
// (test/harness/elb-front.ts): a registered target is `initial` until registration and health
// checks pass, a deregistered one `draining` for the deregistration delay. Tests that need the
// group settled, as it would be minutes later on AWS, wait for it (settled()).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SyncSummary } from '../../lib/sync/run.js';
import { coldStart } from '../cold-start.js';
import scheduleEvent from '../events/scheduled.json' with { type: 'json' };
import {
  emulatorEnv,
  motoOrSkip,
  readMetrics,
  readTargets,
  seedAws,
  startEmulators,
  startSilentServer,
  toHealthyMs,
  type Emulators,
  type SeededAws,
} from '../harness/index.js';

const ORDERS = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const BILLING = 'billing.c0ffee.eu-west-1.rds.amazonaws.com';
const NAMESPACE = 'RdsNlbSync';

describe.skipIf(!motoOrSkip())('sync against the AWS emulator', () => {
  let emulators: Emulators;
  let aws: SeededAws;

  beforeAll(async () => {
    emulators = await startEmulators();
  });
  afterAll(() => emulators?.stop());
  beforeEach(async () => {
    await emulators.moto.reset();
    aws = await seedAws(emulators.moto.endpoint, {
      targetGroups: [
        { name: 'orders', port: 5432 },
        { name: 'billing', port: 3306 },
      ],
    });
    emulators.dns.setA(ORDERS, ['10.0.1.5']);
    emulators.dns.setA(BILLING, ['10.0.2.7']);
  });

  const mapping = (endpoint: string, i: number, port: number) => ({ endpoint, targetGroupArn: aws.targetGroupArns[i], port });
  const env = (mappings = [mapping(ORDERS, 0, 5432)]) => ({
    ...emulatorEnv(emulators),
    SYNC_MAPPINGS: JSON.stringify(mappings),
    DNS_TIMEOUT_MS: '300',
    DNS_TRIES: '1',
    METRICS_NAMESPACE: NAMESPACE,
  });
  const sync = async (event: unknown, e: Record<string, string> = env()) => (await coldStart<SyncSummary>(() => import('../../functions/sync.js'), e))(event);
  const targets = (i = 0) => readTargets(emulators.elb.endpoint, aws.targetGroupArns[i] ?? '');
  /** What AWS shows minutes later: registration and health checks done, draining over. */
  const settled = (i = 0) => emulators.elb.settled(aws.targetGroupArns[i] ?? '');
  const ips = async (i = 0) => (await targets(i)).map((t) => t.ip);

  it('registers the endpoint (initial until ELB has registered and checked it), then changes nothing on the next run', async () => {
    await sync(scheduleEvent);
    await settled();
    expect(await targets()).toEqual([{ ip: '10.0.1.5', port: 5432, state: 'healthy' }]);
    // Healthy no sooner than ELB's registration and health checks allow (scaled).
    const [h] = emulators.elb.history(aws.targetGroupArns[0]);
    expect((h?.firstHealthyAt ?? 0) - (h?.registeredAt ?? 0)).toBeGreaterThanOrEqual(toHealthyMs(emulators.elb.timing) - 1);

    const second = await sync(scheduleEvent);
    expect(second.mappings[0]).toMatchObject({ reason: 'in-sync', added: [], removed: [] });
    expect(await ips()).toEqual(['10.0.1.5']);
  });

  it('follows a failover: the new writer registered, the old one drained and gone', async () => {
    await sync(scheduleEvent);
    await settled();
    emulators.dns.setA(ORDERS, ['10.0.2.9']);

    const summary = await sync(scheduleEvent);

    expect(summary.mappings[0]).toMatchObject({ added: ['10.0.2.9'], removed: ['10.0.1.5'] });
    await settled();
    expect(await targets()).toEqual([{ ip: '10.0.2.9', port: 5432, state: 'healthy' }]);
    const [old, fresh] = emulators.elb.history(aws.targetGroupArns[0]);
    expect(old).toMatchObject({ ip: '10.0.1.5', deregisteredAt: expect.any(Number), goneAt: expect.any(Number) });
    expect(fresh).toMatchObject({ ip: '10.0.2.9', firstHealthyAt: expect.any(Number) });
    expect(fresh?.deregisteredAt).toBeUndefined();
  });

  it('keeps several mappings apart', async () => {
    const both = env([mapping(ORDERS, 0, 5432), mapping(BILLING, 1, 3306)]);
    await sync(scheduleEvent, both);
    await Promise.all([settled(0), settled(1)]);

    expect(await targets(0)).toEqual([{ ip: '10.0.1.5', port: 5432, state: 'healthy' }]);
    expect(await targets(1)).toEqual([{ ip: '10.0.2.7', port: 3306, state: 'healthy' }]);
  });

  it('leaves the target group untouched when DNS fails, and fails the run', async () => {
    await sync(scheduleEvent);
    emulators.dns.fail(ORDERS, 'NXDOMAIN');

    await expect(sync(scheduleEvent)).rejects.toMatchObject({ name: 'RunFailedError' });
    expect(await ips()).toEqual(['10.0.1.5']);
  });

  it('changes nothing in a dry run', async () => {
    const summary = await sync({ dryRun: true });
    expect(summary.mappings[0]).toMatchObject({ added: ['10.0.1.5'] });
    expect(await targets()).toEqual([]);
  });

  it('registers every resolved address again when forced', async () => {
    await sync(scheduleEvent);
    const summary = await sync({ force: true });
    expect(summary.mappings[0]).toMatchObject({ reason: 'forced', added: ['10.0.1.5'] });
    expect(await ips()).toEqual(['10.0.1.5']);
  });

  it('puts the metrics into CloudWatch with their names, dimensions and values', async () => {
    await sync(scheduleEvent);
    await settled();
    emulators.dns.setA(ORDERS, ['10.0.2.9']);
    await sync(scheduleEvent);

    const metrics = await readMetrics(emulators.moto.endpoint, NAMESPACE);
    const value = (name: string, dims: Record<string, string> = {}) =>
      metrics.find((m) => m.name === name && JSON.stringify(m.dimensions) === JSON.stringify(dims));
    const tg = { TargetGroup: aws.targetGroupArns[0]?.split(':').at(-1) ?? '', Endpoint: ORDERS, Port: '5432' };

    // moto answers a dimensionless statistics query with every dimension set summed up, so the
    // run-level copies of per-mapping metrics are checked in the unit tests instead.
    expect(value('SyncSuccess')).toMatchObject({ sum: 2, count: 2 });
    // MAPPING_METRICS=changes (the default): a mapping's counts only in the runs where they are not 0, no levels.
    expect(value('TargetsAdded', tg)).toMatchObject({ sum: 2, count: 2 });
    expect(value('TargetsRemoved', tg)).toMatchObject({ sum: 1, count: 1 });
    for (const quiet of ['DnsFailures', 'SyncErrors', 'HealthyTargets', 'ResolvedAddresses', 'RegisteredTargets']) expect(value(quiet, tg)).toBeUndefined();
    expect(value('SyncDuration')?.count).toBe(2);
  });

  it('syncs the targets and succeeds, well inside the Lambda timeout, when CloudWatch accepts TCP and never answers', async () => {
    // What a VPC without a route to `monitoring` looks like: the metrics must not hold the run.
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      const summary = await sync(scheduleEvent, { ...env(), AWS_ENDPOINT_URL_CLOUDWATCH: silent.url });

      expect(summary).toMatchObject({ outcome: 'success', metricsSent: false, mappings: [{ added: ['10.0.1.5'] }] });
      expect(await ips()).toEqual(['10.0.1.5']);
      expect(silent.connections()).toBeGreaterThan(0); // the SDK honoured AWS_ENDPOINT_URL_CLOUDWATCH
      expect(Date.now() - started).toBeLessThan(10_000); // the function's timeout is 60 s
    } finally {
      await silent.close();
    }
  });

  it('fails quickly, naming the API and what to check, when the ELB API never answers', async () => {
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      const e = { ...env(), AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: silent.url, AWS_CONNECT_TIMEOUT_MS: '500', AWS_REQUEST_TIMEOUT_MS: '500' };

      await expect(sync(scheduleEvent, e)).rejects.toMatchObject({
        name: 'RunFailedError',
        message: expect.stringMatching(/cannot reach the elasticloadbalancing API .*NAT gateway.*createApiEndpoints/),
      });
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await silent.close();
    }
  });
});
