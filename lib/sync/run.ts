// One sync run: for every mapping resolve, compare, register new targets, then deregister
// stale ones; then one PutMetricData and one summary log line for the whole run.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { RDSClient } from '@aws-sdk/client-rds';
import pLimit from 'p-limit';
import type { Mapping, SyncConfig } from '../config.js';
import { DnsError, type ResolveEndpoint } from '../dns.js';
import { describeError, type Log } from '../log.js';
import { MetricsBatch, targetGroupDimension } from '../aws/metrics.js';
import { isDraining, planTargets, type Plan, type PlanReason, type RegisteredTarget, type Resolution } from './plan.js';
import { deregisterTargets, describeTargets, registerTargets } from '../aws/targets.js';
import { resolveDesired, type DesiredDeps, type MemberResult } from './members.js';

export interface SyncDeps {
  elb: ElasticLoadBalancingV2Client;
  cloudwatch: CloudWatchClient;
  resolve: ResolveEndpoint;
  /** Reader and custom endpoint mappings list their members with it (lib/sync/members.ts). */
  rds?: RDSClient;
  log: Log;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type Trigger = 'schedule' | 'rds-event' | 'manual';

export interface SyncRequest {
  trigger: Trigger;
  force: boolean;
  dryRun: boolean;
  /** Only these endpoints (manual invoke); all mappings when absent. */
  endpoints?: string[];
  /** RDS event: keep re-resolving these endpoints until their answer changes or the watch window ends. */
  watch?: string[];
  /** Epoch ms the watch must end by (the Lambda deadline less a margin for the rest of the run). */
  notAfter?: number;
  /** The RDS event that started the run, for the log. */
  event?: { sourceIdentifier: string; eventId?: string; message?: string };
}

export class AddressRefusedError extends Error {
  override name = 'AddressRefusedError';
}

export interface MappingResult {
  endpoint: string;
  targetGroupArn: string;
  port: number;
  /** null when DNS could not tell */
  resolved: string[] | null;
  /** managed (non-draining) targets on the mapping's port before the run */
  registered: string[];
  healthy: number;
  added: string[];
  removed: string[];
  reason: PlanReason | 'error';
  /** Reader and custom endpoints: each member instance and what it resolved to */
  members?: MemberResult[];
  /** RDS-event watch: how many extra resolutions it took to see the change */
  polls?: number;
  durationMs: number;
  error?: { name: string; message: string; kind?: string };
}

export interface SyncSummary {
  trigger: Trigger;
  outcome: 'success' | 'failed';
  dryRun: boolean;
  force: boolean;
  durationMs: number;
  mappings: MappingResult[];
  failed: number;
  metricsSent: boolean;
  event?: SyncRequest['event'];
}

interface Clock {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function runSync(config: SyncConfig, request: SyncRequest, deps: SyncDeps): Promise<SyncSummary> {
  const clock: Clock = { now: deps.now ?? Date.now, sleep: deps.sleep ?? defaultSleep };
  const started = clock.now();
  const dryRun = request.dryRun || config.dryRun;
  const watchUntil = Math.min(started + config.failoverWatchMs, request.notAfter ?? Infinity);
  const selected = request.endpoints ? config.mappings.filter((m) => request.endpoints?.includes(m.endpoint)) : config.mappings;
  const limit = pLimit(config.concurrency);

  const mappings = await Promise.all(
    selected.map((mapping) =>
      limit(() =>
        syncMapping(mapping, { force: request.force, dryRun, watchUntil: request.watch?.includes(mapping.endpoint) ? watchUntil : undefined }, config, deps, clock),
      ),
    ),
  );

