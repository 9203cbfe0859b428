import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it, vi } from 'vitest';
import { loadProbeConfig } from '../../lib/config.js';
import { MetricsBatch } from '../../lib/aws/metrics.js';
import { addProbeMetrics, createProbe } from '../../lib/sync/probe.js';
import { runSync } from '../../lib/sync/run.js';
import { recordLog, syncConfig } from '../fixtures.js';

const nlb = 'internal-fivetran-0123.elb.eu-west-1.amazonaws.com';

describe('probe settings', () => {
  it('infers the protocol from the port (3306 mysql, 5432 postgres) and defaults to a 3 s timeout', () => {
    expect(loadProbeConfig({ FUNCTION_IN_VPC: 'true', PROBE_TARGET: `${nlb}:5432` })).toEqual({ enabled: true, listeners: [{ host: nlb, port: 5432, protocol: 'postgres' }], timeoutMs: 3000 });
    expect(loadProbeConfig({ FUNCTION_IN_VPC: 'true', PROBE_TARGET: `${nlb}:3306` })).toMatchObject({ listeners: [{ protocol: 'mysql' }] });
    expect(loadProbeConfig({ FUNCTION_IN_VPC: 'true', PROBE_TARGET: `${nlb}:6000`, PROBE_PROTOCOL: 'postgres' })).toMatchObject({ listeners: [{ port: 6000, protocol: 'postgres' }] });
  });

  it('says why the probe is off: opted out, outside the VPC, no target', () => {
    expect(loadProbeConfig({ PROBE_ENABLED: 'false', FUNCTION_IN_VPC: 'true', PROBE_TARGET: `${nlb}:5432` })).toEqual({ enabled: false, reason: 'disabled' });
    expect(loadProbeConfig({ PROBE_TARGET: `${nlb}:5432` })).toEqual({ enabled: false, reason: 'outside-vpc' });
    expect(loadProbeConfig({ FUNCTION_IN_VPC: 'true' })).toEqual({ enabled: false, reason: 'no-target' });
  });

  it('refuses a target without a port, a port out of range and an unknown protocol, naming the setting', () => {
    expect(() => loadProbeConfig({ PROBE_TARGET: nlb })).toThrow(/PROBE_TARGET must be host:port/);
    expect(() => loadProbeConfig({ PROBE_TARGET: `${nlb}:70000` })).toThrow(/PROBE_TARGET must be host:port/);
    expect(() => loadProbeConfig({ PROBE_TARGET: `${nlb}:5432`, PROBE_PROTOCOL: 'oracle' })).toThrow(/PROBE_PROTOCOL/);
    expect(() => loadProbeConfig({ PROBE_TIMEOUT_MS: '0' })).toThrow(/PROBE_TIMEOUT_MS must be milliseconds \(100-30000\)/);
  });
});

