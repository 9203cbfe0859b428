// One accept run: find the endpoint services, list their pending connections, accept those from
// allowlisted accounts (and reject or leave the others), then one PutMetricData and one summary
// log line. The safety rule: an owner that is not on the allowlist is never accepted.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { EC2Client } from '@aws-sdk/client-ec2';
import * as z from 'zod/mini';
import type { AcceptConfig } from './config.js';
import {
  acceptConnections,
  failAll,
  findServicesForLoadBalancers,
  listPendingConnections,
  rejectConnections,
  type ConnectionsChanged,
} from './endpoint-connections.js';
import { InvalidPayloadError } from './errors.js';
import { describeError, type Log } from './log.js';
import { MetricsBatch } from './metrics.js';
import { parsePayload } from './payload.js';

// ---------------------------------------------------------------------------------------------
// The decision (pure)

export interface ConnectionRequest {
  endpointId: string;
  /** VpcEndpointOwner: the consumer's account ID. */
  owner?: string;
}

export interface Decision {
  endpointId: string;
  /** null when EC2 did not name the owner. */
  owner: string | null;
  reason: string;
}

export interface Decisions {
  accept: Decision[];
  reject: Decision[];
  leave: Decision[];
}

export interface DecideOptions {
  /** Reject connections from unlisted owners instead of leaving them pending. */
  rejectUnlisted: boolean;
}

export function decideConnections(connections: ConnectionRequest[], allowedAccounts: readonly string[], options: DecideOptions): Decisions {
  const allowed = new Set(allowedAccounts);
  const decisions: Decisions = { accept: [], reject: [], leave: [] };
  const seen = new Set<string>();
  for (const { endpointId, owner } of connections) {
    if (seen.has(endpointId)) continue;
    seen.add(endpointId);
    if (!owner) {
      // Cannot be shown to be on the list, and rejecting on missing data is not ours to do.
      decisions.leave.push({ endpointId, owner: null, reason: 'owner unknown' });
    } else if (allowed.has(owner)) {
      decisions.accept.push({ endpointId, owner, reason: 'owner allowlisted' });
    } else if (options.rejectUnlisted) {
      decisions.reject.push({ endpointId, owner, reason: 'owner not allowlisted (REJECT_UNLISTED)' });
    } else {
      decisions.leave.push({ endpointId, owner, reason: 'owner not allowlisted' });
    }
  }
  return decisions;
}

// ---------------------------------------------------------------------------------------------
// Triggers

export type AcceptTrigger = 'schedule' | 'notification' | 'manual';

export interface ConnectionNotice {
  eventType: string;
  endpointId?: string;
  serviceId?: string;
}

export interface AcceptRequest {
  trigger: AcceptTrigger;
  dryRun: boolean;
  /** The SNS connection notification that started the run. */
  notification?: ConnectionNotice;
}

// AWS envelopes are matched on their identifying fields and may carry more (AWS adds fields);
// the manual payload is strict so that a typo ({"dryrun": true}) fails instead of running for real.
const scheduledEvent = z.looseObject({ source: z.literal('aws.events'), 'detail-type': z.literal('Scheduled Event') });
const snsEvent = z.looseObject({
  Records: z.array(z.looseObject({ EventSource: z.literal('aws:sns'), Sns: z.looseObject({ Message: z.string() }) })).check(z.minLength(1)),
});
const connectionNotice = z.looseObject({
  eventType: z.string().check(z.minLength(1)),
  endpointId: z.optional(z.string()),
  serviceId: z.optional(z.string()),
});
const manualPayload = z.strictObject({ dryRun: z.optional(z.boolean()) });

const EXPECTED =
  'expected an EventBridge "Scheduled Event", an SNS VPC endpoint connection notification, or a manual payload {"dryRun"?: boolean} (or none)';

/** Event -> request, before any AWS call; anything else is an InvalidPayloadError. */
export function parseAcceptEvent(event: unknown): AcceptRequest {
  if (event === undefined || event === null) return { trigger: 'manual', dryRun: false };
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidPayloadError(`Invalid accept payload (${Array.isArray(event) ? 'array' : typeof event}): ${EXPECTED}`);
  }
  if ('Records' in event) {
    const records = parse(snsEvent, event, 'SNS event').Records;
    const notices = records.map((r) => parseNotice(r.Sns.Message));
    // SNS delivers one record per invocation; should that change, any Connect starts the run.
    const notice = notices.find((n) => n.eventType === 'Connect') ?? notices[0];
    return { trigger: 'notification', dryRun: false, ...(notice ? { notification: notice } : {}) };
  }
  if ('source' in event || 'detail-type' in event) {
    parse(scheduledEvent, event, 'scheduled event');
    return { trigger: 'schedule', dryRun: false };
  }
  const manual = parse(manualPayload, event, 'manual payload');
  return { trigger: 'manual', dryRun: manual.dryRun ?? false };
}

