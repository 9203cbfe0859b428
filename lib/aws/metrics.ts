// Collects a run's metrics and sends them in one PutMetricData call at the end of the run.
// A metrics failure is logged and reported, never thrown: it must not fail a good sync.
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum, type StandardUnit } from '@aws-sdk/client-cloudwatch';
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

/** The CloudWatch dimension value for a target group, as AWS/NetworkELB writes it: targetgroup/<name>/<id>. */
export function targetGroupDimension(targetGroupArn: string): string {
  const i = targetGroupArn.indexOf(':targetgroup/');
  return i === -1 ? targetGroupArn : targetGroupArn.slice(i + 1);
}
