import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBClusterEndpointsCommand, DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DnsError } from '../../lib/dns.js';
import { FINISH_MARGIN_MS, runSync, type SyncDeps, type SyncRequest } from '../../lib/sync/run.js';
import { BILLING, ORDERS, recordLog, syncConfig, TG_A, TG_B } from '../fixtures.js';
import { fakeHost, fakeRds } from '../aws/fake-rds.js';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const cwMock = mockClient(CloudWatchClient);

const scheduled: SyncRequest = { trigger: 'schedule', force: false, dryRun: false };
const health = (ip: string, state = 'healthy', port = 5432): TargetHealthDescription => ({ Target: { Id: ip, Port: port }, TargetHealth: { State: state as 'healthy' } });

/** Answers from a table: an array of addresses or an Error to throw. */
function fakeDns(answers: Record<string, string[] | Error | (() => string[] | Error)>) {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    asked.push(hostname);
    const entry = answers[hostname];
    const answer = typeof entry === 'function' ? entry() : entry;
    if (answer === undefined) throw new DnsError('nxdomain', hostname);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { resolve, asked };
}

function deps(answers: Parameters<typeof fakeDns>[0], extra: Partial<SyncDeps> = {}) {
  const dns = fakeDns(answers);
  const log = recordLog();
  return { dns, log, deps: { elb: new ElasticLoadBalancingV2Client({}), cloudwatch: new CloudWatchClient({}), resolve: dns.resolve, log, ...extra } };
}

function sentMetrics(): MetricDatum[] {
  return cwMock.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
}
const metric = (name: string, dims: Record<string, string> = {}) =>
  sentMetrics().find((m) => m.MetricName === name && JSON.stringify(m.Dimensions) === JSON.stringify(Object.entries(dims).map(([Name, Value]) => ({ Name, Value }))))?.Value;

const orders = syncConfig({ mappings: syncConfig().mappings.slice(0, 1) });

beforeEach(() => {
  elbMock.reset();
  cwMock.reset();
  elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
  cwMock.on(PutMetricDataCommand).resolves({});
});

