// Collects a run's metrics and sends them in one PutMetricData call at the end of the run.
// A metrics failure is logged and reported, never thrown: it must not fail a good sync.
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum, type StandardUnit } from '@aws-sdk/client-cloudwatch';
import type { MappingMetrics } from '../config.js';
import { describeError, type Log } from '../log.js';

export type Dimensions = Record<string, string>;

/** PutMetricData takes at most 1000 metrics per request. */
const MAX_PER_REQUEST = 1000;

/**
 * How long a run waits for its metrics, retries included (the client's own timeouts bound each
 * attempt, not the retries). A CloudWatch with no route must not hold the run: rule 9.
 */
export const METRICS_FLUSH_TIMEOUT_MS = 4000;

export class MetricsTimeoutError extends Error {
  override name = 'MetricsTimeoutError';
}

export class MetricsBatch {
  readonly data: MetricDatum[] = [];

  constructor(private readonly timestamp = new Date()) {}

  add(name: string, value: number, unit: StandardUnit = 'Count', dimensions: Dimensions = {}): this {
    this.data.push({
      MetricName: name,
      Value: value,
      Unit: unit,
      Timestamp: this.timestamp,
      Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
    });
    return this;
  }

  /**
   * Sends the batch within `timeoutMs`; returns false (and logs why) when CloudWatch refused it,
   * failed, or did not answer in time. Never throws.
   */
  async flush(client: CloudWatchClient, namespace: string, log: Log, timeoutMs = METRICS_FLUSH_TIMEOUT_MS): Promise<boolean> {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // Raced as well as aborted: the result is bounded even if a layer ignores the abort signal.
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new MetricsTimeoutError(`PutMetricData did not complete within ${timeoutMs} ms`);
        abort.abort(err);
        reject(err);
      }, timeoutMs);
    });
    const send = async () => {
      for (let i = 0; i < this.data.length; i += MAX_PER_REQUEST) {
        const command = new PutMetricDataCommand({ Namespace: namespace, MetricData: this.data.slice(i, i + MAX_PER_REQUEST) });
        await client.send(command, { abortSignal: abort.signal });
      }
    };
    try {
      await Promise.race([send(), deadline]);
      return true;
    } catch (err) {
      log.error('metrics not sent', { namespace, metrics: this.data.length, timeoutMs, error: describeError(err) });
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A per-mapping datum: a `count` of what a run did (added, removed, errors), a `level` read every
 * run (resolved, registered, healthy targets) or a failover `timing` (only in a run that followed one).
 */
export type MappingDatumKind = 'count' | 'level' | 'timing';

/**
 * Whether a per-mapping datum is published (MAPPING_METRICS). CloudWatch bills a custom series for
 * each hour it receives data, so `changes` keeps a quiet mapping free: its counts only when not 0
 * and its timings, never its levels (AWS/NetworkELB HealthyHostCount per target group is free).
 * The run-level series are always published: the alarms read those.
 */
export function keepsMappingDatum(mode: MappingMetrics, kind: MappingDatumKind, value: number): boolean {
  if (mode === 'all') return true;
  if (mode === 'none') return false;
  return kind === 'timing' || (kind === 'count' && value !== 0);
}

/** Adds one mapping's datum to the batch if MAPPING_METRICS keeps it. */
export function mappingSeries(batch: MetricsBatch, mode: MappingMetrics, dimensions: Dimensions) {
  return (name: string, value: number, kind: MappingDatumKind, unit: StandardUnit = 'Count') => {
    if (keepsMappingDatum(mode, kind, value)) batch.add(name, value, unit, dimensions);
  };
}

/** The dimensions of a mapping's series: one endpoint and target group on two ports are two series. */
export function mappingDimensions(m: { targetGroupArn: string; endpoint: string; port: number }): Dimensions {
  return { TargetGroup: targetGroupDimension(m.targetGroupArn), Endpoint: m.endpoint, Port: String(m.port) };
}

/** The CloudWatch dimension value for a target group, as AWS/NetworkELB writes it: targetgroup/<name>/<id>. */
export function targetGroupDimension(targetGroupArn: string): string {
  const i = targetGroupArn.indexOf(':targetgroup/');
  return i === -1 ? targetGroupArn : targetGroupArn.slice(i + 1);
}