describe('probe settings: several listeners (one per database behind the NLB)', () => {
  const on = { FUNCTION_IN_VPC: 'true' };

  it('takes one host:port per listener, a bare port on the host before it, each with its port\'s protocol', () => {
    expect(loadProbeConfig({ ...on, PROBE_TARGET: `${nlb}:5432,3306` })).toEqual({
      enabled: true,
      listeners: [
        { host: nlb, port: 5432, protocol: 'postgres' },
        { host: nlb, port: 3306, protocol: 'mysql' },
      ],
      timeoutMs: 3000,
    });
    expect(loadProbeConfig({ ...on, PROBE_TARGET: `${nlb}:5432, other-nlb.example.com:3306` })).toMatchObject({ listeners: [{ host: nlb }, { host: 'other-nlb.example.com', port: 3306 }] });
  });

  it('sets the protocol per port, the ports not named by auto or by the one given for every listener', () => {
    expect(loadProbeConfig({ ...on, PROBE_TARGET: `${nlb}:5432,6000,6001`, PROBE_PROTOCOL: '6000=mysql,6001=postgres' })).toMatchObject({
      listeners: [{ port: 5432, protocol: 'postgres' }, { port: 6000, protocol: 'mysql' }, { port: 6001, protocol: 'postgres' }],
    });
    expect(loadProbeConfig({ ...on, PROBE_TARGET: `${nlb}:5432,6000`, PROBE_PROTOCOL: 'mysql,5432=postgres' })).toMatchObject({
      listeners: [{ port: 5432, protocol: 'postgres' }, { port: 6000, protocol: 'mysql' }],
    });
  });

  it('refuses an entry that is no listener, a listener twice, and a first entry without a host, naming PROBE_TARGET', () => {
    expect(() => loadProbeConfig({ PROBE_TARGET: '5432' })).toThrow(/PROBE_TARGET must be host:port .*"5432" is not/);
    expect(() => loadProbeConfig({ PROBE_TARGET: `${nlb}:5432,mysql` })).toThrow(/PROBE_TARGET must be host:port .*"mysql" is not/);
    expect(() => loadProbeConfig({ PROBE_TARGET: `${nlb}:5432,70000` })).toThrow(/PROBE_TARGET must be host:port .*"70000" is not/);
    expect(() => loadProbeConfig({ PROBE_TARGET: `${nlb}:5432,5432` })).toThrow(`PROBE_TARGET names ${nlb}:5432 twice: one entry per listener`);
    const fiftyOne = `${nlb}:${Array.from({ length: 51 }, (_, i) => 6000 + i).join(',')}`;
    expect(() => loadProbeConfig({ PROBE_TARGET: fiftyOne, PROBE_PROTOCOL: 'mysql' })).toThrow('PROBE_TARGET names 51 listeners; a Network Load Balancer has at most 50');
  });

  it('refuses a port whose protocol auto does not know, naming it, and a per-port protocol for a port no listener has', () => {
    expect(() => loadProbeConfig({ PROBE_TARGET: `${nlb}:5432,1521` })).toThrow(/PROBE_PROTOCOL is auto, which knows ports 3306 \(mysql\) and 5432 \(postgres\) only: set mysql, postgres or tcp \(a connection only\) for port 1521 \(for every listener, or per port: 1521=tcp\)/);
    expect(loadProbeConfig({ FUNCTION_IN_VPC: 'true', PROBE_TARGET: `${nlb}:5432,1521`, PROBE_PROTOCOL: '1521=tcp' })).toMatchObject({ listeners: [{ protocol: 'postgres' }, { port: 1521, protocol: 'tcp' }] });
    expect(() => loadProbeConfig({ PROBE_TARGET: `${nlb}:5432`, PROBE_PROTOCOL: '3306=mysql' })).toThrow('PROBE_PROTOCOL names port 3306, which no PROBE_TARGET listener has');
    // Off, the probe connects nowhere: no listener needs a protocol.
    expect(loadProbeConfig({ PROBE_ENABLED: 'false', FUNCTION_IN_VPC: 'true', PROBE_TARGET: `${nlb}:5432,1521` })).toEqual({ enabled: false, reason: 'disabled' });
  });

  it('refuses a protocol list that is not auto/mysql/postgres or port=mysql|postgres, or gives two for every listener', () => {
    expect(() => loadProbeConfig({ PROBE_PROTOCOL: '5432=oracle' })).toThrow(/PROBE_PROTOCOL must be auto, mysql, postgres or tcp \(every listener\), or per port: 5432=postgres,6000=mysql,1521=tcp .*"5432=oracle" is not/);
    expect(() => loadProbeConfig({ PROBE_PROTOCOL: '5432=auto' })).toThrow(/PROBE_PROTOCOL must be auto, mysql, postgres or tcp/);
    expect(() => loadProbeConfig({ PROBE_PROTOCOL: 'mysql,postgres' })).toThrow(/"postgres" is not \(one protocol for every listener at most\)/);
    expect(() => loadProbeConfig({ PROBE_PROTOCOL: '3306=mysql,3306=postgres' })).toThrow(/"3306=postgres" is not/);
    expect(() => loadProbeConfig({ PROBE_PROTOCOL: '70000=mysql' })).toThrow(/"70000=mysql" is not/);
  });
});