describe('runSync', () => {
  describe('per-mapping series (MAPPING_METRICS)', () => {
    const perMapping = () => sentMetrics().filter((d) => (d.Dimensions ?? []).length > 0).map((d) => `${d.MetricName ?? ''} ${d.Dimensions?.[1]?.Value ?? ''} ${d.Value ?? NaN}`);
    const run = async (mode: 'changes' | 'all' | 'none') => {
      cwMock.reset();
      cwMock.on(PutMetricDataCommand).resolves({});
      elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_A }).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
      elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_B }).resolves({ TargetHealthDescriptions: [health('10.0.2.7', 'healthy', 3306)] });
      // ORDERS failed over to 10.0.1.9; BILLING is quiet.
      await runSync(syncConfig({ mappingMetrics: mode }), scheduled, deps({ [ORDERS]: ['10.0.1.9'], [BILLING]: ['10.0.2.7'] }).deps);
      return perMapping();
    };

    it('changes: only the counts that are not 0, of the mapping that changed; the run-level series as always', async () => {
      expect(await run('changes')).toEqual([`TargetsAdded ${ORDERS} 1`, `TargetsRemoved ${ORDERS} 1`]);
      expect([metric('SyncSuccess'), metric('TargetsAdded'), metric('TargetsRemoved'), metric('SyncErrors'), metric('HealthyTargets')]).toEqual([1, 1, 1, 0, 0]);
    });

    it('all: every series of every mapping, zeros and levels included', async () => {
      const sent = await run('all');
      expect(sent).toHaveLength(18);
      expect(sent).toContain(`RegisteredTargets ${BILLING} 1`);
      expect(sent).toContain(`SyncErrors ${BILLING} 0`);
    });

    it('none: no per-mapping series; the run-level series as always', async () => {
      expect(await run('none')).toEqual([]);
      expect(metric('TargetsAdded')).toBe(1);
    });
  });

  it('sends no Register/Deregister in steady state: one DescribeTargetHealth per mapping and one PutMetricData per run', async () => {
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_A }).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_B }).resolves({ TargetHealthDescriptions: [health('10.0.2.7', 'healthy', 3306)] });
    const { deps: d, dns } = deps({ [ORDERS]: ['10.0.1.5'], [BILLING]: ['10.0.2.7'] });

    const summary = await runSync(syncConfig(), scheduled, d);

    expect(summary.outcome).toBe('success');
    expect(summary.mappings.map((m) => m.reason)).toEqual(['in-sync', 'in-sync']);
    expect(dns.asked).toEqual([ORDERS, BILLING]);
    expect(elbMock.calls()).toHaveLength(2);
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetHealthCommand, 2);
    expect(cwMock.calls()).toHaveLength(1);
    expect(metric('SyncSuccess')).toBe(1);
  });

  it('registers the new address before deregistering the old', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
    const { deps: d } = deps({ [ORDERS]: ['10.0.2.9'] });

    const summary = await runSync(orders, scheduled, d);

    const sent = elbMock.calls().map((c) => c.args[0].constructor.name);
    // The second read is rule 8's: the group is read again just before anything is deregistered.
    expect(sent).toEqual(['DescribeTargetHealthCommand', 'RegisterTargetsCommand', 'DescribeTargetHealthCommand', 'DeregisterTargetsCommand']);
    expect(elbMock).toHaveReceivedCommandWith(RegisterTargetsCommand, { TargetGroupArn: TG_A, Targets: [{ Id: '10.0.2.9', Port: 5432 }] });
    expect(elbMock).toHaveReceivedCommandWith(DeregisterTargetsCommand, { TargetGroupArn: TG_A, Targets: [{ Id: '10.0.1.5', Port: 5432 }] });
    expect(summary.mappings[0]).toMatchObject({ resolved: ['10.0.2.9'], registered: ['10.0.1.5'], added: ['10.0.2.9'], removed: ['10.0.1.5'], reason: 'address-changed' });
    expect(metric('TargetsAdded')).toBe(1);
    expect(metric('TargetsRemoved')).toBe(1);
  });

  it('does not deregister anything when registering the new address fails', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
    elbMock.on(RegisterTargetsCommand).rejects(Object.assign(new Error('Target group not found'), { name: 'TargetGroupNotFoundException' }));
    const { deps: d } = deps({ [ORDERS]: ['10.0.2.9'] });

    const summary = await runSync(orders, scheduled, d);

    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    expect(summary.outcome).toBe('failed');
    expect(summary.mappings[0]).toMatchObject({ added: [], removed: [], reason: 'error', error: { name: 'TargetGroupNotFoundException' } });
    expect(metric('SyncErrors')).toBe(1);
    expect(metric('SyncSuccess')).toBe(0);
  });

  it.each(['timeout', 'nxdomain', 'servfail', 'refused', 'empty'] as const)('leaves the targets untouched and fails the run on DNS %s', async (kind) => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
    const { deps: d, log } = deps({ [ORDERS]: new DnsError(kind, ORDERS) });

    const summary = await runSync(orders, scheduled, d);

    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    expect(summary.outcome).toBe('failed');
    expect(summary.mappings[0]).toMatchObject({ resolved: null, registered: ['10.0.1.5'], healthy: 1, reason: 'dns-failed', error: { name: 'DnsError', kind } });
    expect(metric('DnsFailures')).toBe(1);
    expect(metric('DnsFailures', { TargetGroup: 'targetgroup/orders/0123456789abcdef', Endpoint: ORDERS, Port: '5432' })).toBe(1);
    expect(log.lines.find((l) => l.message === 'sync run')?.extra).toMatchObject({ outcome: 'failed', failed: 1 });
  });

  it('re-registers a draining target', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5', 'draining')] });
    const { deps: d } = deps({ [ORDERS]: ['10.0.1.5'] });

    await runSync(orders, scheduled, d);

    expect(elbMock).toHaveReceivedCommandWith(RegisterTargetsCommand, { TargetGroupArn: TG_A, Targets: [{ Id: '10.0.1.5', Port: 5432 }] });
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
  });

  it('leaves targets on other ports untouched', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.9.9', 'healthy', 6432), health('10.0.1.5')] });
    const { deps: d } = deps({ [ORDERS]: ['10.0.2.9'] });

    await runSync(orders, scheduled, d);

    expect(elbMock).toHaveReceivedCommandWith(DeregisterTargetsCommand, { TargetGroupArn: TG_A, Targets: [{ Id: '10.0.1.5', Port: 5432 }] });
    expect(elbMock).not.toHaveReceivedCommandWith(DeregisterTargetsCommand, { Targets: [{ Id: '10.0.9.9', Port: 6432 }] });
  });

  it('refuses a public answer with an error that says how to fix it', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
    const { deps: d } = deps({ [ORDERS]: ['52.17.3.4'] });

    const summary = await runSync(orders, scheduled, d);

    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    expect(summary.mappings[0]).toMatchObject({ reason: 'address-refused', error: { name: 'AddressRefusedError' } });
    expect(summary.mappings[0]?.error?.message).toMatch(/52\.17\.3\.4.*not a private address.*run the function in the VPC/);
  });

  it('sends no mutating call in a dry run, but reports what it would do', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
    const { deps: d } = deps({ [ORDERS]: ['10.0.2.9'] });

    const summary = await runSync({ ...orders, mappingMetrics: 'all' }, { ...scheduled, trigger: 'manual', dryRun: true }, d);

    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    expect(summary).toMatchObject({ dryRun: true, outcome: 'success' });
    expect(summary.mappings[0]).toMatchObject({ added: ['10.0.2.9'], removed: ['10.0.1.5'] });
    expect(metric('TargetsAdded')).toBe(0);
    expect(metric('RegisteredTargets', { TargetGroup: 'targetgroup/orders/0123456789abcdef', Endpoint: ORDERS, Port: '5432' })).toBe(1);
  });

  it('honours DRY_RUN from the configuration', async () => {
    const { deps: d } = deps({ [ORDERS]: ['10.0.2.9'] });
    const summary = await runSync({ ...orders, dryRun: true }, scheduled, d);
    expect(summary.dryRun).toBe(true);
    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
  });

  it('registers every resolved address again when forced', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5'), health('10.0.1.6')] });
    const { deps: d } = deps({ [ORDERS]: ['10.0.1.5', '10.0.1.6'] });

    const summary = await runSync(orders, { trigger: 'manual', force: true, dryRun: false }, d);

    expect(elbMock).toHaveReceivedCommandWith(RegisterTargetsCommand, {
      TargetGroupArn: TG_A,
      Targets: [
        { Id: '10.0.1.5', Port: 5432 },
        { Id: '10.0.1.6', Port: 5432 },
      ],
    });
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    expect(summary.mappings[0]?.reason).toBe('forced');
  });

  it('registers with AvailabilityZone "all" and deregisters with the AZ the target reports', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '172.16.0.5', Port: 5432, AvailabilityZone: 'all' }, TargetHealth: { State: 'healthy' } }] });
    const config = syncConfig({ mappings: [{ endpoint: ORDERS, targetGroupArn: TG_A, port: 5432, availabilityZone: 'all', ipAddressType: 'ipv4' }] });
    const { deps: d } = deps({ [ORDERS]: ['172.16.0.9'] });

    await runSync(config, scheduled, d);

    expect(elbMock).toHaveReceivedCommandWith(RegisterTargetsCommand, { Targets: [{ Id: '172.16.0.9', Port: 5432, AvailabilityZone: 'all' }] });
    expect(elbMock).toHaveReceivedCommandWith(DeregisterTargetsCommand, { Targets: [{ Id: '172.16.0.5', Port: 5432, AvailabilityZone: 'all' }] });
  });

  it('syncs the other mappings when one fails, and fails the run', async () => {
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_A }).rejects(Object.assign(new Error('Access denied'), { name: 'AccessDenied' }));
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_B }).resolves({ TargetHealthDescriptions: [] });
    const { deps: d } = deps({ [ORDERS]: ['10.0.1.5'], [BILLING]: ['10.0.2.7'] });

    const summary = await runSync(syncConfig({ mappingMetrics: 'all' }), scheduled, d);

    expect(summary).toMatchObject({ outcome: 'failed', failed: 1 });
    expect(summary.mappings[0]).toMatchObject({ endpoint: ORDERS, reason: 'error', error: { name: 'AccessDenied', message: 'Access denied' } });
    expect(elbMock).toHaveReceivedCommandWith(RegisterTargetsCommand, { TargetGroupArn: TG_B, Targets: [{ Id: '10.0.2.7', Port: 3306 }] });
    expect(metric('SyncErrors')).toBe(1);
    expect(metric('SyncErrors', { TargetGroup: 'targetgroup/billing/fedcba9876543210', Endpoint: BILLING, Port: '3306' })).toBe(0);
  });

  it('syncs only the endpoints named in a manual invoke', async () => {
    const { deps: d, dns } = deps({ [ORDERS]: ['10.0.1.5'], [BILLING]: ['10.0.2.7'] });
    const summary = await runSync(syncConfig(), { trigger: 'manual', force: false, dryRun: false, endpoints: [BILLING] }, d);
    expect(dns.asked).toEqual([BILLING]);
    expect(summary.mappings.map((m) => m.endpoint)).toEqual([BILLING]);
  });

  it('keeps a good run good when CloudWatch refuses the metrics, and logs why', async () => {
    cwMock.on(PutMetricDataCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const { deps: d, log } = deps({ [ORDERS]: ['10.0.1.5'] });

    const summary = await runSync(orders, scheduled, d);

    expect(summary).toMatchObject({ outcome: 'success', metricsSent: false });
    expect(log.lines.find((l) => l.level === 'error')).toMatchObject({ message: 'metrics not sent', extra: { error: { name: 'Throttling', message: 'Rate exceeded' } } });
  });

  it('logs one summary line per run with what was resolved and changed', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
    const { deps: d, log } = deps({ [ORDERS]: ['10.0.2.9'] });

    await runSync(orders, scheduled, d);

    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({
      level: 'info',
      message: 'sync run',
      extra: { trigger: 'schedule', outcome: 'success', dryRun: false, mappings: [{ endpoint: ORDERS, resolved: ['10.0.2.9'], registered: ['10.0.1.5'], added: ['10.0.2.9'], removed: ['10.0.1.5'] }] },
    });
  });

  it('reports the least healthy target group in the dimensionless HealthyTargets', async () => {
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_A }).resolves({ TargetHealthDescriptions: [health('10.0.1.5'), health('10.0.1.6')] });
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_B }).resolves({ TargetHealthDescriptions: [health('10.0.2.7', 'unhealthy', 3306)] });
    const { deps: d } = deps({ [ORDERS]: ['10.0.1.5', '10.0.1.6'], [BILLING]: ['10.0.2.7'] });

    await runSync(syncConfig({ mappingMetrics: 'all' }), scheduled, d);

    expect(metric('HealthyTargets', { TargetGroup: 'targetgroup/orders/0123456789abcdef', Endpoint: ORDERS, Port: '5432' })).toBe(2);
    expect(metric('HealthyTargets')).toBe(0);
  });
});

