// plan: what a sync run would do, from the same pieces the Lambda uses (lib/dns, lib/aws/targets,
// lib/sync/plan), without changing anything and without sending metrics (a plan is not a run: it
// must not feed the SyncSuccess heartbeat).
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { Mapping, SyncConfig, WarmConfig } from '../lib/config.js';
import type { ResolveEndpoint } from '../lib/dns.js';
import { describeError } from '../lib/log.js';
import { planTargets, type PlanReason, type RegisteredTarget } from '../lib/sync/plan.js';
import { describeTargets } from '../lib/aws/targets.js';
import { resolveDesired, type MemberResult } from '../lib/sync/members.js';
import { syncWarmMapping, type WarmSummary } from '../lib/warm/run.js';

export interface MappingPlan {
  endpoint: string;
  targetGroupArn: string;
  port: number;
  /** null when DNS could not tell */
  resolved: string[] | null;
  /** Targets on the mapping's port, with their health state. */
  /** null when the target group could not be read (unknown, not empty) */
  registered: { ip: string; state: string }[] | null;
  add: string[];
  remove: string[];
  keep: string[];
  reason: PlanReason | 'error';
  /** Reader and custom endpoints: each member instance and what it resolved to. */
  members?: MemberResult[];
  /** FAILOVER_MODE=warm: the decision over the slots and the listener (add/remove: every slot's planned moves). */
  warm?: WarmSummary;
  error?: { name: string; message: string };
}

export interface PlanReport {
  /** false when a mapping could not be planned (DNS failure, refused answer, AWS error). */
  ok: boolean;
  force: boolean;
  mappings: MappingPlan[];
}

export interface PlanDeps {
  elb: ElasticLoadBalancingV2Client;
  resolve: ResolveEndpoint;
  /** Reader and custom endpoints list their members with it. */
  rds?: RDSClient;
}

export async function planMappings(config: SyncConfig, force: boolean, deps: PlanDeps): Promise<PlanReport> {
  const warm = config.warm;
  const mappings = await Promise.all(config.mappings.map((m) => (warm?.slotArns.includes(m.targetGroupArn) ? planWarm(m, warm, deps) : planMapping(m, force, deps))));
  return { ok: mappings.every((m) => !m.error), force, mappings };
}

/** The warm mapping: the warm pass as a dry run (reads only). */
async function planWarm(mapping: Mapping, warm: WarmConfig, deps: PlanDeps): Promise<MappingPlan> {
  const r = await syncWarmMapping(mapping, warm, { dryRun: true, watch: false }, deps);
  const moves = r.warm?.planned.slots ?? [];
  // What serves: the weighted slot's targets with their states (unknown when no slot is weighted as ours).
  const serving = r.warm?.weightedSlot;
  let registered: MappingPlan['registered'] = null;
  let readError: MappingPlan['error'];
  if (serving) {
    try {
      registered = (await describeTargets(deps.elb, serving)).filter((t) => t.port === mapping.port).map(({ ip, state }) => ({ ip, state }));
    } catch (err) {
      readError = describeError(err);
    }
  }
  return {
    endpoint: mapping.endpoint,
    targetGroupArn: r.warm?.weightedSlot ?? mapping.targetGroupArn,
    port: mapping.port,
    resolved: r.resolved ?? null,
    registered,
    add: moves.flatMap((m) => m.register),
    remove: moves.flatMap((m) => m.deregister),
    keep: [],
    reason: r.reason,
    ...(r.warm ? { warm: r.warm } : {}),
    ...(r.error ? { error: { name: r.error.name, message: r.error.message } } : readError ? { error: readError } : {}),
  };
}

async function planMapping(mapping: Mapping, force: boolean, deps: PlanDeps): Promise<MappingPlan> {
  const result: MappingPlan = {
    endpoint: mapping.endpoint,
    targetGroupArn: mapping.targetGroupArn,
    port: mapping.port,
    resolved: null,
    registered: null,
    add: [],
    remove: [],
    keep: [],
    reason: 'error',
  };
  const resolution = await resolveDesired(mapping, deps);
  if (resolution.ok) result.resolved = resolution.addresses;
  if (resolution.members) result.members = resolution.members;
  let registered: RegisteredTarget[];
  try {
    registered = await describeTargets(deps.elb, mapping.targetGroupArn);
  } catch (err) {
    return { ...result, error: describeError(err) };
  }
  result.registered = registered.filter((t) => t.port === mapping.port).map(({ ip, state }) => ({ ip, state }));
  const plan = planTargets(resolution, registered, { port: mapping.port, force });
  Object.assign(result, { add: plan.add, remove: plan.remove.map((t) => t.ip), keep: plan.keep, reason: plan.reason });
  if (!resolution.ok) result.error = describeError(resolution.error);
  if (resolution.ok && resolution.incomplete) result.error = describeError(resolution.incomplete);
  if (plan.reason === 'address-refused') {
    result.error = {
      name: 'AddressRefusedError',
      message: `${plan.refused.join(', ')} cannot be an NLB IP target (not a private address): resolve from inside the database's VPC (--dns-servers) or make the DB not publicly accessible`,
    };
  }
  return result;
}
