// The exact fields of the accept log lines the documented Logs Insights queries read, as a real
// Powertools Logger writes them (it drops reserved keys such as `message` from the extra fields,
// which a recording fake would never show).
import { Logger } from '@aws-lambda-powertools/logger';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  AcceptVpcEndpointConnectionsCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runAccept } from '../../lib/accept/run.js';
import type { AcceptConfig } from '../../lib/config.js';

const SVC = 'vpce-svc-0aaaaaaaaaaaaaaa0';
const FIVETRAN = '834469178297';
const STRANGER = '111122223333';
const config: AcceptConfig = { serviceIds: [SVC], loadBalancerArns: [], allowedAccounts: [FIVETRAN], rejectUnlisted: false, metricsNamespace: 'RdsNlbSync', dryRun: false };

const ec2Mock = mockClient(EC2Client);
const cwMock = mockClient(CloudWatchClient);

/** A real Logger whose JSON lines land in `lines`. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const write = (chunk: unknown) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(write);
  vi.spyOn(process.stderr, 'write').mockImplementation(write);
  const logger = new Logger({ serviceName: 'rds-nlb-sync', logLevel: 'INFO' });
  return { logger, lines };
}

beforeEach(() => {
  ec2Mock.reset();
  cwMock.reset();
  cwMock.on(PutMetricDataCommand).resolves({});
  ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({ ServiceConfigurations: [{ ServiceId: SVC }] });
  ec2Mock.on(DescribeVpcEndpointConnectionsCommand).resolves({
    VpcEndpointConnections: [
      { ServiceId: SVC, VpcEndpointId: 'vpce-1', VpcEndpointOwner: FIVETRAN, VpcEndpointState: 'pendingAcceptance' as never },
      { ServiceId: SVC, VpcEndpointId: 'vpce-2', VpcEndpointOwner: STRANGER, VpcEndpointState: 'pendingAcceptance' as never },
    ],
  });
});
afterEach(() => vi.restoreAllMocks());

describe('accept log lines, as Powertools writes them', () => {
  it('"accept error" carries the error text in errorMessage, next to action, serviceId, endpointId and code', async () => {
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({ Unsuccessful: [{ ResourceId: 'vpce-1', Error: { Code: 'InvalidState', Message: 'endpoint is not pending' } }] });
    const { logger, lines } = capturedLogger();

    await runAccept(config, { trigger: 'schedule', dryRun: false }, { ec2: new EC2Client({}), cloudwatch: new CloudWatchClient({}), log: logger });

    expect(lines.filter((l) => l.message === 'accept error')).toEqual([
      {
        level: 'ERROR',
        message: 'accept error',
        timestamp: expect.any(String),
        service: 'rds-nlb-sync',
        sampling_rate: 0,
        action: 'AcceptVpcEndpointConnections',
        serviceId: SVC,
        endpointId: 'vpce-1',
        code: 'InvalidState',
        errorMessage: 'endpoint is not pending',
      },
    ]);
    // No reserved key was passed (Powertools would have warned that it dropped it).
    expect(lines.filter((l) => String(l.message).includes('reserved key'))).toEqual([]);
  });

  it('"accept run" carries every field the documented queries read', async () => {
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({ Unsuccessful: [] });
    const { logger, lines } = capturedLogger();

    await runAccept(config, { trigger: 'schedule', dryRun: false }, { ec2: new EC2Client({}), cloudwatch: new CloudWatchClient({}), log: logger, now: () => 1000 });

    expect(lines).toEqual([
      {
        level: 'INFO',
        message: 'accept run',
        timestamp: expect.any(String),
        service: 'rds-nlb-sync',
        sampling_rate: 0,
        trigger: 'schedule',
        dryRun: false,
        outcome: 'success',
        durationMs: 0,
        services: [
          {
            serviceId: SVC,
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
      },
    ]);
  });
});
