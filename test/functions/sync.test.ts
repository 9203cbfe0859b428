import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBClusterEndpointsCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
// Classes differ per cold start (vi.resetModules), so errors are matched by name.
import rdsEvent from '../events/rds-cluster-failover.json' with { type: 'json' };
import instanceEvent from '../events/rds-instance-failover.json' with { type: 'json' };
import scheduleEvent from '../events/scheduled.json' with { type: 'json' };
import type { SyncSummary } from '../../lib/sync/run.js';
import { coldStart } from '../cold-start.js';
import { TG_A, TG_B } from '../fixtures.js';
import { startDnsServer, type DnsServer } from '../harness/dns-server.js';

const ENDPOINT = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const cwMock = mockClient(CloudWatchClient);
const rdsMock = mockClient(RDSClient);

let dns: DnsServer;

const coldStartSync = (env: Record<string, string>) => coldStart<SyncSummary>(() => import('../../functions/sync.js'), env);

beforeAll(async () => {
  dns = await startDnsServer();
});
afterAll(() => dns.close());
beforeEach(() => {
  vi.unstubAllEnvs();
  elbMock.reset();
  cwMock.reset();
  rdsMock.reset();
  elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.5', Port: 5432 }, TargetHealth: { State: 'healthy' } }] });
  cwMock.on(PutMetricDataCommand).resolves({});
  dns.setA(ENDPOINT, ['10.0.1.5']);
});

const env = () => ({
  RDS_ENDPOINT: ENDPOINT,
  TARGET_GROUP_ARN: TG_A,
  TARGET_PORT: '5432',
  DNS_SERVERS: dns.address,
  DNS_TIMEOUT_MS: '200',
  DNS_TRIES: '1',
  FAILOVER_POLL_MS: '100',
  FAILOVER_WATCH_SECONDS: '2',
});

describe('sync handler', () => {
  it('runs a scheduled sync through real DNS and returns the summary', async () => {
    dns.setA(ENDPOINT, ['10.0.2.9']);
    const sync = await coldStartSync(env());

    const summary = await sync(scheduleEvent);

    expect(summary).toMatchObject({ trigger: 'schedule', outcome: 'success', mappings: [{ resolved: ['10.0.2.9'], added: ['10.0.2.9'], removed: ['10.0.1.5'] }] });
    expect(elbMock).toHaveReceivedCommandWith(RegisterTargetsCommand, { TargetGroupArn: TG_A, Targets: [{ Id: '10.0.2.9', Port: 5432 }] });
  });

  it('follows a failover announced by an RDS event once DNS catches up', async () => {
    const sync = await coldStartSync(env());
    setTimeout(() => dns.setA(ENDPOINT, ['10.0.2.9']), 250);

    const summary = await sync(rdsEvent);

    expect(summary).toMatchObject({ trigger: 'rds-event', event: { sourceIdentifier: 'orders', eventId: 'RDS-EVENT-0073' }, mappings: [{ added: ['10.0.2.9'] }] });
    expect(summary.mappings[0]?.polls).toBeGreaterThanOrEqual(1);
  });

  it("watches the cluster endpoint when the event names one of the cluster's instances, found through RDS", async () => {
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-writer-az2' }).resolves({ DBInstances: [{ DBClusterIdentifier: 'orders' }] });
    const sync = await coldStartSync(env());
    setTimeout(() => dns.setA(ENDPOINT, ['10.0.2.9']), 250);

    const summary = await sync(instanceEvent);

    expect(summary.event).toMatchObject({ source: { kind: 'instance', id: 'orders-writer-az2' }, matched: [ENDPOINT], clusters: ['orders'] });
    expect(summary.mappings[0]).toMatchObject({ added: ['10.0.2.9'] });
    expect(summary.mappings[0]?.polls).toBeGreaterThanOrEqual(1);
  });

  it('fails the invocation when DNS fails, after sending the metrics', async () => {
    dns.fail(ENDPOINT, 'SERVFAIL');
    const sync = await coldStartSync(env());

    await expect(sync(scheduleEvent)).rejects.toMatchObject({ name: 'RunFailedError', message: expect.stringMatching(/sync failed for 1 of 1 mappings: .*DNS servfail/) });
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricDataCommand, 1);
    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
  });

  it.each([
    [{ force: 'yes' }, /force: Invalid input: expected boolean/],
    [{ forced: true }, /Unrecognized key: "forced"/],
    [{ endpoints: ['other.example.com'] }, /endpoints other\.example\.com not configured; configured: orders\.cluster/],
    [{ source: 'aws.s3', 'detail-type': 'Object Created' }, /source "aws.s3", detail-type "Object Created" is neither the schedule .* nor an RDS event/],
    [{ source: 'aws.rds', 'detail-type': 'RDS DB Instance Event', detail: {} }, /^Invalid RDS event \(detail\.SourceIdentifier: .*\): expected an aws\.rds event/],
    ['resync', /expected object/],
  ])('rejects the payload %j before any AWS call', async (payload, message) => {
    const sync = await coldStartSync(env());

    await expect(sync(payload)).rejects.toMatchObject({ name: 'InvalidPayloadError', statusCode: 400, message: expect.stringMatching(message) });
    expect(elbMock.calls()).toHaveLength(0);
    expect(cwMock.calls()).toHaveLength(0);
  });

  it('accepts a manual force and dry run', async () => {
    const sync = await coldStartSync(env());
    const summary = await sync({ force: true, dryRun: true, endpoints: [ENDPOINT.toUpperCase()] });
    expect(summary).toMatchObject({ trigger: 'manual', force: true, dryRun: true, mappings: [{ reason: 'forced', added: ['10.0.1.5'] }] });
    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
  });

  it('fails the cold start on bad configuration, naming the setting', async () => {
    await expect(coldStartSync({ ...env(), TARGET_PORT: 'postgres' })).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/TARGET_PORT must be a TCP port number/),
    });
  });
});