function parseNotice(message: string): ConnectionNotice {
  let body: unknown;
  try {
    body = JSON.parse(message);
  } catch {
    throw new InvalidPayloadError(`Invalid accept payload: the SNS message is not JSON, so not a VPC endpoint connection notification: ${EXPECTED}`);
  }
  const { eventType, endpointId, serviceId } = parse(connectionNotice, body, 'SNS message');
  return { eventType, ...(endpointId ? { endpointId } : {}), ...(serviceId ? { serviceId } : {}) };
}

const parse = <T extends z.ZodMiniType>(schema: T, value: unknown, what: string) => parsePayload(schema, value, `accept payload (${what})`, EXPECTED);

// ---------------------------------------------------------------------------------------------
// The run

export interface AcceptDeps {
  ec2: EC2Client;
  cloudwatch: CloudWatchClient;
  log: Log;
  now?: () => number;
}

export interface AcceptError {
  action: 'DescribeVpcEndpointServiceConfigurations' | 'DescribeVpcEndpointConnections' | 'AcceptVpcEndpointConnections' | 'RejectVpcEndpointConnections';
  serviceId?: string;
  endpointId?: string;
  loadBalancerArn?: string;
  code: string;
  message: string;
}

export interface ServiceResult {
  serviceId: string;
  /** Connections in pendingAcceptance at the start; null when they could not be listed. */
  pending: number | null;
  accepted: Decision[];
  rejected: Decision[];
  left: Decision[];
  /** Dry run only: what a real run would have accepted / rejected. */
  wouldAccept?: Decision[];
  wouldReject?: Decision[];
  /** Known to be pending after the run (left, failed, or untouched in a dry run). */
  stillPending: number;
  errors: AcceptError[];
}

export interface AcceptSummary {
  trigger: AcceptTrigger;
  /** skipped: a notification for another event (Accept, Reject, Delete); nothing to do. */
  outcome: 'success' | 'failed' | 'skipped';
  dryRun: boolean;
  durationMs: number;
  services: ServiceResult[];
  /** Errors that belong to no single service (discovery). */
  errors: AcceptError[];
  totals: { pending: number; accepted: number; rejected: number; left: number; stillPending: number; errors: number };
  metricsSent: boolean;
  notification?: ConnectionNotice;
}

export async function runAccept(config: AcceptConfig, request: AcceptRequest, deps: AcceptDeps): Promise<AcceptSummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  const dryRun = request.dryRun || config.dryRun;
  const base = { trigger: request.trigger, dryRun, ...(request.notification ? { notification: request.notification } : {}) };

  if (request.notification && request.notification.eventType !== 'Connect') {
    const summary: AcceptSummary = { ...base, outcome: 'skipped', durationMs: now() - started, services: [], errors: [], totals: totalsOf([], []), metricsSent: false };
    deps.log.info('accept run', { ...summary });
    return summary;
  }

  const runErrors: AcceptError[] = [];
  const serviceIds = await resolveServices(config, deps, runErrors);
  // One service at a time: there are one or two, and a failure in one must not stop the next.
  const services: ServiceResult[] = [];
  for (const serviceId of serviceIds) services.push(await acceptForService(serviceId, config, dryRun, deps));

  const totals = totalsOf(services, runErrors);
  const metricsSent = await acceptMetrics(services, totals).flush(deps.cloudwatch, config.metricsNamespace, deps.log);
  const summary: AcceptSummary = {
    ...base,
    outcome: totals.errors > 0 ? 'failed' : 'success',
    durationMs: now() - started,
    services,
    errors: runErrors,
    totals,
    metricsSent,
  };
  deps.log.info('accept run', { ...summary });
  return summary;
}

