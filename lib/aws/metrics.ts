// Collects a run's metrics and sends them in one PutMetricData call at the end of the run.
// A metrics failure is logged and reported, never thrown: it must not fail a good sync.
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum, type StandardUnit } from '@aws-sdk/client-cloudwatch';
import { describeError, type Log } from '../log.js';

export type Dimensions = Record<string, string>;

/** PutMetricData takes at most 1000 metrics per request. */
const MAX_PER_REQUEST = 1000;

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

  /** Sends the batch; returns false (and logs why) when CloudWatch refused it. */
  async flush(client: CloudWatchClient, namespace: string, log: Log): Promise<boolean> {
    try {
      for (let i = 0; i < this.data.length; i += MAX_PER_REQUEST) {
        await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: this.data.slice(i, i + MAX_PER_REQUEST) }));
      }
      return true;
    } catch (err) {
      log.error('metrics not sent', { namespace, metrics: this.data.length, error: describeError(err) });
      return false;
    }
  }
}

/** The CloudWatch dimension value for a target group, as AWS/NetworkELB writes it: targetgroup/<name>/<id>. */
export function targetGroupDimension(targetGroupArn: string): string {
  const i = targetGroupArn.indexOf(':targetgroup/');
  return i === -1 ? targetGroupArn : targetGroupArn.slice(i + 1);
}