  const failed = mappings.filter((m) => m.error).length;
  const durationMs = clock.now() - started;
  const metrics = syncMetrics(mappings, durationMs, dryRun);
  const metricsSent = await metrics.flush(deps.cloudwatch, config.metricsNamespace, deps.log);
  const summary: SyncSummary = {
    trigger: request.trigger,
    outcome: failed > 0 ? 'failed' : 'success',
    dryRun,
    force: request.force,
    durationMs,
    mappings,
    failed,
    metricsSent,
    ...(request.event ? { event: request.event } : {}),
  };
  deps.log.info('sync run', { ...summary });
  return summary;
}

interface MappingOptions {
  force: boolean;
  dryRun: boolean;
  /** Set on an RDS event: re-resolve until the answer changes or this time (ms) passes. */
  watchUntil?: number;
}

async function syncMapping(mapping: Mapping, options: MappingOptions, config: SyncConfig, deps: SyncDeps, clock: Clock): Promise<MappingResult> {
  const started = clock.now();
  const result: MappingResult = {
    endpoint: mapping.endpoint,
    targetGroupArn: mapping.targetGroupArn,
    port: mapping.port,
    resolved: null,
    registered: [],
    healthy: 0,
    added: [],
    removed: [],
    reason: 'error',
    durationMs: 0,
  };
  try {
    // Rule 1: resolve first; the answer decides, the target group follows.
    let resolution = await resolve(mapping, deps);
    const registered = await describeTargets(deps.elb, mapping.targetGroupArn);
    let plan = planTargets(resolution, registered, { port: mapping.port, force: options.force });

    // After a failover event DNS keeps the old answer for a few seconds: ask again until it changes.
    let polls = 0;
    while (options.watchUntil !== undefined && isWaiting(plan) && clock.now() + config.failoverPollMs <= options.watchUntil) {
      await clock.sleep(config.failoverPollMs);
      resolution = await resolve(mapping, deps);
      plan = planTargets(resolution, registered, { port: mapping.port, force: options.force });
      polls++;
    }
    if (options.watchUntil !== undefined) result.polls = polls;

    Object.assign(result, {
      resolved: resolution.ok ? resolution.addresses : null,
      registered: registered.filter((t) => t.port === mapping.port && !isDraining(t)).map((t) => t.ip),
      healthy: countHealthy(resolution, registered, mapping.port),
      reason: plan.reason,
      ...(resolution.members ? { members: resolution.members } : {}),
    });
    if (!resolution.ok) throw resolution.error;
    if (plan.reason === 'address-refused') throw refusedError(mapping, plan);

    // Rule 3, make-before-break: a failed register throws before anything is deregistered.
    if (!options.dryRun) await registerTargets(deps.elb, mapping.targetGroupArn, plan.add, mapping.port, mapping.availabilityZone);
    result.added = plan.add;
    if (!options.dryRun) await deregisterTargets(deps.elb, mapping.targetGroupArn, plan.remove);
    result.removed = plan.remove.map((t) => t.ip);
    // A member that did not resolve: what resolved is registered, nothing removed, the mapping fails.
    if (resolution.ok && resolution.incomplete) throw resolution.incomplete;
  } catch (err) {
    result.error = { ...describeError(err), ...(err instanceof DnsError ? { kind: err.kind } : {}) };
    if (!(err instanceof DnsError) && result.reason !== 'address-refused') result.reason = 'error';
  }
  result.durationMs = clock.now() - started;
  return result;
}

/** In sync, or DNS still failing: nothing has changed yet, keep watching. */
const isWaiting = (plan: Plan) => plan.reason === 'in-sync' || plan.reason === 'dns-failed';

/** DNS for writer/cluster/instance/proxy endpoints; the members' union for reader and custom ones. */
const resolve = (mapping: Mapping, deps: DesiredDeps) => resolveDesired(mapping, deps);

/** Healthy targets that are current: resolved addresses (or, if DNS failed, any managed target) in state healthy. */
function countHealthy(resolution: Resolution, registered: RegisteredTarget[], port: number): number {
  const current = resolution.ok ? new Set(resolution.addresses) : undefined;
  return registered.filter((t) => t.port === port && t.state === 'healthy' && (!current || current.has(t.ip))).length;
}

function refusedError(mapping: Mapping, plan: Plan): AddressRefusedError {
  return new AddressRefusedError(
    `${mapping.endpoint} resolved to ${plan.refused.join(', ')}, which cannot be an NLB IP target (not a private address). ` +
      'The function is resolving from outside the database VPC or the DB instance is publicly accessible: run the function in the VPC (subnetIds/securityGroupIds) or set DNS_SERVERS to the VPC resolver.',
  );
}

function syncMetrics(mappings: MappingResult[], durationMs: number, dryRun: boolean): MetricsBatch {
  const batch = new MetricsBatch();
  const applied = (ips: string[]) => (dryRun ? 0 : ips.length);
  for (const m of mappings) {
    const dims = { TargetGroup: targetGroupDimension(m.targetGroupArn), Endpoint: m.endpoint };
    if (m.resolved) batch.add('ResolvedAddresses', m.resolved.length, 'Count', dims);
    batch
      .add('RegisteredTargets', registeredAfter(m, dryRun), 'Count', dims)
      .add('HealthyTargets', m.healthy, 'Count', dims)
      .add('TargetsAdded', applied(m.added), 'Count', dims)
      .add('TargetsRemoved', applied(m.removed), 'Count', dims)
      .add('DnsFailures', m.error?.name === 'DnsError' ? 1 : 0, 'Count', dims)
      .add('RdsApiFailures', m.error?.name === 'RdsApiError' ? 1 : 0, 'Count', dims)
      .add('SyncErrors', m.error ? 1 : 0, 'Count', dims);
  }
  // Dimensionless run-level series: what the alarms watch.
  const sum = (f: (m: MappingResult) => number) => mappings.reduce((n, m) => n + f(m), 0);
  const failed = sum((m) => (m.error ? 1 : 0));
  batch
    .add('SyncSuccess', failed === 0 ? 1 : 0)
    .add('SyncErrors', failed)
    .add('DnsFailures', sum((m) => (m.error?.name === 'DnsError' ? 1 : 0)))
    .add('RdsApiFailures', sum((m) => (m.error?.name === 'RdsApiError' ? 1 : 0)))
    .add('TargetsAdded', sum((m) => applied(m.added)))
    .add('TargetsRemoved', sum((m) => applied(m.removed)))
    .add('SyncDuration', durationMs, 'Milliseconds');
  if (mappings.length > 0) batch.add('HealthyTargets', Math.min(...mappings.map((m) => m.healthy)));
  return batch;
}

function registeredAfter(m: MappingResult, dryRun: boolean): number {
  if (dryRun) return m.registered.length;
  const after = new Set(m.registered);
  m.added.forEach((ip) => after.add(ip));
  m.removed.forEach((ip) => after.delete(ip));
  return after.size;
}