// Rule 10: a target group that could not be read is unknown, not empty. No RegisteredTargets or
// HealthyTargets datum for it, none at run level: 0 would page "Fivetran cannot reach the
// database" (no-healthy-targets) for an IAM or network fault. SyncErrors and the heartbeat page.
describe('runSync with a target group it cannot read', () => {
  const ordersDims = [
    { Name: 'TargetGroup', Value: 'targetgroup/orders/0123456789abcdef' },
    { Name: 'Endpoint', Value: ORDERS },
    { Name: 'Port', Value: '5432' },
  ];
  const billingDims = [
    { Name: 'TargetGroup', Value: 'targetgroup/billing/fedcba9876543210' },
    { Name: 'Endpoint', Value: BILLING },
    { Name: 'Port', Value: '3306' },
  ];
  const datum = (MetricName: string, Value: number, Dimensions: { Name?: string; Value?: string }[] = []) => ({ MetricName, Value, Dimensions });
  const accessDenied = Object.assign(new Error('User is not authorized to perform: elasticloadbalancing:DescribeTargetHealth'), { name: 'AccessDenied' });
  const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });

  it.each([
    ['AccessDenied', () => Promise.reject(accessDenied), 'AccessDenied'],
    ['throttling past the retries', () => Promise.reject(throttled), 'Throttling'],
    ['a read still pending at the deadline', () => new Promise(() => undefined), 'DeadlineError'],
  ])('sends no RegisteredTargets or HealthyTargets for it, nor the run-level HealthyTargets (%s)', async (_, fail, errorName) => {
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_A }).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: TG_B }).callsFake(fail);
    const { deps: d, log } = deps({ [ORDERS]: ['10.0.1.5'], [BILLING]: ['10.0.2.7'] });

    const summary = await runSync(syncConfig({ mappingMetrics: 'all' }), { ...scheduled, deadline: Date.now() + 3000 }, d);

    expect(summary).toMatchObject({ outcome: 'failed', mappings: [{ registered: ['10.0.1.5'], healthy: 1 }, { registered: null, healthy: null, error: { name: errorName } }] });
    const data = sentMetrics().map(({ MetricName, Value, Dimensions }) => datum(MetricName ?? '', Value ?? NaN, Dimensions));
    expect(data).toEqual([
      datum('ResolvedAddresses', 1, ordersDims),
      datum('RegisteredTargets', 1, ordersDims),
      datum('HealthyTargets', 1, ordersDims),
      datum('TargetsAdded', 0, ordersDims),
      datum('TargetsRemoved', 0, ordersDims),
      datum('DnsFailures', 0, ordersDims),
      datum('RdsApiFailures', 0, ordersDims),
      datum('SyncErrors', 0, ordersDims),
      datum('RemovalsDeferred', 0, ordersDims),
      datum('TargetsAdded', 0, billingDims),
      datum('TargetsRemoved', 0, billingDims),
      datum('DnsFailures', 0, billingDims),
      datum('RdsApiFailures', 0, billingDims),
      datum('SyncErrors', 1, billingDims),
      datum('RemovalsDeferred', 0, billingDims),
      datum('SyncSuccess', 0),
      datum('SyncErrors', 1),
      datum('DnsFailures', 0),
      datum('RdsApiFailures', 0),
      datum('TargetsAdded', 0),
      datum('TargetsRemoved', 0),
      datum('RemovalsDeferred', 0),
      datum('SyncDuration', summary.durationMs),
    ]);
    // The summary line says unknown, not 0 healthy.
    const line = log.lines.find((l) => l.message === 'sync run')?.extra as { mappings: Record<string, unknown>[] };
    expect(line.mappings[1]).toMatchObject({ endpoint: BILLING, registered: null, healthy: null });
  });
});

