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
import { Gate, within } from '../deadline.js';
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

/** Kept back from the Lambda deadline: EC2 work stops here, for the metrics and the summary line. */
export const ACCEPT_LOG_MARGIN_MS = 2500;
/** PutMetricData gives up here: the summary line is written after it. */
const METRICS_MARGIN_MS = 500;

/** What the run has found so far: at the deadline, the summary is made of this. */
interface Progress {
  runErrors: AcceptError[];
  services: ServiceResult[];
  /** The service being worked on, and the EC2 call in progress. */
  current?: ServiceResult;
  action: AcceptError['action'];
  serviceIds?: string[];
  gate: Gate;
}

export async function runAccept(config: AcceptConfig, request: AcceptRequest, deps: AcceptDeps): Promise<AcceptSummary> {
  const now = deps.now ?? Date.now;
  const started = now();
  const dryRun = request.dryRun || config.dryRun;
  // A notification always starts a full pass, whatever it says: its message is for the log only.
  const base = { trigger: request.trigger, dryRun, ...(request.notification ? { notification: request.notification } : {}) };
  const deadline = request.deadline ?? Infinity;

  const progress: Progress = { runErrors: [], services: [], action: 'DescribeVpcEndpointServiceConfigurations', gate: new Gate() };
  // Rule 9: an EC2 API that accepts connections and never answers must not cost the summary and metrics.
  const finished = await within(acceptAll(config, dryRun, deps, progress), deadline - ACCEPT_LOG_MARGIN_MS - Date.now());
  const { services, runErrors } = finished.done ? progress : givenUp(progress, deps);

  const totals = totalsOf(services, runErrors);
  const flushed = await within(acceptMetrics(services, totals).flush(deps.cloudwatch, config.metricsNamespace, deps.log), deadline - METRICS_MARGIN_MS - Date.now());
  if (!flushed.done) {
    deps.log.error('metrics not sent', {
      namespace: config.metricsNamespace,
      error: { name: 'DeadlineError', message: 'PutMetricData did not answer before the Lambda deadline: check the route to CloudWatch (NAT or the monitoring VPC endpoint)' },
    });
  }
  const metricsSent = flushed.done && flushed.value;
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

async function acceptAll(config: AcceptConfig, dryRun: boolean, deps: AcceptDeps, progress: Progress): Promise<void> {
  progress.serviceIds = await resolveServices(config, deps, progress.runErrors);
  // One service at a time: there are one or two, and a failure in one must not stop the next.
  for (const serviceId of progress.serviceIds) progress.services.push(await acceptForService(serviceId, config, dryRun, deps, progress));
}

/**
 * The deadline came first: the gate closes (the abandoned pass accepts or rejects nothing later,
 * when Lambda thaws it), and what was not done is reported as a DeadlineError: the service being
 * worked on and those not started have no PendingConnections datum (unknown, not 0).
 */
function givenUp(progress: Progress, deps: AcceptDeps): Pick<Progress, 'services' | 'runErrors'> {
  progress.gate.close();
  const why = 'did not finish before the Lambda deadline: EC2 did not answer in time (check the route to the ec2 API: NAT or its interface VPC endpoint); the next run completes it';
  const error = (serviceId: string | undefined, action: AcceptError['action'], message: string): AcceptError => ({ action, ...(serviceId ? { serviceId } : {}), code: 'DeadlineError', message });
  const log = (e: AcceptError) => {
    deps.log.error('accept error', errorLogFields(e));
    return e;
  };
  // A copy: the abandoned pass may still change its own objects.
  const services: ServiceResult[] = structuredClone(progress.services);
  const runErrors = [...progress.runErrors];
  if (!progress.serviceIds) {
    runErrors.push(log(error(undefined, progress.action, `${progress.action} ${why}`)));
    return { services, runErrors };
  }
  const done = new Set(services.map((s) => s.serviceId));
  for (const serviceId of progress.serviceIds.filter((id) => !done.has(id))) {
    const current = progress.current?.serviceId === serviceId ? structuredClone(progress.current) : undefined;
    const result: ServiceResult = current ?? { serviceId, pending: null, accepted: [], rejected: [], left: [], stillPending: null, stillPendingAllowlisted: null, errors: [] };
    // What is still pending after an interrupted accept is not known.
    result.stillPending = null;
    result.stillPendingAllowlisted = null;
    result.errors.push(log(error(serviceId, current ? progress.action : 'DescribeVpcEndpointConnections', current ? `${progress.action} ${why}` : `not started: the run reached the Lambda deadline first`)));
    services.push(result);
  }
  return { services, runErrors };
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

async function acceptForService(serviceId: string, config: AcceptConfig, dryRun: boolean, deps: AcceptDeps, progress: Progress): Promise<ServiceResult> {
  const result: ServiceResult = { serviceId, pending: null, accepted: [], rejected: [], left: [], stillPending: null, stillPendingAllowlisted: null, errors: [] };
  progress.current = result;
  progress.action = 'DescribeVpcEndpointConnections';
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
    // Given up at the deadline: the summary is written already; nothing changes after it.
    if (!progress.gate.open) return [];
    progress.action = action;
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