describe('createProbe', () => {
  const config = { enabled: true as const, listeners: [{ host: nlb, port: 5432, protocol: 'postgres' as const }], timeoutMs: 3000 };

  it('connects within the smaller of its timeout and the time left in the run', async () => {
    const connect = vi.fn().mockResolvedValue({ ok: true, latencyMs: 12, detail: 'postgres SSLRequest answered S (TLS available)' });
    const probe = createProbe(config, connect, () => 1_000_000);
    expect(await probe(1_001_000)).toEqual({ status: 'ok', target: `${nlb}:5432`, protocol: 'postgres', latencyMs: 12, detail: 'postgres SSLRequest answered S (TLS available)', answeredAt: 1_000_000 });
    expect(connect).toHaveBeenCalledWith({ host: nlb, port: 5432, protocol: 'postgres' }, 1000);
    await probe(1_010_000);
    expect(connect).toHaveBeenLastCalledWith(expect.anything(), 3000);
  });

  it('skips when the run has no time left, and never connects', async () => {
    const connect = vi.fn();
    expect(await createProbe(config, connect, () => 5000)(5000)).toEqual({ status: 'skipped', reason: 'no-time-left' });
    expect(connect).not.toHaveBeenCalled();
  });

  it('passes a failure on with its kind, code and message', async () => {
    const connect = vi.fn().mockResolvedValue({ ok: false, latencyMs: 3000, kind: 'timeout', message: 'no answer' });
    expect(await createProbe(config, connect, () => 0)(10_000)).toEqual({ status: 'failed', target: `${nlb}:5432`, protocol: 'postgres', latencyMs: 3000, kind: 'timeout', message: 'no answer' });
  });
});

describe('createProbe: several listeners', () => {
  const other = 'billing';
  const config = {
    enabled: true as const,
    listeners: [
      { host: nlb, port: 5432, protocol: 'postgres' as const },
      { host: nlb, port: 3306, protocol: 'mysql' as const },
    ],
    timeoutMs: 3000,
  };

  it('probes every listener in parallel, each within the same bound, and is ok only when all answered', async () => {
    const started: number[] = [];
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const connect = vi.fn(async (target: { port: number }) => {
      started.push(target.port);
      await gate; // neither answers before both have started: parallel, not one after the other
      return { ok: true as const, latencyMs: target.port === 5432 ? 4 : 9, detail: `${target.port} answered` };
    });
    const pending = createProbe(config, connect, () => 1_000_000)(1_002_000);
    await vi.waitFor(() => expect(started).toEqual([5432, 3306]));
    release();

    expect(await pending).toEqual({
      status: 'ok',
      latencyMs: 9,
      answeredAt: 1_000_000,
      listeners: [
        { status: 'ok', target: `${nlb}:5432`, protocol: 'postgres', latencyMs: 4, detail: '5432 answered', answeredAt: 1_000_000 },
        { status: 'ok', target: `${nlb}:3306`, protocol: 'mysql', latencyMs: 9, detail: '3306 answered', answeredAt: 1_000_000 },
      ],
    });
    expect(connect).toHaveBeenCalledWith({ host: nlb, port: 3306, protocol: 'mysql' }, 2000);
    expect(connect).toHaveBeenCalledWith({ host: nlb, port: 5432, protocol: 'postgres' }, 2000);
  });

  it('fails when one listener fails, naming its port, and keeps the answered one\'s latency', async () => {
    const connect = vi.fn(async (target: { port: number }) =>
      target.port === 3306
        ? { ok: false as const, latencyMs: 6, kind: 'database-error' as const, code: 1129, message: `${nlb}:3306: MySQL error 1129: Host '10.0.1.17' is blocked` }
        : { ok: true as const, latencyMs: 4, detail: 'postgres SSLRequest answered S (TLS available)' },
    );
    const result = await createProbe(config, connect, () => 0)(10_000);

    expect(result).toMatchObject({ status: 'failed', latencyMs: 4, failed: [`${nlb}:3306`], message: `1 of 2 listeners failed: ${nlb}:3306: MySQL error 1129: Host '10.0.1.17' is blocked` });
    expect(result.status === 'failed' && 'listeners' in result && result.listeners.map((l) => [l.target, l.status])).toEqual([
      [`${nlb}:5432`, 'ok'],
      [`${nlb}:3306`, 'failed'],
    ]);
  });

  it('names the listener in front of a message that does not start with it, and has no latency when none answered', async () => {
    const connect = vi.fn(async () => ({ ok: false as const, latencyMs: 3000, kind: 'timeout' as const, message: 'no answer' }));
    const result = await createProbe({ ...config, listeners: [config.listeners[0]!, { host: other, port: 3306, protocol: 'mysql' }] }, connect, () => 0)(10_000);
    expect(result).toEqual({
      status: 'failed',
      failed: [`${nlb}:5432`, `${other}:3306`],
      message: `2 of 2 listeners failed: ${nlb}:5432: no answer; ${other}:3306: no answer`,
      listeners: expect.any(Array),
    });
  });

  it('skips every listener when the run has no time left', async () => {
    const connect = vi.fn();
    expect(await createProbe(config, connect, () => 5000)(4000)).toEqual({ status: 'skipped', reason: 'no-time-left' });
    expect(connect).not.toHaveBeenCalled();
  });
});

