import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  AcceptVpcEndpointConnectionsCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  EC2Client,
  RejectVpcEndpointConnectionsCommand,
  type DescribeVpcEndpointConnectionsCommandInput,
  type VpcEndpointConnection,
} from '@aws-sdk/client-ec2';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import type { AcceptRequest } from '../../lib/accept/event.js';
import { runAccept, type AcceptDeps, type AcceptSummary } from '../../lib/accept/run.js';
import type { AcceptConfig } from '../../lib/config.js';
import type { Log } from '../../lib/log.js';
import { resetForColdStart } from '../cold-start.js';

const SVC_A = 'vpce-svc-0aaaaaaaaaaaaaaa0';
const SVC_B = 'vpce-svc-0bbbbbbbbbbbbbbb0';
const FIVETRAN = '834469178297';
const STRANGER = '111122223333';
const LB = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/rds-nlb/0123456789abcdef';

// Class-level mocks: they also catch the clients functions/accept.ts creates itself.
const ec2Mock = mockClient(EC2Client);
const cwMock = mockClient(CloudWatchClient);

const config = (over: Partial<AcceptConfig> = {}): AcceptConfig => ({
  serviceIds: [SVC_A],
  loadBalancerArns: [],
  allowedAccounts: [FIVETRAN],
  rejectUnlisted: false,
  metricsNamespace: 'RdsNlbSync',
  dryRun: false,
  ...over,
});
const scheduled: AcceptRequest = { trigger: 'schedule', dryRun: false };

let log: { [K in keyof Log]: Mock<Log[K]> };
let deps: AcceptDeps;

