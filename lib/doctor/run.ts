// doctor: checks the whole Fivetran PrivateLink chain, read-only, and says pass / warn / fail
// with the fix for each link. A check that cannot tell (an API the caller may not use, or one
// the emulator lacks) warns; only a check that saw something wrong fails.
import type { ServiceConfiguration } from '@aws-sdk/client-ec2';
import type { Mapping, WarmConfig } from '../config.js';
import { createDoctorReader, type DoctorClients, type DoctorReader } from './read.js';
import { MAPPING_CHECKS } from './chain.js';
import { memberChecks } from './members.js';
import { functionChecks, heartbeat, type FunctionRole, type FunctionSubject } from './functions.js';
import { SERVICE_CHECKS, serviceExists } from './service.js';
import { DATABASE_CHECKS, nlbSecurityGroup } from './database.js';
import { nlbIdleTimeout, vpcDns } from './network.js';
import { warmSlots } from './warm.js';
import type { FivetranClient } from '../fivetran/client.js';
import { fivetranLinkCheck } from './fivetran.js';
import { lastProbe } from './probe.js';
import { couldNotTell, isFatalAwsError, type Check, type CheckResult, type CheckStatus, type DoctorContext, type Verdict } from './verdict.js';

export type { CheckResult, CheckStatus, Verdict } from './verdict.js';

export interface DoctorInput {
  mappings: Mapping[];
  /** ENDPOINT_SERVICE_IDS; empty: the services in front of the mappings' NLBs. */
  serviceIds: string[];
  /** ALLOWED_PRINCIPALS as account IDs (default Fivetran's). */
  allowedAccounts: string[];
  metricsNamespace: string;
  functions: Partial<Record<FunctionRole, string>>;
  /** FAILOVER_MODE=warm: the warm mapping's slots are checked (warm.slots) instead of its one group's targets. */
  warm?: WarmConfig;
}

export interface DoctorDeps extends DoctorClients {
  /** The clients' region, for messages and interface endpoint names. */
  region: string;
  /** Fivetran API client when credentials are set: enables the fivetran.link check. */
  fivetran?: FivetranClient;
  now?: () => number;
}

export interface DoctorReport {
  /** false when any check failed: the CLI exits non-zero. */
  ok: boolean;
  counts: Record<CheckStatus, number>;
  checks: CheckResult[];
}

/** Thrown when no AWS answer can be had (no credentials, no region): every check would only say "could not tell". */
export class DoctorAbortedError extends Error {
  override name = 'DoctorAbortedError';
}

export async function runDoctor(input: DoctorInput, deps: DoctorDeps): Promise<DoctorReport> {
  const now = deps.now ?? Date.now;
  const ctx: DoctorContext = {
    reader: createDoctorReader(deps, now),
    region: deps.region,
    serviceIds: input.serviceIds,
    allowedAccounts: input.allowedAccounts,
    now,
  };
  const results: CheckResult[] = [];
  const runAll = async <S>(checks: Check<S>[], subject: S, label: string) => {
    results.push(...(await Promise.all(checks.map((check) => runCheck(check, subject, label, ctx)))));
  };

  // In the order of the chain, so the first failure in the output is the one to fix first.
  for (const mapping of input.mappings) {
    const warm = input.warm?.slotArns.includes(mapping.targetGroupArn) ? input.warm : undefined;
    // Warm: slot 1 need not hold the writer; warm.slots checks what serves instead.
    const chain = warm ? MAPPING_CHECKS.filter((c) => c.id !== 'targets.registered' && c.id !== 'targets.health') : MAPPING_CHECKS;
    await runAll([...chain, nlbIdleTimeout, vpcDns, ...DATABASE_CHECKS, ...memberChecks(mapping)], mapping, mappingLabel(mapping));
    if (warm) await runAll([warmSlots], { mapping, warm }, mappingLabel(mapping));
  }
  for (const loadBalancerArn of await loadBalancersOf(input.mappings, ctx.reader)) {
    await runAll([serviceExists, nlbSecurityGroup], loadBalancerArn, `load balancer ${loadBalancerArn.split('/').slice(-2, -1)[0] ?? loadBalancerArn}`);
  }
  for (const service of await servicesToCheck(input, ctx.reader)) await runAll([...SERVICE_CHECKS, ...(deps.fivetran ? [fivetranLinkCheck(deps.fivetran)] : [])], service, `endpoint service ${service.ServiceId}`);
  for (const role of ['sync', 'accept'] as const) {
    const subject: FunctionSubject = { role, ...(input.functions[role] ? { name: input.functions[role] } : {}) };
    await runAll(functionChecks(role, input.mappings), subject, `${role} function${subject.name ? ` ${subject.name}` : ''}`);
  }
  await runAll([heartbeat, lastProbe], input.metricsNamespace, `metrics namespace ${input.metricsNamespace}`);
  return report(results);
}

async function runCheck<S>(check: Check<S>, subject: S, label: string, ctx: DoctorContext): Promise<CheckResult> {
  let verdict: Verdict;
  try {
    verdict = await check.run(subject, ctx);
  } catch (err) {
    if (isFatalAwsError(err)) throw new DoctorAbortedError(`doctor cannot read AWS: ${(err as Error).message}`, { cause: err });
    verdict = couldNotTell(err);
  }
  return { id: check.id, subject: label, ...verdict };
}

export function report(checks: CheckResult[]): DoctorReport {
  const counts: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0 };
  for (const c of checks) counts[c.status]++;
  return { ok: counts.fail === 0, counts, checks };
}

const mappingLabel = (m: Mapping) => `${m.endpoint} -> ${m.targetGroupArn.split(':targetgroup/')[1] ?? m.targetGroupArn} port ${m.port}`;

/** The load balancers in front of the mappings' target groups; a target group that cannot be read was reported already. */
async function loadBalancersOf(mappings: Mapping[], reader: DoctorReader): Promise<string[]> {
  const arns = await Promise.all(mappings.map(async (m) => (await reader.targetGroup(m.targetGroupArn).catch(() => undefined))?.LoadBalancerArns ?? []));
  return [...new Set(arns.flat())];
}

/** ENDPOINT_SERVICE_IDS that exist, or the services in front of our NLBs. Unreadable: service.exists said so. */
async function servicesToCheck(input: DoctorInput, reader: DoctorReader): Promise<ServiceConfiguration[]> {
  const services = await reader.serviceConfigurations().catch(() => []);
  if (input.serviceIds.length > 0) return services.filter((s) => s.ServiceId && input.serviceIds.includes(s.ServiceId));
  const ours = new Set(await loadBalancersOf(input.mappings, reader));
  return services.filter((s) => s.NetworkLoadBalancerArns?.some((arn) => ours.has(arn)));
}