/** ENDPOINT_SERVICE_IDS when set, else the services in front of LOAD_BALANCER_ARNS. */
async function resolveServices(config: AcceptConfig, deps: AcceptDeps, errors: AcceptError[]): Promise<string[]> {
  if (config.serviceIds.length > 0) return config.serviceIds;
  const fail = (error: AcceptError) => {
    errors.push(error);
    deps.log.error('accept error', { ...error });
  };
  try {
    const found = await findServicesForLoadBalancers(deps.ec2, config.loadBalancerArns);
    for (const [loadBalancerArn, ids] of found) {
      if (ids.length === 0) {
        fail({
          action: 'DescribeVpcEndpointServiceConfigurations',
          loadBalancerArn,
          code: 'EndpointServiceNotFound',
          message: `no VPC endpoint service of this account uses load balancer ${loadBalancerArn}`,
        });
      }
    }
    return [...new Set([...found.values()].flat())];
  } catch (err) {
    const { name, message } = describeError(err);
    fail({ action: 'DescribeVpcEndpointServiceConfigurations', code: name, message });
    return [];
  }
}

async function acceptForService(serviceId: string, config: AcceptConfig, dryRun: boolean, deps: AcceptDeps): Promise<ServiceResult> {
  const result: ServiceResult = { serviceId, pending: null, accepted: [], rejected: [], left: [], stillPending: 0, errors: [] };
  const fail = (error: AcceptError) => {
    result.errors.push(error);
    deps.log.error('accept error', { ...error });
  };

  let decisions: Decisions;
  try {
    const pending = await listPendingConnections(deps.ec2, serviceId);
    decisions = decideConnections(pending, config.allowedAccounts, { rejectUnlisted: config.rejectUnlisted });
    result.pending = decisions.accept.length + decisions.reject.length + decisions.leave.length;
  } catch (err) {
    const { name, message } = describeError(err);
    fail({ action: 'DescribeVpcEndpointConnections', serviceId, code: name, message });
    return result;
  }
  result.left = decisions.leave;

  if (dryRun) {
    Object.assign(result, { wouldAccept: decisions.accept, wouldReject: decisions.reject, stillPending: result.pending });
    return result;
  }

  const change = async (action: 'AcceptVpcEndpointConnections' | 'RejectVpcEndpointConnections', wanted: Decision[]): Promise<Decision[]> => {
    if (wanted.length === 0) return [];
    const ids = wanted.map((d) => d.endpointId);
    let outcome: ConnectionsChanged;
    try {
      outcome = await (action === 'AcceptVpcEndpointConnections' ? acceptConnections : rejectConnections)(deps.ec2, serviceId, ids);
    } catch (err) {
      outcome = { done: [], failed: failAll(ids, err) };
    }
    outcome.failed.forEach((f) => fail({ action, serviceId, ...f }));
    const done = new Set(outcome.done);
    return wanted.filter((d) => done.has(d.endpointId));
  };
  result.accepted = await change('AcceptVpcEndpointConnections', decisions.accept);
  result.rejected = await change('RejectVpcEndpointConnections', decisions.reject);
  result.stillPending = (result.pending ?? 0) - result.accepted.length - result.rejected.length;
  return result;
}

function totalsOf(services: ServiceResult[], runErrors: AcceptError[]): AcceptSummary['totals'] {
  const sum = (f: (s: ServiceResult) => number) => services.reduce((n, s) => n + f(s), 0);
  return {
    pending: sum((s) => s.pending ?? 0),
    accepted: sum((s) => s.accepted.length),
    rejected: sum((s) => s.rejected.length),
    left: sum((s) => s.left.length),
    stillPending: sum((s) => s.stillPending),
    errors: runErrors.length + sum((s) => s.errors.length),
  };
}

function acceptMetrics(services: ServiceResult[], totals: AcceptSummary['totals']): MetricsBatch {
  const batch = new MetricsBatch();
  // Dimensionless series first: these are what the alarms watch.
  batch
    .add('PendingConnections', totals.stillPending)
    .add('ConnectionsAccepted', totals.accepted)
    .add('ConnectionsRejected', totals.rejected)
    .add('AcceptErrors', totals.errors);
  for (const s of services) {
    const dims = { EndpointService: s.serviceId };
    // Unknown (listing failed) is not zero: no PendingConnections datum for that service.
    if (s.pending !== null) batch.add('PendingConnections', s.stillPending, 'Count', dims);
    batch
      .add('ConnectionsAccepted', s.accepted.length, 'Count', dims)
      .add('ConnectionsRejected', s.rejected.length, 'Count', dims)
      .add('AcceptErrors', s.errors.length, 'Count', dims);
  }
  return batch;
}
