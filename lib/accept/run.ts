// One accept run: find the endpoint services, list their pending connections, accept those from
// allowlisted accounts (and reject or leave the others), then one PutMetricData and one summary
// log line. The safety rule: an owner that is not on the allowlist is never accepted.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { AcceptConfig } from '../config.js';
import {
  acceptConnections,
  failAll,
  findServicesForLoadBalancers,
  listOwnServices,
  listPendingConnections,
  rejectConnections,
  type ConnectionsChanged,
} from '../aws/endpoint-connections.js';
import { describeError, type Log } from '../log.js';
import { MetricsBatch } from '../aws/metrics.js';
import { decideConnections, type Decision, type Decisions } from './decide.js';
import type { AcceptRequest, AcceptTrigger, ConnectionNotice } from './event.js';

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
  /** Known to be pending after the run (left, failed, or untouched in a dry run); null when unknown. */
  stillPending: number | null;
  /** Of those, the allowlisted ones (Fivetran waiting: failed accepts, or a dry run); null when unknown. */
  stillPendingAllowlisted: number | null;
  errors: AcceptError[];
}

export interface AcceptSummary {
  trigger: AcceptTrigger;
  outcome: 'success' | 'failed';
  dryRun: boolean;
  durationMs: number;
  services: ServiceResult[];
  /** Errors that belong to no single service (discovery). */
  errors: AcceptError[];
  /** stillPending: null when a service's connections could not be listed (unknown is not 0). */
  totals: { pending: number; accepted: number; rejected: number; left: number; stillPending: number | null; errors: number };
  metricsSent: boolean;
  notification?: ConnectionNotice;
}

export async function runAccept(config: AcceptConfig, request: AcceptRequest, deps: AcceptDeps): Promise<AcceptSummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  const dryRun = request.dryRun || config.dryRun;
  // A notification always starts a full pass, whatever it says: its message is for the log only.
  const base = { trigger: request.trigger, dryRun, ...(request.notification ? { notification: request.notification } : {}) };

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

/** The fields of an `accept error` log line: the error text as `errorMessage`, since Powertools drops a `message` key. */
export function errorLogFields(error: AcceptError): Record<string, unknown> {
  const { message, ...rest } = error;
  return { ...rest, errorMessage: message };
}

/**
 * ENDPOINT_SERVICE_IDS when set (each checked to be one of this account's services: an unknown
 * or foreign ID would otherwise read as "0 pending" forever), else the services in front of
 * LOAD_BALANCER_ARNS.
 */
async function resolveServices(config: AcceptConfig, deps: AcceptDeps, errors: AcceptError[]): Promise<string[]> {
  const fail = (error: AcceptError) => {
    errors.push(error);
    deps.log.error('accept error', errorLogFields(error));
  };
  if (config.serviceIds.length > 0) {
    try {
      const own = await listOwnServices(deps.ec2);
      for (const serviceId of config.serviceIds.filter((id) => !own.has(id))) {
        fail({
          action: 'DescribeVpcEndpointServiceConfigurations',
          serviceId,
          code: 'EndpointServiceNotFound',
          message: `${serviceId} is not an endpoint service of this account in this region (a wrong ID, another account's service or another region): check ENDPOINT_SERVICE_IDS`,
        });
      }
      return config.serviceIds.filter((id) => own.has(id));
    } catch (err) {
      const { name, message } = describeError(err);
      fail({ action: 'DescribeVpcEndpointServiceConfigurations', code: name, message });
      return [];
    }
  }
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
  const result: ServiceResult = { serviceId, pending: null, accepted: [], rejected: [], left: [], stillPending: null, stillPendingAllowlisted: null, errors: [] };
  const fail = (error: AcceptError) => {
    result.errors.push(error);
    deps.log.error('accept error', errorLogFields(error));
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
    Object.assign(result, { wouldAccept: decisions.accept, wouldReject: decisions.reject, stillPending: result.pending, stillPendingAllowlisted: decisions.accept.length });
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
  result.stillPendingAllowlisted = decisions.accept.length - result.accepted.length;
  return result;
}

function totalsOf(services: ServiceResult[], runErrors: AcceptError[]): AcceptSummary['totals'] {
  const sum = (f: (s: ServiceResult) => number) => services.reduce((n, s) => n + f(s), 0);
  return {
    pending: sum((s) => s.pending ?? 0),
    accepted: sum((s) => s.accepted.length),
    rejected: sum((s) => s.rejected.length),
    left: sum((s) => s.left.length),
    // Unknown when a service could not be listed or the services could not be found.
    stillPending: runErrors.length > 0 || services.some((s) => s.stillPending === null) ? null : sum((s) => s.stillPending ?? 0),
    errors: runErrors.length + sum((s) => s.errors.length),
  };
}

function acceptMetrics(services: ServiceResult[], totals: AcceptSummary['totals']): MetricsBatch {
  const batch = new MetricsBatch();
  // Dimensionless series first: these are what the alarms watch.
  // The services that could be listed: a lower bound when one could not (AcceptErrors fires then).
  const knownPending = services.reduce((n, s) => n + (s.stillPending ?? 0), 0);
  batch
    .add('PendingConnections', knownPending)
    .add('ConnectionsAccepted', totals.accepted)
    .add('ConnectionsRejected', totals.rejected)
    .add('AcceptErrors', totals.errors)
    // The accept heartbeat: 1 per clean run. A run that could not list or decide is 0, so a
    // broken accept pages after a few runs in a row (invocations alone count failed runs too).
    .add('AcceptSuccess', totals.errors === 0 ? 1 : 0);
  // What pages: allowlisted owners (Fivetran) still waiting. Unlisted owners' connections stay in
  // PendingConnections (dashboard, logs) and never hold the page. Unknown (a service not listed)
  // publishes no datum.
  if (totals.stillPending !== null) batch.add('PendingAllowlisted', services.reduce((n, s) => n + (s.stillPendingAllowlisted ?? 0), 0));
  for (const s of services) {
    const dims = { EndpointService: s.serviceId };
    // Unknown (listing failed) is not zero: no PendingConnections datum for that service.
    if (s.stillPending !== null) batch.add('PendingConnections', s.stillPending, 'Count', dims);
    batch
      .add('ConnectionsAccepted', s.accepted.length, 'Count', dims)
      .add('ConnectionsRejected', s.rejected.length, 'Count', dims)
      .add('AcceptErrors', s.errors.length, 'Count', dims);
  }
  return batch;
}