describe('runSync with another actor and a deadline', () => {
  it('defers the deregistration, logs and counts it, when someone else registered a target meanwhile', async () => {
    elbMock
      .on(DescribeTargetHealthCommand)
      .resolvesOnce({ TargetHealthDescriptions: [health('10.0.1.5')] })
      .resolves({ TargetHealthDescriptions: [health('10.0.1.5'), health('10.0.2.9', 'initial'), health('10.0.3.3', 'initial')] });
    const { deps: d, log } = deps({ [ORDERS]: ['10.0.2.9'] });

    const summary = await runSync(orders, scheduled, d);

    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    expect(summary).toMatchObject({ outcome: 'success', mappings: [{ added: ['10.0.2.9'], removed: [], deferred: ['10.0.1.5'], deferReason: 'changed-under-run' }] });
    const line = log.lines.find((l) => l.message === 'sync run')?.extra as { mappings: Record<string, unknown>[] };
    // Exactly the fields the documented "deferred" Logs Insights query reads.
    expect(line.mappings[0]).toEqual({
      endpoint: ORDERS,
      targetGroupArn: TG_A,
      port: 5432,
      resolved: ['10.0.2.9'],
      registered: ['10.0.1.5'],
      healthy: 0,
      added: ['10.0.2.9'],
      removed: [],
      reason: 'address-changed',
      deferred: ['10.0.1.5'],
      deferReason: 'changed-under-run',
      durationMs: expect.any(Number),
    });
    expect(log.lines.find((l) => l.message === 'sync run')?.extra).not.toHaveProperty('metricsSent');
    expect(metric('RemovalsDeferred')).toBe(1);
  });

  it('writes one series per port when one endpoint and target group serve two ports', async () => {
    const twoPorts = syncConfig({ mappingMetrics: 'all', mappings: [{ endpoint: ORDERS, targetGroupArn: TG_A, port: 5432, ipAddressType: 'ipv4' }, { endpoint: ORDERS, targetGroupArn: TG_A, port: 6432, ipAddressType: 'ipv4' }] });
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5'), health('10.0.1.5', 'unhealthy', 6432)] });
    const { deps: d } = deps({ [ORDERS]: ['10.0.1.5'] });

    await runSync(twoPorts, scheduled, d);

    const dims = { TargetGroup: 'targetgroup/orders/0123456789abcdef', Endpoint: ORDERS };
    expect(metric('HealthyTargets', { ...dims, Port: '5432' })).toBe(1);
    expect(metric('HealthyTargets', { ...dims, Port: '6432' })).toBe(0);
  });

  it('logs the summary line before it sends the metrics', async () => {
    const { deps: d, log } = deps({ [ORDERS]: ['10.0.1.5'] });
    let linesWhenSent = -1;
    cwMock.on(PutMetricDataCommand).callsFake(() => {
      linesWhenSent = log.lines.filter((l) => l.message === 'sync run').length;
      return {};
    });

    await runSync(orders, scheduled, d);

    expect(linesWhenSent).toBe(1);
  });

  it('defers the deregistration when registering took longer than the bound: the first read is too old to act on', async () => {
    let t = 0;
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
    // A throttled RegisterTargets that the SDK retried for 5 s.
    elbMock.on(RegisterTargetsCommand).callsFake(() => ((t += 5000), {}));
    const { deps: d } = deps({ [ORDERS]: ['10.0.2.9'] }, { now: () => t });

    const summary = await runSync(orders, scheduled, d);

    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    expect(summary).toMatchObject({ outcome: 'success', mappings: [{ added: ['10.0.2.9'], removed: [], deferred: ['10.0.1.5'], deferReason: 'read-too-old' }] });
    expect(metric('RemovalsDeferred')).toBe(1);
  });

  it('ends a run whose AWS calls hang by the deadline, with the summary logged and the unfinished mapping reported', async () => {
    elbMock.on(DescribeTargetHealthCommand).callsFake(() => new Promise(() => undefined));
    cwMock.on(PutMetricDataCommand).callsFake(() => new Promise(() => undefined));
    const { deps: d, log } = deps({ [ORDERS]: ['10.0.1.5'] });
    const started = Date.now();

    const summary = await runSync(orders, { ...scheduled, deadline: started + 3000 }, d);

    expect(Date.now() - started).toBeLessThan(3000);
    expect(summary).toMatchObject({ outcome: 'failed', metricsSent: false, mappings: [{ reason: 'error', error: { name: 'DeadlineError' } }] });
    expect(summary.mappings[0]?.error?.message).toContain('did not finish before the Lambda deadline');
    expect(log.lines.map((l) => l.message)).toEqual(['sync run', 'metrics not sent']);
  });

  it('never registers or deregisters later for a pass it gave up on at the deadline', async () => {
    const slowRead = new Promise((resolve) => setTimeout(() => resolve({ TargetHealthDescriptions: [health('10.0.1.5')] }), 800));
    elbMock.on(DescribeTargetHealthCommand).callsFake(() => slowRead);
    const { deps: d } = deps({ [ORDERS]: ['10.0.2.9'] });

    const summary = await runSync(orders, { ...scheduled, deadline: Date.now() + 3000 }, d);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the abandoned pass's read has answered by now

    expect(summary.mappings[0]).toMatchObject({ error: { name: 'DeadlineError' } });
    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
  });

  it('does not start a mapping once the deadline has passed, and says so', async () => {
    const { deps: d, dns } = deps({ [ORDERS]: ['10.0.1.5'] });

    const summary = await runSync(orders, { ...scheduled, deadline: Date.now() }, d);

    expect(dns.asked).toEqual([]);
    expect(summary.mappings[0]).toMatchObject({ reason: 'error', error: { name: 'DeadlineError', message: expect.stringContaining('the next run syncs it') } });
  });
});