describe('probe metrics', () => {
  const names = (b: MetricsBatch) => b.data.map((d) => [d.MetricName, d.Value, d.Unit]);
  it('publishes success with its latency, failure as 0 without latency, and nothing for a skipped probe', () => {
    expect(names(addProbeMetrics(new MetricsBatch(), { status: 'ok', target: 'a:1', protocol: 'mysql', latencyMs: 7, detail: '', answeredAt: 1 }))).toEqual([
      ['ProbeSuccess', 1, 'Count'],
      ['ProbeLatency', 7, 'Milliseconds'],
    ]);
    expect(names(addProbeMetrics(new MetricsBatch(), { status: 'failed', target: 'a:1', protocol: 'mysql', latencyMs: 7, kind: 'refused', message: '' }))).toEqual([['ProbeSuccess', 0, 'Count']]);
    expect(names(addProbeMetrics(new MetricsBatch(), { status: 'skipped', reason: 'outside-vpc' }))).toEqual([]);
    expect(names(addProbeMetrics(new MetricsBatch(), undefined))).toEqual([]);
  });

  it('with several listeners: run-level ProbeSuccess (1 only when all answered) and the slowest answer, no series per listener', () => {
    const ok = { status: 'ok' as const, target: 'a:1', protocol: 'mysql' as const, latencyMs: 7, detail: '', answeredAt: 1 };
    const failed = { status: 'failed' as const, target: 'a:2', protocol: 'mysql' as const, latencyMs: 3000, kind: 'timeout' as const, message: '' };
    const both = addProbeMetrics(new MetricsBatch(), { status: 'ok', latencyMs: 9, answeredAt: 1, listeners: [ok, { ...ok, latencyMs: 9 }] });
    expect(names(both)).toEqual([
      ['ProbeSuccess', 1, 'Count'],
      ['ProbeLatency', 9, 'Milliseconds'],
    ]);
    expect(both.data.every((d) => (d.Dimensions ?? []).length === 0)).toBe(true);
    expect(names(addProbeMetrics(new MetricsBatch(), { status: 'failed', latencyMs: 7, failed: ['a:2'], message: '', listeners: [ok, failed] }))).toEqual([
      ['ProbeSuccess', 0, 'Count'],
      ['ProbeLatency', 7, 'Milliseconds'],
    ]);
    expect(names(addProbeMetrics(new MetricsBatch(), { status: 'failed', failed: ['a:2', 'a:3'], message: '', listeners: [failed, failed] }))).toEqual([['ProbeSuccess', 0, 'Count']]);
  });
});

