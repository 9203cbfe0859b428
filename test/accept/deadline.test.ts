// Rule 9 for accept: EC2 accepts connections and never answers (a black-holed route). Without a
// deadline the SDK's timeouts and retries kept runAccept 40 s against a 30 s function timeout, so
// Lambda killed it before its summary line and metrics. With the Lambda deadline the run gives up
// on EC2 in time, logs its summary and sends its metrics (unknown pending: no datum).
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  AcceptVpcEndpointConnectionsCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ACCEPT_LOG_MARGIN_MS, runAccept } from '../../lib/accept/run.js';
import { createEc2Client } from '../../lib/aws/clients.js';
import type { AcceptConfig } from '../../lib/config.js';
import { startSilentServer, type SilentServer } from '../harness/silent-server.js';
import { recordLog } from '../fixtures.js';

const SVC_A = 'vpce-svc-0aaaaaaaaaaaaaaa0';
const config: AcceptConfig = { serviceIds: [SVC_A], loadBalancerArns: [], allowedAccounts: ['834469178297'], rejectUnlisted: false, metricsNamespace: 'RdsNlbSync', dryRun: false };
/** Each attempt waits 1 s for an answer; 4 attempts and backoff take over 4 s without a deadline. */
const SLOW = { connectTimeoutMs: 1000, requestTimeoutMs: 1000 };
const BUDGET_MS = ACCEPT_LOG_MARGIN_MS + 1000;

describe('runAccept against an EC2 API that never answers', () => {
  let silent: SilentServer;
  beforeAll(async () => {
    silent = await startSilentServer();
  });
  afterAll(() => silent.close());
  afterEach(() => vi.unstubAllEnvs());

  it('ends by the Lambda deadline with its summary line, AcceptErrors 1 and no PendingConnections datum', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_EC2', silent.url);
    const cloudwatch = new CloudWatchClient({});
    const cw = mockClient(cloudwatch);
    cw.on(PutMetricDataCommand).resolves({});
    const log = recordLog();
    const started = Date.now();

    const summary = await runAccept(config, { trigger: 'schedule', dryRun: false, deadline: started + BUDGET_MS }, { ec2: createEc2Client(SLOW), cloudwatch, log });

    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(BUDGET_MS);
    expect(silent.connections()).toBeGreaterThan(0);
    expect(summary).toMatchObject({
      outcome: 'failed',
      metricsSent: true,
      services: [],
      errors: [{ action: 'DescribeVpcEndpointServiceConfigurations', code: 'DeadlineError' }],
      totals: { pending: 0, stillPending: null, errors: 1 },
    });
    expect(log.lines.map((l) => l.message)).toEqual(['accept error', 'accept run']);
    const data = cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
    expect(data).toContainEqual(expect.objectContaining({ MetricName: 'AcceptErrors', Value: 1, Dimensions: [] }));
    // No service was listed: no per-service PendingConnections (unknown is not 0).
    expect(data.filter((d) => d.MetricName === 'PendingConnections' && d.Dimensions?.length)).toEqual([]);
  });

  it('reports a service whose listing did not answer in time as unknown, and accepts nothing after the deadline', async () => {
    const ec2 = new EC2Client({});
    const ec2Mock = mockClient(ec2);
    ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({ ServiceConfigurations: [{ ServiceId: SVC_A }] });
    // EC2 answers, but only after the deadline: a Fivetran connection the abandoned pass must not accept.
    ec2Mock.on(DescribeVpcEndpointConnectionsCommand).callsFake(
      () => new Promise((resolve) => setTimeout(() => resolve({ VpcEndpointConnections: [{ ServiceId: SVC_A, VpcEndpointId: 'vpce-1', VpcEndpointOwner: '834469178297', VpcEndpointState: 'pendingAcceptance' }] }), 1500)),
    );
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({ Unsuccessful: [] });
    const cloudwatch = new CloudWatchClient({});
    const cw = mockClient(cloudwatch);
    cw.on(PutMetricDataCommand).resolves({});
    const log = recordLog();
    const started = Date.now();

    const summary = await runAccept(config, { trigger: 'schedule', dryRun: false, deadline: started + ACCEPT_LOG_MARGIN_MS + 500 }, { ec2, cloudwatch, log });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the abandoned listing has answered by now

    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(summary).toMatchObject({
      outcome: 'failed',
      services: [{ serviceId: SVC_A, pending: null, stillPending: null, accepted: [], errors: [{ action: 'DescribeVpcEndpointConnections', code: 'DeadlineError' }] }],
      totals: { stillPending: null, errors: 1 },
    });
    expect(ec2Mock.commandCalls(AcceptVpcEndpointConnectionsCommand)).toHaveLength(0);
    const data = cw.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData ?? []);
    expect(data).toContainEqual(expect.objectContaining({ MetricName: 'AcceptErrors', Value: 1, Dimensions: [{ Name: 'EndpointService', Value: SVC_A }] }));
    expect(data.filter((d) => d.MetricName === 'PendingConnections' && d.Dimensions?.length)).toEqual([]);
  });
});