describe('runSync after an RDS event', () => {
  function clock() {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms) };
  }

  it('re-resolves until the answer changes, then follows it', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
    const answers = [['10.0.1.5'], ['10.0.1.5'], ['10.0.2.9']];
    const { deps: d, dns } = deps({ [ORDERS]: () => answers.shift() ?? ['10.0.2.9'] }, clock());

    const summary = await runSync(orders, { trigger: 'rds-event', force: false, dryRun: false, watch: [ORDERS] }, d);

    expect(dns.asked).toHaveLength(3);
    expect(summary.mappings[0]).toMatchObject({ polls: 2, added: ['10.0.2.9'], removed: ['10.0.1.5'] });
    // The first read; a fresh one when the answer changed 4 s later (rule 8 bounds the age of the read a
    // deregister is decided on); and rule 8's re-read before deregistering.
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetHealthCommand, 3);
  });

  it('keeps watching through a DNS failure and stops at the deadline with nothing changed', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
    const answers: (string[] | Error)[] = [['10.0.1.5'], new DnsError('timeout', ORDERS)];
    const { deps: d, dns } = deps({ [ORDERS]: () => answers.shift() ?? ['10.0.1.5'] }, clock());

    const summary = await runSync({ ...orders, failoverWatchMs: 10_000, failoverPollMs: 2000 }, { trigger: 'rds-event', force: false, dryRun: false, watch: [ORDERS] }, d);

    expect(dns.asked).toHaveLength(6); // t=0 and every 2 s up to the 10 s deadline
    expect(summary).toMatchObject({ outcome: 'success', mappings: [{ reason: 'in-sync', polls: 5 }] });
    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
  });

  it('ends the watch early enough to finish within the Lambda timeout', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.1.5')] });
    const { deps: d, dns } = deps({ [ORDERS]: ['10.0.1.5'] }, clock());

    await runSync(orders, { trigger: 'rds-event', force: false, dryRun: false, watch: [ORDERS], deadline: 5000 + FINISH_MARGIN_MS }, d);

    expect(dns.asked).toHaveLength(3); // t=0, 2 s, 4 s; 6 s would pass the watch's end (deadline less FINISH_MARGIN_MS)
  });

  it('syncs the unwatched mappings once', async () => {
    const { deps: d, dns } = deps({ [ORDERS]: ['10.0.1.5'], [BILLING]: ['10.0.2.7'] }, clock());

    await runSync({ ...syncConfig(), failoverWatchMs: 4000 }, { trigger: 'rds-event', force: false, dryRun: false, watch: [BILLING] }, d);

    expect(dns.asked.filter((h) => h === ORDERS)).toHaveLength(1);
    expect(dns.asked.filter((h) => h === BILLING)).toHaveLength(1); // changed at once: nothing to wait for
  });
});

