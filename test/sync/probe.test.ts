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
    expect(loadProbeConfig({ FUNCTION_IN_VPC: 'true', PROBE_TARGET: `${nlb}:5432` })).toEqual({ enabled: true, host: nlb, port: 5432, protocol: 'postgres', timeoutMs: 3000 });
    expect(loadProbeConfig({ FUNCTION_IN_VPC: 'true', PROBE_TARGET: `${nlb}:3306` })).toMatchObject({ protocol: 'mysql' });
    expect(loadProbeConfig({ FUNCTION_IN_VPC: 'true', PROBE_TARGET: `${nlb}:6000`, PROBE_PROTOCOL: 'postgres' })).toMatchObject({ port: 6000, protocol: 'postgres' });
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

describe('createProbe', () => {
  const config = { enabled: true as const, host: nlb, port: 5432, protocol: 'postgres' as const, timeoutMs: 3000 };

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
});
