import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCloudWatchClient } from '../../lib/aws/clients.js';
import { MetricsBatch } from '../../lib/aws/metrics.js';
import type { Log } from '../../lib/log.js';
import { startSilentServer, type SilentServer } from '../harness/silent-server.js';

const recorder = () => {
  const lines: { level: string; message: string; extra: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, extra: Record<string, unknown> = {}) => void lines.push({ level, message, extra });
  const log: Log = { info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines };
};

describe('MetricsBatch.flush', () => {
  const cw = mockClient(CloudWatchClient);
  afterEach(() => {
    cw.reset();
    vi.unstubAllEnvs();
  });

  it('returns false and logs within its time bound when PutMetricData never answers', async () => {
    cw.on(PutMetricDataCommand).callsFake(() => new Promise(() => undefined));
    const { log, lines } = recorder();
    const started = Date.now();

    const sent = await new MetricsBatch().add('SyncSuccess', 1).flush(new CloudWatchClient({}), 'RdsNlbSync', log, 300);

    expect(sent).toBe(false);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(lines).toEqual([
      {
        level: 'error',
        message: 'metrics not sent',
        extra: { namespace: 'RdsNlbSync', metrics: 1, timeoutMs: 300, error: { name: 'MetricsTimeoutError', message: 'PutMetricData did not complete within 300 ms' } },
      },
    ]);
  });

  it('returns true when CloudWatch took the batch', async () => {
    cw.on(PutMetricDataCommand).resolves({});
    const { log, lines } = recorder();
    expect(await new MetricsBatch().add('SyncSuccess', 1).flush(new CloudWatchClient({}), 'RdsNlbSync', log)).toBe(true);
    expect(lines).toEqual([]);
  });

  describe('with a real client and a CloudWatch endpoint that never answers', () => {
    let silent: SilentServer;
    beforeAll(async () => {
      cw.restore(); // the real client's send, not the mock's
      silent = await startSilentServer();
    });
    afterAll(() => silent.close());

    it('gives up at the flush bound, even while the SDK is still retrying', async () => {
      vi.stubEnv('AWS_ENDPOINT_URL_CLOUDWATCH', silent.url);
      const client = createCloudWatchClient({ connectTimeoutMs: 1000, requestTimeoutMs: 1000 });
      const { log, lines } = recorder();
      const started = Date.now();

      const sent = await new MetricsBatch().add('SyncSuccess', 1).flush(client, 'RdsNlbSync', log, 500);

      expect(sent).toBe(false);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(silent.connections()).toBeGreaterThan(0);
      expect(lines[0]?.extra.error).toMatchObject({ name: 'MetricsTimeoutError' });
    });
  });
});