describe('runSync for a reader endpoint (a member set)', () => {
  const rdsMock = mockClient(RDSClient);
  const READER = 'orders.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com';
  const host = (id: string) => `${id}.c0ffee.eu-west-1.rds.amazonaws.com`;
  const reader = syncConfig({ mappings: [{ endpoint: READER, targetGroupArn: TG_A, port: 5432, ipAddressType: 'ipv4' }] });
  const instanceAnswers = { [host('orders-2')]: ['10.0.2.9'], [host('orders-3')]: ['10.0.3.3'] };

  function members(...ids: string[]) {
    rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ DBClusterIdentifier: 'orders', DBClusterMembers: [{ DBInstanceIdentifier: 'orders-1', IsClusterWriter: true }, ...ids.map((id) => ({ DBInstanceIdentifier: id, IsClusterWriter: false }))] }] });
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: ['orders-1', ...ids].map((id) => ({ DBInstanceIdentifier: id, DBClusterIdentifier: 'orders', Endpoint: { Address: host(id) } })) });
  }
  const withRds = (answers: Parameters<typeof fakeDns>[0]) => deps(answers, { rds: new RDSClient({}) });

  beforeEach(() => {
    rdsMock.reset();
    members('orders-2', 'orders-3');
  });

  it('sends no Register/Deregister in steady state: two RDS calls and one DescribeTargetHealth per run', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.2.9'), health('10.0.3.3')] });
    const { deps: d, dns } = withRds(instanceAnswers);

    const summary = await runSync(reader, scheduled, d);

    expect(summary.mappings[0]?.reason).toBe('in-sync');
    // The bound documented in lib/aws/rds.ts: reader endpoint 2 calls (custom endpoint 3).
    expect(rdsMock.calls()).toHaveLength(2);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBClustersCommand, 1);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 1);
    expect(elbMock.calls()).toHaveLength(1);
    expect(dns.asked).toEqual([host('orders-2'), host('orders-3')]); // never the reader endpoint's random sample
  });

  it('reads a custom endpoint in three RDS calls per run and follows its exclusion list', async () => {
    rdsMock.on(DescribeDBClusterEndpointsCommand).resolves({ DBClusterEndpoints: [{ DBClusterEndpointIdentifier: 'analytics', DBClusterIdentifier: 'orders', CustomEndpointType: 'ANY', StaticMembers: [], ExcludedMembers: ['orders-1', 'orders-2'] }] });
    const custom = syncConfig({ mappings: [{ endpoint: 'analytics.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com', targetGroupArn: TG_A, port: 5432, ipAddressType: 'ipv4' }] });
    const { deps: d } = withRds(instanceAnswers);

    const summary = await runSync(custom, scheduled, d);

    expect(summary.mappings[0]).toMatchObject({ resolved: ['10.0.3.3'], added: ['10.0.3.3'] });
    expect(rdsMock.calls()).toHaveLength(3);
  });

  it('registers every reader, and logs each member with its instance endpoint and addresses', async () => {
    const { deps: d, log } = withRds(instanceAnswers);

    await runSync(reader, scheduled, d);

    expect(elbMock).toHaveReceivedCommandWith(RegisterTargetsCommand, { Targets: [{ Id: '10.0.2.9', Port: 5432 }, { Id: '10.0.3.3', Port: 5432 }] });
    const line = log.lines.find((l) => l.message === 'sync run');
    expect((line?.extra.mappings as { members: unknown }[])[0]?.members).toEqual([
      { id: 'orders-2', endpoint: host('orders-2'), addresses: ['10.0.2.9'] },
      { id: 'orders-3', endpoint: host('orders-3'), addresses: ['10.0.3.3'] },
    ]);
  });

  it('registers a new reader before deregistering one that left the cluster', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.2.9'), health('10.0.3.3')] });
    members('orders-2', 'orders-4');
    const { deps: d } = withRds({ ...instanceAnswers, [host('orders-4')]: ['10.0.4.4'] });

    const summary = await runSync(reader, scheduled, d);

    // Register, re-read (rule 8), then deregister.
    expect(elbMock.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'DescribeTargetHealthCommand',
      'RegisterTargetsCommand',
      'DescribeTargetHealthCommand',
      'DeregisterTargetsCommand',
    ]);
    expect(summary.mappings[0]).toMatchObject({ added: ['10.0.4.4'], removed: ['10.0.3.3'], reason: 'address-changed' });
  });

  it('changes nothing and fails the mapping when the RDS API fails, counting RdsApiFailures', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.2.9')] });
    rdsMock.on(DescribeDBClustersCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }));
    const { deps: d } = withRds(instanceAnswers);

    const summary = await runSync(reader, scheduled, d);

    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    expect(summary).toMatchObject({ outcome: 'failed', failed: 1 });
    expect(summary.mappings[0]).toMatchObject({ resolved: null, registered: ['10.0.2.9'], error: { name: 'RdsApiError' } });
    expect(summary.mappings[0]?.error?.message).toMatch(/RDS DescribeDBClusters failed for cluster orders: AccessDenied.*rds:DescribeDBClusters/);
    expect(metric('RdsApiFailures')).toBe(1);
    expect(metric('RdsApiFailures', { TargetGroup: 'targetgroup/orders/0123456789abcdef', Endpoint: READER, Port: '5432' })).toBe(1);
    expect(metric('SyncErrors')).toBe(1);
    expect(metric('DnsFailures')).toBe(0);
  });

  it('keeps the target of a member that does not resolve, adds the rest, and fails the mapping with DnsFailures', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [health('10.0.3.3')] });
    const { deps: d, log } = withRds({ [host('orders-2')]: ['10.0.2.9'], [host('orders-3')]: new DnsError('timeout', host('orders-3')) });

    const summary = await runSync(reader, scheduled, d);

    expect(elbMock).toHaveReceivedCommandWith(RegisterTargetsCommand, { Targets: [{ Id: '10.0.2.9', Port: 5432 }] });
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    expect(summary.mappings[0]).toMatchObject({ added: ['10.0.2.9'], removed: [], reason: 'members-partial', error: { name: 'DnsError', kind: 'timeout' } });
    expect(metric('DnsFailures')).toBe(1);
    expect(metric('RdsApiFailures')).toBe(0);
    const line = log.lines.find((l) => l.message === 'sync run');
    expect((line?.extra.mappings as { members: unknown }[])[0]?.members).toEqual([
      { id: 'orders-2', endpoint: host('orders-2'), addresses: ['10.0.2.9'] },
      { id: 'orders-3', endpoint: host('orders-3'), error: { name: 'DnsError', message: `DNS timeout for ${host('orders-3')}`, kind: 'timeout' } },
    ]);
  });
});

