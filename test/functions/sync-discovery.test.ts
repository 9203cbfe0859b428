// The sync handler with DISCOVER_TARGET_GROUPS: what a failed listing does (aws-sdk-client-mock;
// moto cannot fail DescribeTargetGroups on demand). The happy paths run against moto in
// test/integration/discovery.test.ts.
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  DeregisterTargetsCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import scheduleEvent from '../events/scheduled.json' with { type: 'json' };
import rdsEvent from '../events/rds-cluster-failover.json' with { type: 'json' };
import type { SyncSummary } from '../../lib/sync/run.js';
import { coldStart } from '../cold-start.js';
import { TG_A, TG_B } from '../fixtures.js';
import { startDnsServer, type DnsServer } from '../harness/dns-server.js';

const ENDPOINT = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const STATIC = 'billing.c0ffee.eu-west-1.rds.amazonaws.com';
const elbMock = mockClient(ElasticLoadBalancingV2Client);
const cwMock = mockClient(CloudWatchClient);
let dns: DnsServer;

beforeAll(async () => {
  dns = await startDnsServer();
});
afterAll(() => dns.close());
beforeEach(() => {
  vi.unstubAllEnvs();
  elbMock.reset();
  cwMock.reset();
  cwMock.on(PutMetricDataCommand).resolves({});
  elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
  elbMock.on(RegisterTargetsCommand).resolves({});
  dns.setA(ENDPOINT, ['10.0.1.5']);
  dns.setA(STATIC, ['10.0.2.7']);
});

const listing = () => {
  elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG_B, TargetGroupName: 'orders', TargetType: 'ip', Protocol: 'TCP', Port: 5432 }] });
  elbMock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ ResourceArn: TG_B, Tags: [{ Key: 'rds-nlb-sync:endpoint', Value: ENDPOINT }] }] });
};
const denied = () => elbMock.on(DescribeTargetGroupsCommand).rejects(Object.assign(new Error('not authorized to DescribeTargetGroups'), { name: 'AccessDenied' }));
const container = (extra: Record<string, string> = {}) =>
  coldStart<SyncSummary>(() => import('../../functions/sync.js'), { DISCOVER_TARGET_GROUPS: 'true', DNS_SERVERS: dns.address, DNS_TIMEOUT_MS: '200', DNS_TRIES: '1', FAILOVER_WATCH_SECONDS: '0', ...extra });

describe('sync handler with discovery', () => {
  it('fails for discovery and changes nothing when the first listing of a container fails', async () => {
    denied();
    const sync = await container({ RDS_ENDPOINT: STATIC, TARGET_GROUP_ARN: TG_A, TARGET_PORT: '3306' });
    await expect(sync(scheduleEvent)).rejects.toMatchObject({ name: 'DiscoveryError', message: expect.stringContaining('nothing was changed') });
    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetHealthCommand, 0);
  });

  it('keeps serving the groups of the last successful listing when a later one fails, and fails the run to say so', async () => {
    listing();
    const sync = await container();
    await expect(sync(scheduleEvent)).resolves.toMatchObject({ outcome: 'success', discovery: { source: 'fresh', groups: 1 } });
    elbMock.reset();
    denied();
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.5', Port: 5432 }, TargetHealth: { State: 'healthy' } }] });
    elbMock.on(RegisterTargetsCommand).resolves({});
    dns.setA(ENDPOINT, ['10.0.1.6']);

    await expect(sync(scheduleEvent)).rejects.toThrow(/discovery: not authorized to DescribeTargetGroups \(served the last discovery\)/);
    expect(elbMock).toHaveReceivedCommandWith(RegisterTargetsCommand, { TargetGroupArn: TG_B, Targets: [{ Id: '10.0.1.6', Port: 5432 }] });
    expect(cwMock).toHaveReceivedCommandWith(PutMetricDataCommand, {
      MetricData: expect.arrayContaining([expect.objectContaining({ MetricName: 'SyncSuccess', Value: 0, Dimensions: [] })]),
    });
  });

  it('lets an RDS event match a discovered mapping (it is watched like a static one)', async () => {
    listing();
    const sync = await container();
    const summary = await sync(rdsEvent);
    expect(summary.event?.matched).toEqual([ENDPOINT]);
  });

  it('logs which static mapping won over a discovered group on the same target group and port', async () => {
    listing();
    const sync = await container({ RDS_ENDPOINT: STATIC, TARGET_GROUP_ARN: TG_B, TARGET_PORT: '5432' });
    const summary = await sync(scheduleEvent);
    expect(summary.mappings.map((m) => m.endpoint)).toEqual([STATIC]);
    expect(summary.discovery?.overridden).toEqual([{ targetGroupArn: TG_B, port: 5432, taggedEndpoint: ENDPOINT, servedEndpoint: STATIC }]);
  });
});