beforeEach(() => {
  ec2Mock.reset();
  cwMock.reset();
  cwMock.on(PutMetricDataCommand).resolves({});
  ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({ Unsuccessful: [] });
  ec2Mock.on(RejectVpcEndpointConnectionsCommand).resolves({ Unsuccessful: [] });
  // This account's endpoint services: every configured ID is checked against them.
  ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({ ServiceConfigurations: [{ ServiceId: SVC_A }, { ServiceId: SVC_B }] });
  listings = new Map();
  log = { info: vi.fn<Log['info']>(), warn: vi.fn<Log['warn']>(), error: vi.fn<Log['error']>() };
  let t = 1_000;
  deps = { ec2: new EC2Client({}), cloudwatch: new CloudWatchClient({}), log, now: () => (t += 5) };
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('runAccept', () => {
  it('accepts a pending connection from an allowlisted account in one call for its service', async () => {
    pending(SVC_A, [conn('vpce-1', FIVETRAN)]);

    const summary = await runAccept(config(), scheduled, deps);

    expect(ec2Mock).toHaveReceivedCommandTimes(AcceptVpcEndpointConnectionsCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandWith(AcceptVpcEndpointConnectionsCommand, { ServiceId: SVC_A, VpcEndpointIds: ['vpce-1'] });
    expect(commandOrder()).toEqual(['DescribeVpcEndpointServiceConfigurationsCommand', 'DescribeVpcEndpointConnectionsCommand', 'AcceptVpcEndpointConnectionsCommand']);
    expect(summary.outcome).toBe('success');
    expect(summary.services[0]?.accepted).toEqual([{ endpointId: 'vpce-1', owner: FIVETRAN, reason: 'owner allowlisted' }]);
    expect(metrics()).toEqual({ PendingConnections: 0, PendingAllowlisted: 0, ConnectionsAccepted: 1, ConnectionsRejected: 0, AcceptErrors: 0, AcceptSuccess: 1 });
  });

  it('leaves an unlisted owner pending and reports it, without touching it', async () => {
    pending(SVC_A, [conn('vpce-2', STRANGER)]);

    const summary = await runAccept(config(), scheduled, deps);

    expect(ec2Mock).not.toHaveReceivedCommand(AcceptVpcEndpointConnectionsCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(RejectVpcEndpointConnectionsCommand);
    expect(summary.outcome).toBe('success');
    expect(summary.services[0]?.left).toEqual([{ endpointId: 'vpce-2', owner: STRANGER, reason: 'owner not allowlisted' }]);
    // A stranger's connection is reported (PendingConnections) but is nobody's page: PendingAllowlisted 0.
    expect(metrics()).toMatchObject({ PendingConnections: 1, PendingAllowlisted: 0, ConnectionsAccepted: 0, AcceptSuccess: 1 });
  });

  it('rejects an unlisted owner when REJECT_UNLISTED is set, and never accepts it', async () => {
    pending(SVC_A, [conn('vpce-2', STRANGER)]);

    const summary = await runAccept(config({ rejectUnlisted: true }), scheduled, deps);

    expect(ec2Mock).toHaveReceivedCommandWith(RejectVpcEndpointConnectionsCommand, { ServiceId: SVC_A, VpcEndpointIds: ['vpce-2'] });
    expect(ec2Mock).not.toHaveReceivedCommand(AcceptVpcEndpointConnectionsCommand);
    expect(summary.services[0]?.rejected.map((d) => d.endpointId)).toEqual(['vpce-2']);
    expect(metrics()).toMatchObject({ PendingConnections: 0, ConnectionsRejected: 1 });
  });

  it('handles a mixed batch on two services: one accept call per service, the stranger rejected', async () => {
    pending(SVC_A, [conn('vpce-a1', FIVETRAN), conn('vpce-a2', STRANGER), conn('vpce-a3', FIVETRAN)]);
    pending(SVC_B, [conn('vpce-b1', FIVETRAN)]);

    const summary = await runAccept(config({ serviceIds: [SVC_A, SVC_B], rejectUnlisted: true }), scheduled, deps);

    expect(ec2Mock).toHaveReceivedCommandTimes(AcceptVpcEndpointConnectionsCommand, 2);
    expect(ec2Mock).toHaveReceivedNthCommandWith(AcceptVpcEndpointConnectionsCommand, 1, { ServiceId: SVC_A, VpcEndpointIds: ['vpce-a1', 'vpce-a3'] });
    expect(ec2Mock).toHaveReceivedNthCommandWith(AcceptVpcEndpointConnectionsCommand, 2, { ServiceId: SVC_B, VpcEndpointIds: ['vpce-b1'] });
    expect(ec2Mock).toHaveReceivedCommandExactlyOnceWith(RejectVpcEndpointConnectionsCommand, { ServiceId: SVC_A, VpcEndpointIds: ['vpce-a2'] });
    expect(summary.totals).toEqual({ pending: 4, accepted: 3, rejected: 1, left: 0, stillPending: 0, errors: 0 });
    expect(metrics()).toEqual({ PendingConnections: 0, PendingAllowlisted: 0, ConnectionsAccepted: 3, ConnectionsRejected: 1, AcceptErrors: 0, AcceptSuccess: 1 });
    expect(metrics({ Name: 'EndpointService', Value: SVC_B })).toMatchObject({ ConnectionsAccepted: 1 });
  });

  it('accepts the connections of every page in a single call', async () => {
    ec2Mock
      .on(DescribeVpcEndpointConnectionsCommand)
      .resolvesOnce({ VpcEndpointConnections: [conn('vpce-1', FIVETRAN, SVC_A)], NextToken: 'next' })
      .resolvesOnce({ VpcEndpointConnections: [conn('vpce-2', FIVETRAN, SVC_A)] });

    await runAccept(config(), scheduled, deps);

    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeVpcEndpointConnectionsCommand, 2);
    expect(ec2Mock).toHaveReceivedNthCommandWith(DescribeVpcEndpointConnectionsCommand, 2, { NextToken: 'next' });
    expect(ec2Mock).toHaveReceivedCommandExactlyOnceWith(AcceptVpcEndpointConnectionsCommand, { ServiceId: SVC_A, VpcEndpointIds: ['vpce-1', 'vpce-2'] });
  });

  it('counts an endpoint in Unsuccessful as an error: metric, log line and a failed run', async () => {
    pending(SVC_A, [conn('vpce-1', FIVETRAN), conn('vpce-2', FIVETRAN)]);
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({
      Unsuccessful: [{ ResourceId: 'vpce-2', Error: { Code: 'InvalidVpcEndpointId.NotFound', Message: 'gone' } }],
    });

    const summary = await runAccept(config(), scheduled, deps);

    expect(summary.outcome).toBe('failed');
    expect(summary.services[0]?.accepted.map((d) => d.endpointId)).toEqual(['vpce-1']);
    expect(summary.services[0]?.errors).toEqual([
      { action: 'AcceptVpcEndpointConnections', serviceId: SVC_A, endpointId: 'vpce-2', code: 'InvalidVpcEndpointId.NotFound', message: 'gone' },
    ]);
    expect(log.error).toHaveBeenCalledWith('accept error', {
      action: 'AcceptVpcEndpointConnections',
      serviceId: SVC_A,
      endpointId: 'vpce-2',
      code: 'InvalidVpcEndpointId.NotFound',
      errorMessage: 'gone',
    });
    // The failed accept is Fivetran still waiting: PendingAllowlisted; the run is not clean: AcceptSuccess 0.
    expect(metrics()).toEqual({ PendingConnections: 1, PendingAllowlisted: 1, ConnectionsAccepted: 1, ConnectionsRejected: 0, AcceptErrors: 1, AcceptSuccess: 0 });
  });

  it('makes no accept or reject call in a dry run, and says what it would have done', async () => {
    pending(SVC_A, [conn('vpce-1', FIVETRAN), conn('vpce-2', STRANGER)]);

    const summary = await runAccept(config({ rejectUnlisted: true }), { trigger: 'manual', dryRun: true }, deps);

    expect(ec2Mock).not.toHaveReceivedCommand(AcceptVpcEndpointConnectionsCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(RejectVpcEndpointConnectionsCommand);
    expect(summary.dryRun).toBe(true);
    expect(summary.services[0]?.wouldAccept?.map((d) => d.endpointId)).toEqual(['vpce-1']);
    expect(summary.services[0]?.wouldReject?.map((d) => d.endpointId)).toEqual(['vpce-2']);
    expect(metrics()).toEqual({ PendingConnections: 2, PendingAllowlisted: 1, ConnectionsAccepted: 0, ConnectionsRejected: 0, AcceptErrors: 0, AcceptSuccess: 1 });
  });

  it('stays a dry run when DRY_RUN is set, whatever the payload says', async () => {
    pending(SVC_A, [conn('vpce-1', FIVETRAN)]);

    const summary = await runAccept(config({ dryRun: true }), { trigger: 'manual', dryRun: false }, deps);

    expect(summary.dryRun).toBe(true);
    expect(ec2Mock).not.toHaveReceivedCommand(AcceptVpcEndpointConnectionsCommand);
  });

  it('makes no accept call when nothing is pending, and still sends the metrics', async () => {
    pending(SVC_A, []);

    const summary = await runAccept(config(), scheduled, deps);

    expect(ec2Mock).not.toHaveReceivedCommand(AcceptVpcEndpointConnectionsCommand);
    expect(summary.outcome).toBe('success');
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricDataCommand, 1);
    expect(metrics()).toEqual({ PendingConnections: 0, PendingAllowlisted: 0, ConnectionsAccepted: 0, ConnectionsRejected: 0, AcceptErrors: 0, AcceptSuccess: 1 });
  });

  it('finds the service from the load balancer ARN when no service ID is configured', async () => {
    ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({ ServiceConfigurations: [{ ServiceId: SVC_B, NetworkLoadBalancerArns: [LB] }] });
    pending(SVC_B, [conn('vpce-1', FIVETRAN)]);

    const summary = await runAccept(config({ serviceIds: [], loadBalancerArns: [LB] }), scheduled, deps);

    expect(commandOrder()).toEqual([
      'DescribeVpcEndpointServiceConfigurationsCommand',
      'DescribeVpcEndpointConnectionsCommand',
      'AcceptVpcEndpointConnectionsCommand',
    ]);
    expect(ec2Mock).toHaveReceivedCommandWith(AcceptVpcEndpointConnectionsCommand, { ServiceId: SVC_B, VpcEndpointIds: ['vpce-1'] });
    expect(summary.services.map((s) => s.serviceId)).toEqual([SVC_B]);
  });

  it('fails the run when no endpoint service uses the configured load balancer', async () => {
    ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({ ServiceConfigurations: [] });

    const summary = await runAccept(config({ serviceIds: [], loadBalancerArns: [LB] }), scheduled, deps);

    expect(summary.outcome).toBe('failed');
    expect(summary.errors).toEqual([expect.objectContaining({ code: 'EndpointServiceNotFound', loadBalancerArn: LB })]);
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeVpcEndpointConnectionsCommand);
    expect(metrics()).toMatchObject({ AcceptErrors: 1 });
  });

  it('fails the run, touching nothing, when the services cannot be discovered', async () => {
    ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));

    const summary = await runAccept(config({ serviceIds: [], loadBalancerArns: [LB] }), scheduled, deps);

    expect(summary.outcome).toBe('failed');
    expect(summary.errors).toEqual([{ action: 'DescribeVpcEndpointServiceConfigurations', code: 'UnauthorizedOperation', message: 'not authorized' }]);
    expect(commandOrder()).toEqual(['DescribeVpcEndpointServiceConfigurationsCommand']);
    // A broken accept: the heartbeat says 0 (the accept-heartbeat alarm pages after a few in a row).
    expect(metrics()).toMatchObject({ AcceptErrors: 1, AcceptSuccess: 0 });
    expect(metrics()).not.toHaveProperty('PendingAllowlisted');
  });

  it('carries on with the other services when one fails, and fails the run', async () => {
    pending(SVC_A, Object.assign(new Error('You are not authorized'), { name: 'UnauthorizedOperation' }));
    pending(SVC_B, [conn('vpce-b1', FIVETRAN)]);

    const summary = await runAccept(config({ serviceIds: [SVC_A, SVC_B] }), scheduled, deps);

    expect(ec2Mock).toHaveReceivedCommandExactlyOnceWith(AcceptVpcEndpointConnectionsCommand, { ServiceId: SVC_B, VpcEndpointIds: ['vpce-b1'] });
    expect(summary.outcome).toBe('failed');
    expect(summary.services[0]).toMatchObject({ serviceId: SVC_A, pending: null, stillPending: null, errors: [{ action: 'DescribeVpcEndpointConnections', code: 'UnauthorizedOperation' }] });
    expect(summary.totals.stillPending).toBeNull();
    // One service unread: no PendingAllowlisted (unknown is not 0), and the heartbeat says 0.
    expect(metrics()).toEqual({ PendingConnections: 0, ConnectionsAccepted: 1, ConnectionsRejected: 0, AcceptErrors: 1, AcceptSuccess: 0 });
    // Unknown is not zero: no per-service PendingConnections for the service that could not be read.
    expect(metrics({ Name: 'EndpointService', Value: SVC_A })).not.toHaveProperty('PendingConnections');
  });

  it('counts every endpoint of an accept call that threw as an error, still pending', async () => {
    pending(SVC_A, [conn('vpce-1', FIVETRAN), conn('vpce-2', FIVETRAN)]);
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).rejects(Object.assign(new Error('slow down'), { name: 'RequestLimitExceeded' }));

    const summary = await runAccept(config(), scheduled, deps);

    expect(summary.outcome).toBe('failed');
    expect(summary.totals).toMatchObject({ accepted: 0, stillPending: 2, errors: 2 });
  });

  it('counts no endpoint as accepted when an Unsuccessful item names no endpoint', async () => {
    pending(SVC_A, [conn('vpce-1', FIVETRAN), conn('vpce-2', FIVETRAN)]);
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({ Unsuccessful: [{ Error: { Code: 'InternalError', Message: 'try later' } }] });

    const summary = await runAccept(config(), scheduled, deps);

    expect(summary.outcome).toBe('failed');
    expect(summary.services[0]?.accepted).toEqual([]);
    expect(summary.totals).toMatchObject({ accepted: 0, stillPending: 2, errors: 2 });
    expect(metrics()).toMatchObject({ PendingConnections: 2, ConnectionsAccepted: 0, AcceptErrors: 2 });
  });

  it.each([
    ['EC2 does not know', [{ ServiceId: SVC_A }]],
    ['this account does not own (not in its own listing)', []],
  ])('fails the run for an ENDPOINT_SERVICE_IDS entry %s, instead of reporting 0 pending', async (_what, own) => {
    ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({ ServiceConfigurations: own });
    pending(SVC_B, []);

    const summary = await runAccept(config({ serviceIds: [SVC_B] }), scheduled, deps);

    expect(summary.outcome).toBe('failed');
    expect(summary.errors).toEqual([
      {
        action: 'DescribeVpcEndpointServiceConfigurations',
        serviceId: SVC_B,
        code: 'EndpointServiceNotFound',
        message: `${SVC_B} is not an endpoint service of this account in this region (a wrong ID, another account's service or another region): check ENDPOINT_SERVICE_IDS`,
      },
    ]);
    expect(summary.totals).toMatchObject({ stillPending: null, errors: 1 });
    expect(ec2Mock).not.toHaveReceivedCommand(DescribeVpcEndpointConnectionsCommand);
    expect(metrics()).toMatchObject({ AcceptErrors: 1 });
  });

  it('checks the configured services against one listing of this account\'s services per run', async () => {
    pending(SVC_A, []);
    pending(SVC_B, []);

    await runAccept(config({ serviceIds: [SVC_A, SVC_B] }), scheduled, deps);

    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeVpcEndpointServiceConfigurationsCommand, 1);
  });

  it('does not fail a good run because CloudWatch refused the metrics', async () => {
    pending(SVC_A, [conn('vpce-1', FIVETRAN)]);
    cwMock.on(PutMetricDataCommand).rejects(new Error('AccessDenied'));

    const summary = await runAccept(config(), scheduled, deps);

    expect(summary).toMatchObject({ outcome: 'success', metricsSent: false });
    expect(log.error).toHaveBeenCalledWith('metrics not sent', expect.anything());
  });

  it('writes one summary log line with trigger, dry run, per-service decisions, duration and outcome', async () => {
    pending(SVC_A, [conn('vpce-1', FIVETRAN), conn('vpce-2', STRANGER)]);

    await runAccept(config(), scheduled, deps);

    expect(log.info).toHaveBeenCalledTimes(1);
    expect(log.info).toHaveBeenCalledWith('accept run', {
      trigger: 'schedule',
      dryRun: false,
      outcome: 'success',
      durationMs: 5,
      services: [
        {
          serviceId: SVC_A,
          pending: 2,
          accepted: [{ endpointId: 'vpce-1', owner: FIVETRAN, reason: 'owner allowlisted' }],
          rejected: [],
          left: [{ endpointId: 'vpce-2', owner: STRANGER, reason: 'owner not allowlisted' }],
          stillPending: 1,
          stillPendingAllowlisted: 0,
          errors: [],
        },
      ],
      errors: [],
      totals: { pending: 2, accepted: 1, rejected: 0, left: 1, stillPending: 1, errors: 0 },
      metricsSent: true,
    });
  });

  it.each([
    ['another event type', { eventType: 'Delete' }],
    ['an unreadable message', { unreadable: 'SNS message is not JSON: hello' }],
  ])('runs a full accept pass for a notification with %s', async (_what, notification) => {
    pending(SVC_A, [conn('vpce-1', FIVETRAN)]);

    const summary = await runAccept(config(), { trigger: 'notification', dryRun: false, notification }, deps);

    expect(summary).toMatchObject({ outcome: 'success', notification, totals: { accepted: 1 } });
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeVpcEndpointConnectionsCommand, 1);
  });
});