// Issue 18 class 3: the RDS-event matching ran its lookups one after another before any sync;
// with the RDS API not answering, a writer and two custom endpoints waited 40 s.
describe('sync handler with an RDS API that does not answer the event matching', () => {
  it('registers the writer within the matching bound, though the custom endpoints\' lookups never answer', async () => {
    const customs = ['analytics', 'reporting'].map((name) => `${name}.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com`);
    let calls = 0;
    // The matching's two lookups never answer; the members' reads later are refused at once.
    rdsMock.on(DescribeDBClusterEndpointsCommand).callsFake(() => (++calls <= 2 ? new Promise(() => undefined) : Promise.reject(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }))));
    let registeredAt: number | undefined;
    elbMock.on(RegisterTargetsCommand, { TargetGroupArn: TG_A }).callsFake(() => ((registeredAt ??= Date.now()), {}));
    dns.setA(ENDPOINT, ['10.0.2.9']);
    const sync = await coldStartSync({
      SYNC_MAPPINGS: JSON.stringify([{ endpoint: ENDPOINT, targetGroupArn: TG_A, port: 5432 }, ...customs.map((endpoint, i) => ({ endpoint, targetGroupArn: TG_B, port: 5434 + i }))]),
      DNS_SERVERS: dns.address,
      DNS_TIMEOUT_MS: '200',
      DNS_TRIES: '1',
      FAILOVER_POLL_MS: '100',
      FAILOVER_WATCH_SECONDS: '1',
    });
    const started = Date.now();

    await expect(sync(rdsEvent)).rejects.toMatchObject({ name: 'RunFailedError' });

    expect(registeredAt).toBeDefined();
    // MATCH_BUDGET_MS (2 s) and the writer's own pass, not 2 x 20 s of lookups.
    expect((registeredAt ?? Infinity) - started).toBeLessThan(3500);
  });
});
