// The probe of the real path: once per sync run, from inside the VPC, a connection through each
// of the NLB's listeners to its database, which must answer (lib/probe/). NLB health checks are TCP only,
// so a database that accepts TCP and then refuses (MySQL error 1129, "host is blocked") keeps
// its targets healthy: this is what notices. A failed probe does not fail the sync run (the
// target group may be right); it publishes ProbeSuccess 0, and the probe alarm pages on repeats.
//
// Failover timeline hook: a run's result is SyncSummary.probe; `status: 'ok'` with `answeredAt`
// (epoch ms) is the moment the database answered through the NLB. A timeline may record the
// first such answer after a failover from there.
//
// Several databases behind the NLB (one listener each): every listener is probed, in parallel, in
// one run. With one listener the result is that listener's (the fields the docs' queries read);
// with several it is the run's verdict over every listener, with each listener's result in
// `listeners`: ok only when every one answered.
import type { ProbeConfig, ProbeListener, ProbeProtocol } from '../config.js';
import type { MetricsBatch } from '../aws/metrics.js';
import { probeTarget, type ProbeAnswer, type ProbeFailureKind } from '../probe/socket.js';

type Skipped = { status: 'skipped'; reason: 'disabled' | 'outside-vpc' | 'no-target' | 'no-time-left' };
/** One listener's probe: the database answered, or how it failed. */
export type ListenerProbe =
  | { status: 'ok'; target: string; protocol: ProbeProtocol; latencyMs: number; detail: string; answeredAt: number }
  | { status: 'failed'; target: string; protocol: ProbeProtocol; latencyMs: number; kind: ProbeFailureKind; code?: number | string; message: string };
/**
 * Several listeners: ok when every one answered (answeredAt: the last answer), failed when any did
 * not (`failed`: their host:port, `message`: theirs). latencyMs: the slowest answer (absent when none answered).
 */
export type ListenersProbe =
  | { status: 'ok'; latencyMs: number; answeredAt: number; listeners: ListenerProbe[] }
  | { status: 'failed'; latencyMs?: number; failed: string[]; message: string; listeners: ListenerProbe[] };

export type ProbeResult = Skipped | ListenerProbe | ListenersProbe;

/** Probes once, giving up by `until` (epoch ms: the run's work deadline). Never throws. */
export type Probe = (until: number) => Promise<ProbeResult>;

type Connect = (target: ProbeListener, timeoutMs: number) => Promise<ProbeAnswer>;

export function createProbe(config: ProbeConfig, connect: Connect = probeTarget, now: () => number = Date.now): Probe {
  const probeListener = async (listener: ProbeListener, timeoutMs: number): Promise<ListenerProbe> => {
    const answer = await connect({ host: listener.host, port: listener.port, protocol: listener.protocol }, timeoutMs);
    const base = { target: `${listener.host}:${listener.port}`, protocol: listener.protocol, latencyMs: answer.latencyMs };
    if (answer.ok) return { status: 'ok', ...base, detail: answer.detail, answeredAt: now() };
    return { status: 'failed', ...base, kind: answer.kind, ...(answer.code !== undefined ? { code: answer.code } : {}), message: answer.message };
  };
  return async (until) => {
    if (!config.enabled) return { status: 'skipped', reason: config.reason };
    const timeoutMs = Math.min(config.timeoutMs, until - now());
    if (timeoutMs <= 0) return { status: 'skipped', reason: 'no-time-left' };
    // In parallel, each within the same timeout: the run waits for the slowest, never longer.
    const results = await Promise.all(config.listeners.map((listener) => probeListener(listener, timeoutMs)));
    return results.length === 1 && results[0] ? results[0] : summarize(results);
  };
}

function summarize(listeners: ListenerProbe[]): ListenersProbe {
  const answered = listeners.flatMap((l) => (l.status === 'ok' ? [l] : []));
  const failed = listeners.flatMap((l) => (l.status === 'failed' ? [l] : []));
  const latencyMs = Math.max(...answered.map((l) => l.latencyMs));
  if (failed.length === 0) return { status: 'ok', latencyMs, answeredAt: Math.max(...answered.map((l) => l.answeredAt)), listeners };
  return {
    status: 'failed',
    ...(answered.length > 0 ? { latencyMs } : {}),
    failed: failed.map((l) => l.target),
    // The socket's messages start with host:port; a message from elsewhere gets it in front.
    message: `${failed.length} of ${listeners.length} listeners failed: ${failed.map((l) => (l.message.startsWith(l.target) ? l.message : `${l.target}: ${l.message}`)).join('; ')}`,
    listeners,
  };
}

/**
 * ProbeSuccess (1 only when every listener answered, else 0) and, when a database answered,
 * ProbeLatency (the slowest answer): nothing for a skipped probe (unknown is not 0). Run-level
 * series only: the per-listener detail is in the "sync run" line (no custom series per listener).
 */
export function addProbeMetrics(batch: MetricsBatch, result: ProbeResult | undefined): MetricsBatch {
  if (!result || result.status === 'skipped') return batch;
  batch.add('ProbeSuccess', result.status === 'ok' ? 1 : 0);
  // One listener's failed probe carries the time it took to fail: not an answer's latency.
  const latencyMs = result.status === 'ok' || 'listeners' in result ? result.latencyMs : undefined;
  if (latencyMs !== undefined) batch.add('ProbeLatency', latencyMs, 'Milliseconds');
  return batch;
}