describe('runSync with many reader and custom endpoints: one batched RDS read per run', () => {
  const rdsMock = mockClient(RDSClient);
  const tg = (i: number) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/db${i}/0123456789abcdef`;
  /** n clusters, each with a reader and a custom endpoint mapping: 2n mappings. */
  function fleet(n: number) {
    const names = Array.from({ length: n }, (_, i) => `db${i}`);
    fakeRds(rdsMock, names.map((id) => ({ id, members: [`${id}-1`, `${id}-2`], custom: [{ id: `${id}-any`, type: 'ANY' as const }] })));
    const mappings = names.flatMap((id, i) => [
      { endpoint: `${id}.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com`, targetGroupArn: tg(2 * i), port: 5432, ipAddressType: 'ipv4' as const },
      { endpoint: `${id}-any.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com`, targetGroupArn: tg(2 * i + 1), port: 5432, ipAddressType: 'ipv4' as const },
    ]);
    const answers = Object.fromEntries(names.flatMap((id, i) => [1, 2].map((m) => [fakeHost(`${id}-${m}`), [`10.1.${i}.${m}`]])));
    return { config: syncConfig({ mappings }), answers };
  }
  const rdsCalls = () => rdsMock.calls().map((c) => c.args[0].constructor.name);

  beforeEach(() => rdsMock.reset());

  it.each([3, 30])('%i clusters x (reader + custom): 1 DescribeDBClusterEndpoints + 1 DescribeDBClusters + 1 DescribeDBInstances', async (n) => {
    const { config, answers } = fleet(n);
    const { deps: d } = deps(answers, { rds: new RDSClient({}) });

    const summary = await runSync(config, scheduled, d);

    expect(summary).toMatchObject({ outcome: 'success', failed: 0 });
    expect(summary.mappings).toHaveLength(2 * n);
    expect(summary.mappings[1]).toMatchObject({ resolved: ['10.1.0.1', '10.1.0.2'], added: ['10.1.0.1', '10.1.0.2'] });
    expect(rdsCalls().sort()).toEqual(['DescribeDBClusterEndpointsCommand', 'DescribeDBClustersCommand', 'DescribeDBInstancesCommand']);
  });

  it('reads afresh in every run: the run an RDS event starts sees the cluster as it is now', async () => {
    const { config, answers } = fleet(2);
    const { deps: d } = deps(answers, { rds: new RDSClient({}) });
    await runSync(config, scheduled, d);
    fakeRds(rdsMock, [{ id: 'db0', members: ['db0-2', 'db0-1'] }, { id: 'db1', members: ['db1-1', 'db1-2'] }]);

    const summary = await runSync(config, { trigger: 'rds-event', force: false, dryRun: false }, d);

    expect(rdsCalls()).toHaveLength(6);
    // db0 failed over: its reader endpoint now serves db0-1.
    expect(summary.mappings[0]).toMatchObject({ resolved: ['10.1.0.1'] });
  });

  it('fails only the mappings whose cluster is missing, and removes nothing from their groups', async () => {
    const { config, answers } = fleet(2);
    const gone = { endpoint: 'gone.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com', targetGroupArn: tg(99), port: 5432, ipAddressType: 'ipv4' as const };
    elbMock.on(DescribeTargetHealthCommand, { TargetGroupArn: tg(99) }).resolves({ TargetHealthDescriptions: [health('10.9.9.9')] });
    const { deps: d } = deps(answers, { rds: new RDSClient({}) });

    const summary = await runSync({ ...config, mappings: [...config.mappings, gone] }, scheduled, d);

    expect(summary).toMatchObject({ outcome: 'failed', failed: 1 });
    expect(summary.mappings.at(-1)).toMatchObject({ endpoint: gone.endpoint, removed: [], error: { name: 'RdsApiError' } });
    expect(summary.mappings.at(-1)?.error?.message).toMatch(/DescribeDBClusters failed for cluster gone: NotFound/);
    expect(summary.mappings.slice(0, -1).map((m) => [m.error, m.added.length])).toEqual([[undefined, 1], [undefined, 2], [undefined, 1], [undefined, 2]]);
    expect(elbMock.commandCalls(DeregisterTargetsCommand)).toHaveLength(0);
    expect(rdsCalls()).toHaveLength(3);
  });
});
