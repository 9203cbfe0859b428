// The sync handler's probe of the real path: a local TCP server stands in for the NLB listener
// (the database's first bytes only); ELB and CloudWatch are mocked, DNS is a local server.
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import scheduleEvent from '../events/scheduled.json' with { type: 'json' };
import type { SyncSummary } from '../../lib/sync/run.js';
import { coldStart } from '../cold-start.js';
import { TG_A } from '../fixtures.js';
import { startDnsServer, type DnsServer } from '../harness/dns-server.js';
import { HOST_BLOCKED_MESSAGE, mysqlError, mysqlGreeting } from '../probe/fixtures.js';

const ENDPOINT = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const cwMock = mockClient(CloudWatchClient);
let dns: DnsServer;
let server: Server | undefined;

beforeAll(async () => {
  dns = await startDnsServer();
});
afterAll(() => dns.close());
beforeEach(() => {
  elbMock.reset();
  cwMock.reset();
  elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.5', Port: 3306 }, TargetHealth: { State: 'healthy' } }] });
  cwMock.on(PutMetricDataCommand).resolves({});
  dns.setA(ENDPOINT, ['10.0.1.5']);
});
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** The "NLB listener": answers each connection with `first` and closes. */
async function listener(first: Buffer): Promise<number> {
  server = createServer((socket: Socket) => {
    socket.on('error', () => undefined);
    socket.end(first);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const env = (extra: Record<string, string>) => ({
  RDS_ENDPOINT: ENDPOINT,
  TARGET_GROUP_ARN: TG_A,
  TARGET_PORT: '3306',
  DNS_SERVERS: dns.address,
  DNS_TIMEOUT_MS: '200',
  DNS_TRIES: '1',
  ...extra,
});

/** The probe.* fields docs/operate.md's "The probe through the NLB" Logs Insights query reads. */
function probeQueryFields(): string[] {
  const doc = readFileSync(new URL('../../docs/operate.md', import.meta.url), 'utf8');
  const query = /```\n# The probe through the NLB[^\n]*\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  return (/fields ([^\n]*)\n/.exec(query)?.[1] ?? '').split(',').map((f) => f.trim()).filter((f) => f.startsWith('probe.')).map((f) => f.slice('probe.'.length));
}
const read = (value: unknown, path: string) => path.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], value);

/** The dimensionless data of the run's PutMetricData, by name. */
function runMetrics(): Record<string, number | undefined> {
  const data = cwMock.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []) as MetricDatum[];
  return Object.fromEntries(data.filter((d) => (d.Dimensions ?? []).length === 0).map((d) => [d.MetricName, d.Value]));
}

describe('sync handler: the probe through the NLB', () => {
  it('puts an answering database on the summary line and publishes ProbeSuccess 1 and its latency', async () => {
    const port = await listener(mysqlGreeting('8.0.39'));
    const sync = await coldStart<SyncSummary>(() => import('../../functions/sync.js'), env({ FUNCTION_IN_VPC: 'true', PROBE_TARGET: `127.0.0.1:${port}`, PROBE_PROTOCOL: 'mysql' }));

    const summary = await sync(scheduleEvent);

    expect(summary.probe).toMatchObject({ status: 'ok', target: `127.0.0.1:${port}`, protocol: 'mysql', detail: 'mysql protocol 10, server 8.0.39' });
    expect(summary.probe?.status === 'ok' && summary.probe.answeredAt).toBeGreaterThan(0);
    expect(runMetrics()).toMatchObject({ ProbeSuccess: 1, ProbeLatency: expect.any(Number) });
  });

  it('reports a blocked host (MySQL 1129) as a failed probe, without failing the sync run', async () => {
    const port = await listener(mysqlError(1129, HOST_BLOCKED_MESSAGE));
    const sync = await coldStart<SyncSummary>(() => import('../../functions/sync.js'), env({ FUNCTION_IN_VPC: 'true', PROBE_TARGET: `127.0.0.1:${port}`, PROBE_PROTOCOL: 'mysql' }));

    const summary = await sync(scheduleEvent);

    expect(summary.outcome).toBe('success');
    // Exactly the fields the documented probe Logs Insights query reads (the summary line is this object).
    expect(Object.keys(summary.probe ?? {}).sort()).toEqual(['code', 'kind', 'latencyMs', 'message', 'protocol', 'status', 'target']);
    for (const field of ['status', 'kind', 'code', 'message', 'latencyMs']) expect(probeQueryFields(), field).toContain(field);
    expect(summary.probe).toMatchObject({ status: 'failed', kind: 'database-error', code: 1129, message: expect.stringContaining('is blocked because of many connection errors') });
    expect(runMetrics()).toMatchObject({ ProbeSuccess: 0, SyncSuccess: 1 });
    expect(runMetrics()).not.toHaveProperty('ProbeLatency');
  });

  it('skips the probe outside the VPC, says so on the summary line, and publishes no probe datum', async () => {
    const sync = await coldStart<SyncSummary>(() => import('../../functions/sync.js'), env({ PROBE_TARGET: 'internal-nlb-0123.elb.eu-west-1.amazonaws.com:3306' }));

    const summary = await sync(scheduleEvent);

    expect(summary.probe).toEqual({ status: 'skipped', reason: 'outside-vpc' });
    expect(runMetrics()).not.toHaveProperty('ProbeSuccess');
  });

  it('skips the probe when opted out', async () => {
    const sync = await coldStart<SyncSummary>(() => import('../../functions/sync.js'), env({ FUNCTION_IN_VPC: 'true', PROBE_ENABLED: 'false', PROBE_TARGET: 'internal-nlb.elb.eu-west-1.amazonaws.com:3306' }));
    expect((await sync(scheduleEvent)).probe).toEqual({ status: 'skipped', reason: 'disabled' });
  });

  it('fails the cold start on a probe setting it cannot use, naming it', async () => {
    await expect(coldStart(() => import('../../functions/sync.js'), env({ PROBE_TARGET: 'nlb.example.com:1521' }))).rejects.toThrow(/PROBE_PROTOCOL is auto, which knows ports 3306 \(mysql\) and 5432 \(postgres\) only/);
    await expect(coldStart(() => import('../../functions/sync.js'), env({ PROBE_TARGET: 'no port here' }))).rejects.toThrow(/PROBE_TARGET must be host:port of the NLB listener/);
  });

  it('probes every listener of a two-database NLB: one blocked (1129) fails the probe, naming its port', async () => {
    const answering = await listener(mysqlGreeting('8.0.39'));
    const blocked = createServer((socket: Socket) => {
      socket.on('error', () => undefined);
      socket.end(mysqlError(1129, HOST_BLOCKED_MESSAGE));
    });
    await new Promise<void>((resolve) => blocked.listen(0, '127.0.0.1', resolve));
    const blockedPort = (blocked.address() as AddressInfo).port;
    try {
      const sync = await coldStart<SyncSummary>(
        () => import('../../functions/sync.js'),
        env({ FUNCTION_IN_VPC: 'true', PROBE_TARGET: `127.0.0.1:${answering},${blockedPort}`, PROBE_PROTOCOL: `${answering}=mysql,${blockedPort}=mysql` }),
      );

      const summary = await sync(scheduleEvent);

      expect(summary.outcome).toBe('success');
      expect(Object.keys(summary.probe ?? {}).sort()).toEqual(['failed', 'latencyMs', 'listeners', 'message', 'status']);
      expect(summary.probe).toMatchObject({ status: 'failed', failed: [`127.0.0.1:${blockedPort}`], message: expect.stringContaining(`127.0.0.1:${blockedPort}: MySQL error 1129`) });
      expect(summary.probe && 'listeners' in summary.probe && summary.probe.listeners.map((l) => [l.target, l.status])).toEqual([
        [`127.0.0.1:${answering}`, 'ok'],
        [`127.0.0.1:${blockedPort}`, 'failed'],
      ]);
      expect(runMetrics()).toMatchObject({ ProbeSuccess: 0, ProbeLatency: expect.any(Number), SyncSuccess: 1 });
      // The documented query shows the failing listener: probe.failed.0 and the message.
      const fields = probeQueryFields();
      expect(fields).toEqual(expect.arrayContaining(['status', 'message', 'latencyMs', 'failed.0']));
      expect(read(summary.probe, 'failed.0')).toBe(`127.0.0.1:${blockedPort}`);
    } finally {
      await new Promise((resolve) => blocked.close(resolve));
    }
  });
});

