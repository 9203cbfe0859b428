// The probe of the real path: once per sync run, from inside the VPC, a connection through the
// NLB's listener to the database, which must answer (lib/probe/). NLB health checks are TCP only,
// so a database that accepts TCP and then refuses (MySQL error 1129, "host is blocked") keeps
// its targets healthy: this is what notices. A failed probe does not fail the sync run (the
// target group may be right); it publishes ProbeSuccess 0, and the probe alarm pages on repeats.
//
// Failover timeline hook: a run's result is SyncSummary.probe; `status: 'ok'` with `answeredAt`
// (epoch ms) is the moment the database answered through the NLB. A timeline may record the
// first such answer after a failover from there.
import type { ProbeConfig, ProbeProtocol } from '../config.js';
import type { MetricsBatch } from '../aws/metrics.js';
import { probeTarget, type ProbeAnswer, type ProbeFailureKind, type ProbeTarget } from '../probe/socket.js';

export type ProbeResult =
  | { status: 'skipped'; reason: 'disabled' | 'outside-vpc' | 'no-target' | 'no-time-left' }
  | { status: 'ok'; target: string; protocol: ProbeProtocol; latencyMs: number; detail: string; answeredAt: number }
  | { status: 'failed'; target: string; protocol: ProbeProtocol; latencyMs: number; kind: ProbeFailureKind; code?: number | string; message: string };

/** Probes once, giving up by `until` (epoch ms: the run's work deadline). Never throws. */
export type Probe = (until: number) => Promise<ProbeResult>;

type Connect = (target: ProbeTarget, timeoutMs: number) => Promise<ProbeAnswer>;

export function createProbe(config: ProbeConfig, connect: Connect = probeTarget, now: () => number = Date.now): Probe {
  return async (until) => {
    if (!config.enabled) return { status: 'skipped', reason: config.reason };
    const timeoutMs = Math.min(config.timeoutMs, until - now());
    if (timeoutMs <= 0) return { status: 'skipped', reason: 'no-time-left' };
    const target = `${config.host}:${config.port}`;
    const answer = await connect({ host: config.host, port: config.port, protocol: config.protocol }, timeoutMs);
    const base = { target, protocol: config.protocol, latencyMs: answer.latencyMs };
    if (answer.ok) return { status: 'ok', ...base, detail: answer.detail, answeredAt: now() };
    return { status: 'failed', ...base, kind: answer.kind, ...(answer.code !== undefined ? { code: answer.code } : {}), message: answer.message };
  };
}

/** ProbeSuccess (1/0) and, when the database answered, ProbeLatency: nothing for a skipped probe (unknown is not 0). */
export function addProbeMetrics(batch: MetricsBatch, result: ProbeResult | undefined): MetricsBatch {
  if (!result || result.status === 'skipped') return batch;
  batch.add('ProbeSuccess', result.status === 'ok' ? 1 : 0);
  if (result.status === 'ok') batch.add('ProbeLatency', result.latencyMs, 'Milliseconds');
  return batch;
}