describe('the probe in a sync run', () => {
  it('probes once after the mappings, by the run deadline, and puts the result on the "sync run" line', async () => {
    const elb = mockClient(ElasticLoadBalancingV2Client);
    const cw = mockClient(CloudWatchClient);
    cw.on(PutMetricDataCommand).resolves({});
    const order: string[] = [];
    elb.on(DescribeTargetHealthCommand).callsFake(() => {
      order.push('DescribeTargetHealth');
      return { TargetHealthDescriptions: [] };
    });
    const probe = vi.fn(async (until: number) => {
      order.push('probe');
      return { status: 'failed' as const, target: `${nlb}:5432`, protocol: 'postgres' as const, latencyMs: 3000, kind: 'timeout' as const, message: `until ${until}` };
    });
    const log = recordLog();

    const summary = await runSync(syncConfig({ dryRun: true }), { trigger: 'schedule', force: false, dryRun: false, deadline: 100_000 }, {
      elb: new ElasticLoadBalancingV2Client({}),
      cloudwatch: new CloudWatchClient({}),
      resolve: async () => ['10.0.1.5'],
      log,
      probe,
      now: () => 0,
    });

    expect(probe).toHaveBeenCalledTimes(1);
    // The run's work deadline: 2.5 s before the Lambda deadline, for the summary line and the metrics.
    expect(probe).toHaveBeenCalledWith(97_500);
    expect(order.at(-1)).toBe('probe');
    expect(summary.outcome).toBe('success');
    const line = log.lines.find((l) => l.message === 'sync run');
    expect(line?.extra.probe).toEqual({ status: 'failed', target: `${nlb}:5432`, protocol: 'postgres', latencyMs: 3000, kind: 'timeout', message: 'until 97500' });
    const data = cw.commandCalls(PutMetricDataCommand)[0]?.args[0].input.MetricData ?? [];
    expect(data.filter((d) => d.MetricName === 'ProbeSuccess').map((d) => d.Value)).toEqual([0]);
    elb.restore();
    cw.restore();
  });

  it('probes two listeners, one failing: ProbeSuccess 0, the slowest answer as ProbeLatency, the line naming the failing port', async () => {
    const elb = mockClient(ElasticLoadBalancingV2Client);
    const cw = mockClient(CloudWatchClient);
    cw.on(PutMetricDataCommand).resolves({});
    elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
    const config = loadProbeConfig({ FUNCTION_IN_VPC: 'true', PROBE_TARGET: `${nlb}:5432,3306` });
    const connect = vi.fn(async (target: { port: number }) =>
      target.port === 3306
        ? { ok: false as const, latencyMs: 5, kind: 'database-error' as const, code: 1129, message: `${nlb}:3306: MySQL error 1129: Host '10.0.1.17' is blocked` }
        : { ok: true as const, latencyMs: 4, detail: 'postgres SSLRequest answered S (TLS available)' },
    );
    const log = recordLog();

    const summary = await runSync(syncConfig({ dryRun: true }), { trigger: 'schedule', force: false, dryRun: false, deadline: 100_000 }, {
      elb: new ElasticLoadBalancingV2Client({}),
      cloudwatch: new CloudWatchClient({}),
      resolve: async () => ['10.0.1.5'],
      log,
      probe: createProbe(config, connect, () => 0),
      now: () => 0,
    });

    expect(summary.outcome).toBe('success');
    const probe = log.lines.find((l) => l.message === 'sync run')?.extra.probe as Record<string, unknown>;
    expect(probe).toMatchObject({ status: 'failed', failed: [`${nlb}:3306`], latencyMs: 4 });
    expect(probe.message).toContain(`${nlb}:3306: MySQL error 1129`);
    expect(probe.listeners).toEqual([
      { status: 'ok', target: `${nlb}:5432`, protocol: 'postgres', latencyMs: 4, detail: 'postgres SSLRequest answered S (TLS available)', answeredAt: 0 },
      { status: 'failed', target: `${nlb}:3306`, protocol: 'mysql', latencyMs: 5, kind: 'database-error', code: 1129, message: `${nlb}:3306: MySQL error 1129: Host '10.0.1.17' is blocked` },
    ]);
    const data = cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
    expect(data.filter((d) => d.MetricName === 'ProbeSuccess').map((d) => [d.Value, d.Dimensions ?? []])).toEqual([[0, []]]);
    expect(data.filter((d) => d.MetricName === 'ProbeLatency').map((d) => [d.Value, d.Dimensions ?? []])).toEqual([[4, []]]);
    elb.restore();
    cw.restore();
  });
});