describe('handler (functions/accept.ts)', () => {
  // A fresh module graph per test, as on a cold start: config is read when functions/accept.ts
  // loads. Error classes come from the same graph, or instanceof would compare different copies.
  async function coldStart(env: Record<string, string> = {}) {
    resetForColdStart({ ENDPOINT_SERVICE_IDS: SVC_A, ...env });
    const errors = await import('../../lib/errors.js');
    const { ConfigError } = await import('../../lib/config.js');
    return { ...errors, ConfigError, load: async () => (await import('../../functions/accept.js')).handler };
  }
  const loadHandler = async () => (await coldStart()).load();

  it('accepts immediately when the endpoint service notifies a Connect over SNS', async () => {
    const handler = await loadHandler();
    pending(SVC_A, [conn('vpce-0f1e2d3c4b5a69788', FIVETRAN)]);

    const summary = (await handler(fixture('sns-connection-notification.json'), lambdaContext())) as AcceptSummary;

    expect(summary).toMatchObject({ trigger: 'notification', outcome: 'success', notification: { eventType: 'Connect' } });
    expect(ec2Mock).toHaveReceivedCommandWith(AcceptVpcEndpointConnectionsCommand, { ServiceId: SVC_A, VpcEndpointIds: ['vpce-0f1e2d3c4b5a69788'] });
  });

  it('accepts on an SNS record whose message does not parse, instead of failing the invocation', async () => {
    const handler = await loadHandler();
    pending(SVC_A, [conn('vpce-1', FIVETRAN)]);
    const event = fixture('sns-connection-notification.json') as { Records: { Sns: { Message: string } }[] };
    event.Records[0]!.Sns.Message = 'Endpoint vpce-1 for service x is in state pendingAcceptance';

    const summary = (await handler(event, lambdaContext())) as AcceptSummary;

    expect(summary).toMatchObject({ trigger: 'notification', outcome: 'success', totals: { accepted: 1 } });
    expect(summary.notification?.unreadable).toMatch(/^SNS message is not JSON/);
  });

  it('runs on the EventBridge schedule and returns the summary', async () => {
    const handler = await loadHandler();
    pending(SVC_A, []);

    const summary = (await handler(fixture('scheduled.json'), lambdaContext())) as AcceptSummary;

    expect(summary).toMatchObject({ trigger: 'schedule', outcome: 'success' });
  });

  it('refuses an unknown payload with InvalidPayloadError before any AWS call', async () => {
    const { InvalidPayloadError, load } = await coldStart();
    const handler = await load();

    await expect(handler({ dryrun: true }, lambdaContext())).rejects.toThrow(InvalidPayloadError);
    expect(ec2Mock.calls()).toHaveLength(0);
    expect(cwMock.calls()).toHaveLength(0);
  });

  it('logs the summary and sends the metrics, then throws RunFailedError on a failed run', async () => {
    const info = vi.spyOn(Logger.prototype, 'info');
    const { RunFailedError, load } = await coldStart();
    const handler = await load();
    pending(SVC_A, [conn('vpce-1', FIVETRAN)]);
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({ Unsuccessful: [{ ResourceId: 'vpce-1', Error: { Code: 'Client.Error', Message: 'no' } }] });

    await expect(handler(undefined, lambdaContext())).rejects.toThrow(RunFailedError);
    expect(info).toHaveBeenCalledWith('accept run', expect.objectContaining({ trigger: 'manual', outcome: 'failed' }));
    expect(cwMock).toHaveReceivedCommandTimes(PutMetricDataCommand, 1);
  });

  it('fails the cold start on a malformed ALLOWED_PRINCIPALS entry, before any AWS call', async () => {
    const { ConfigError, load } = await coldStart({ ALLOWED_PRINCIPALS: `${FIVETRAN},arn:aws:iam::${STRANGER}:user/bob` });
    await expect(load()).rejects.toThrow(ConfigError);
    await expect(load()).rejects.toThrow(/ALLOWED_PRINCIPALS\[1\] "arn:aws:iam::111122223333:user\/bob" is not a 12-digit AWS account ID/);
    expect(ec2Mock.calls()).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------

function conn(endpointId: string, owner: string, serviceId = SVC_A): VpcEndpointConnection {
  return { ServiceId: serviceId, VpcEndpointId: endpointId, VpcEndpointOwner: owner, VpcEndpointState: 'pendingAcceptance' as never };
}

/** What DescribeVpcEndpointConnections answers per service (an Error: it throws), read from the request's filters. */
let listings: Map<string, VpcEndpointConnection[] | Error>;

function pending(serviceId: string, connections: VpcEndpointConnection[] | Error) {
  listings.set(serviceId, connections instanceof Error ? connections : connections.map((c) => ({ ...c, ServiceId: serviceId })));
  ec2Mock.on(DescribeVpcEndpointConnectionsCommand).callsFake(async (input: DescribeVpcEndpointConnectionsCommandInput) => {
    const serviceId = input.Filters?.find((f) => f.Name === 'service-id')?.Values?.[0] ?? '';
    const listing = listings.get(serviceId) ?? [];
    if (listing instanceof Error) throw listing;
    return { VpcEndpointConnections: listing };
  });
}

function commandOrder(): string[] {
  return ec2Mock.calls().map((call) => call.args[0].constructor.name);
}

/** The run's one PutMetricData, as name -> value for the given dimension (none: the alarm series). */
function metrics(dimension?: { Name: string; Value: string }): Record<string, number | undefined> {
  const calls = cwMock.commandCalls(PutMetricDataCommand);
  expect(calls).toHaveLength(1);
  const data = calls[0]?.args[0].input.MetricData ?? [];
  const matching = data.filter((d) =>
    dimension ? d.Dimensions?.length === 1 && d.Dimensions[0]?.Name === dimension.Name && d.Dimensions[0]?.Value === dimension.Value : d.Dimensions?.length === 0,
  );
  return Object.fromEntries(matching.map((d) => [d.MetricName, d.Value]));
}

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../events/${name}`, import.meta.url), 'utf8'));
}

function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'rds-nlb-sync-test-accept',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:rds-nlb-sync-test-accept',
    memoryLimitInMB: '256',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    logGroupName: '/aws/lambda/rds-nlb-sync-test-accept',
    logStreamName: '2025/06/02/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
