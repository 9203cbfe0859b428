// One warm-standby pass over the warm mapping (lib/sync/run.ts calls it in one place): read DNS
// (the writer), the cluster's members (RDS API), the slots and the listener, all at once; decide
// (lib/warm/decide.ts); then weights first (one ModifyListener, read back), then slot
// maintenance (register, re-read the listener, deregister), and for the cold path weights
// once the writer is registered.
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { Mapping, WarmConfig } from '../config.js';
import { DnsError, resolveSettled, type ResolveEndpoint } from '../dns.js';
import { describeError } from '../log.js';
import { describeListenerActions, writeListenerWeights } from '../aws/listener.js';
import { listFailoverMembers } from '../aws/rds.js';
import { deregisterTargets, describeTargets, registerTargets } from '../aws/targets.js';
import { parseRdsEndpoint } from '../rds-endpoint.js';
import { isDraining, type PlanReason, type Resolution } from '../sync/plan.js';
import type { FollowFacts } from '../sync/timeline.js';
import { decideWarm, type Candidate, type ListenerAction, type Members, type Slot, type WarmDecision, type WarmReason } from './decide.js';

export interface WarmDeps {
  elb: ElasticLoadBalancingV2Client;
  rds?: RDSClient;
  resolve: ResolveEndpoint;
  now?: () => number;
}

export interface WarmOptions {
  dryRun: boolean;
  /** RDS-event watch: while DNS still names the weighted slot's writer, change nothing and say so. */
  watch: boolean;
  /** Throws when the pass was given up at the Lambda deadline: nothing is written after that. */
  stillOpen: () => void;
}

/** What the summary log line shows for a warm mapping (mappings[].warm). */
export interface WarmSummary {
  reason: WarmReason;
  writer: string | null;
  /** The slot carrying the weight after the pass. */
  weightedSlot: string | null;
  /** The slot that carried it as read (our listener), before the pass. */
  weightedSlotBefore: string | null;
  /** One ModifyListener moved the weight in this pass. */
  weightsChanged: boolean;
  /** The writer sat in no slot: registered now, weighted once listed (the cold path, minutes). */
  cold: boolean;
  slots: { targetGroupArn: string; targets: string[]; healthy: number }[];
  /** What the decision says to do (a dry run shows it; a real run does it): the slot to weight and each slot's moves. */
  planned: { weight: string | null; slots: { targetGroupArn: string; register: string[]; deregister: string[] }[] };
  registered: { targetGroupArn: string; ip: string }[];
  deregistered: { targetGroupArn: string; ip: string }[];
  detail?: string;
  /**
   * A failover followed by weights alone (the new writer healthy in its slot when the weight
   * moved): the facts of its `failover timeline` line, where "registered" is the weight change.
   * Taken off the result by lib/sync/run.ts before the summary line is logged.
   */
  failover?: FollowFacts;
}

export interface WarmPass {
  summary: WarmSummary;
  /** Watching and DNS unchanged: nothing was applied; the driver asks again. */
  waiting: boolean;
  /** The writer's DNS answer (null when unknown). */
  resolved: string[] | null;
}

/** Warm mode refused to act on what it read: the run fails (alarm), nothing was changed. */
export class WarmStandbyError extends Error {
  override name = 'WarmStandbyError';
}

const UNKNOWN: WarmReason[] = ['dns-failed', 'writer-ambiguous', 'address-refused', 'members-unknown', 'listener-foreign'];

export async function runWarm(mapping: Mapping, warm: WarmConfig, options: WarmOptions, deps: WarmDeps): Promise<WarmPass> {
  const read = () => Promise.all([readSlots(deps.elb, warm.slotArns), describeListenerActions(deps.elb, warm.listenerArn)]);
  const now = deps.now ?? Date.now;
  const [writer, members, [slots, actions]] = await Promise.all([
    resolveSettled(deps.resolve, mapping.endpoint, mapping.ipAddressType),
    readMembers(mapping, deps),
    read(),
  ]);
  const decide = (s: Slot[], a: typeof actions) => decideWarm({ writer, members, slots: s, actions: a, port: mapping.port });
  let decision = decide(slots, actions);
  const summary = summarize(decision, slots, actions, mapping.port);
  const resolved = writer.ok ? writer.addresses : null;
  const seenAt = now();

  if (UNKNOWN.includes(decision.reason)) {
    // Rule 1 and "someone else's listener": report, change nothing, fail the run.
    if (decision.reason === 'dns-failed' && !writer.ok) throw Object.assign(writer.error, { warm: summary });
    if (decision.reason === 'members-unknown' && !members.ok) throw Object.assign(members.error, { warm: summary });
    throw Object.assign(new WarmStandbyError(`${mapping.endpoint}: ${decision.reason}: ${decision.detail ?? ''}`), { warm: summary });
  }
  // After an RDS event DNS keeps the old answer a while: no slot work until it moves.
  if (options.watch && !decision.weights && decision.reason !== 'cold') return { summary, waiting: true, resolved };
  if (options.dryRun) return { summary, waiting: false, resolved };

  // Weights first: the failover itself is this one call.
  if (decision.weights) {
    options.stillOpen();
    await writeListenerWeights(deps.elb, warm.listenerArn, decision.weights);
    summary.weightsChanged = true;
    const facts = followedByWeights(decision, slots, summary, mapping.port, seenAt, now());
    if (facts) summary.failover = facts;
  }
  await maintainSlots(decision, mapping, warm, options, deps, summary);

  // The cold path: the writer is registered now; weight its slot at once (from a fresh read).
  if (decision.reason === 'cold' && summary.registered.length > 0) {
    const [slotsNow, actionsNow] = await read();
    decision = decide(slotsNow, actionsNow);
    if (decision.weights) {
      options.stillOpen();
      await writeListenerWeights(deps.elb, warm.listenerArn, decision.weights);
      summary.weightsChanged = true;
    }
    Object.assign(summary, { weightedSlot: decision.weightedSlot ?? summary.weightedSlot, slots: slotView(slotsNow, mapping.port) });
  }
  return { summary, waiting: false, resolved };
}

/** Registers every slot's candidate, then re-reads the listener and deregisters only from slots still not weighted. */
async function maintainSlots(decision: WarmDecision, mapping: Mapping, warm: WarmConfig, options: WarmOptions, deps: WarmDeps, summary: WarmSummary): Promise<void> {
  const changes = decision.slots;
  if (changes.length === 0) return;
  for (const c of changes) {
    if (c.register.length === 0) continue;
    options.stillOpen();
    await registerTargets(deps.elb, c.targetGroupArn, c.register, mapping.port, mapping.availabilityZone);
    summary.registered.push(...c.register.map((ip) => ({ targetGroupArn: c.targetGroupArn, ip })));
  }
  const removals = changes.filter((c) => c.deregister.length > 0);
  if (removals.length === 0) return;
  // Rule 8 for slots: another run may have weighted a slot since our read; never empty it.
  const actions = await describeListenerActions(deps.elb, warm.listenerArn);
  const weightedNow = new Set(actions.flatMap((a) => (a.targetGroups ?? []).filter((g) => g.weight !== 0).map((g) => g.targetGroupArn)));
  for (const c of removals) {
    if (weightedNow.has(c.targetGroupArn)) continue;
    options.stillOpen();
    await deregisterTargets(deps.elb, c.targetGroupArn, c.deregister);
    summary.deregistered.push(...c.deregister.map((t) => ({ targetGroupArn: c.targetGroupArn, ip: t.ip })));
  }
}

async function readSlots(elb: ElasticLoadBalancingV2Client, arns: string[]): Promise<Slot[]> {
  return Promise.all(arns.map(async (targetGroupArn) => ({ targetGroupArn, targets: await describeTargets(elb, targetGroupArn) })));
}

/** The cluster's members with each instance endpoint resolved (an unresolved one has no address: it cannot be a candidate). */
async function readMembers(mapping: Mapping, deps: WarmDeps): Promise<Members> {
  if (!deps.rds) return { ok: false, error: new Error('warm standby reads the cluster members with the RDS API: no RDS client (deps.rds)') };
  try {
    const members = await listFailoverMembers(deps.rds, parseRdsEndpoint(mapping.endpoint).identifier);
    const candidates = await Promise.all(
      members.map(async (m): Promise<Candidate> => {
        const answer: Resolution | undefined = m.endpoint ? await resolveSettled(deps.resolve, m.endpoint, mapping.ipAddressType) : undefined;
        return {
          id: m.id,
          writer: m.writer,
          promotionTier: m.promotionTier,
          ...(m.instanceClass ? { instanceClass: m.instanceClass } : {}),
          address: answer?.ok && answer.addresses.length === 1 ? (answer.addresses[0] ?? null) : null,
        };
      }),
    );
    return { ok: true, members: candidates };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
  }
}

/**
 * The timeline facts of a failover the weights alone followed: the new writer was healthy in its
 * slot when the weight moved, and the old slot stopped taking new connections at the same moment
 * (weight 0). How long NLB takes to apply a weight is unknown (AWS documents no figure), so these
 * times are when ELB accepted the change, not when traffic moved.
 */
function followedByWeights(decision: WarmDecision, slots: Slot[], summary: WarmSummary, port: number, seenAt: number, changedAt: number): FollowFacts | undefined {
  const writer = decision.writer;
  const target = slots.find((s) => s.targetGroupArn === decision.weightedSlot)?.targets.find((t) => t.port === port && t.ip === writer);
  if (!writer || target?.state !== 'healthy') return undefined;
  const old = summary.slots.find((s) => s.targetGroupArn === summary.weightedSlotBefore)?.targets ?? [];
  return { newAddresses: [writer], oldAddresses: old.filter((ip) => ip !== writer), seenAt, registeredAt: changedAt, healthyAt: changedAt, oldGoneAt: changedAt, end: 'settled', reads: 1, failedReads: 0, boundSeconds: 0 };
}

function slotView(slots: Slot[], port: number): WarmSummary['slots'] {
  return slots.map((s) => {
    const present = s.targets.filter((t) => t.port === port && !isDraining(t));
    return { targetGroupArn: s.targetGroupArn, targets: present.map((t) => t.ip), healthy: present.filter((t) => t.state === 'healthy').length };
  });
}

function summarize(decision: WarmDecision, slots: Slot[], actions: ListenerAction[], port: number): WarmSummary {
  // When the decision changes nothing (unknown, foreign), the slot weighted now, if one is.
  const on = actions.length === 1 ? (actions[0]?.targetGroups ?? []).filter((g) => g.weight !== 0) : [];
  const weightedNow = on.length === 1 && slots.some((s) => s.targetGroupArn === on[0]?.targetGroupArn) ? (on[0]?.targetGroupArn ?? null) : null;
  return {
    reason: decision.reason,
    writer: decision.writer ?? null,
    weightedSlot: decision.weightedSlot ?? weightedNow,
    weightedSlotBefore: weightedNow,
    weightsChanged: false,
    cold: decision.reason === 'cold',
    slots: slotView(slots, port),
    planned: {
      weight: decision.weights?.find((w) => w.weight !== 0)?.targetGroupArn ?? null,
      slots: decision.slots.map((c) => ({ targetGroupArn: c.targetGroupArn, register: c.register, deregister: c.deregister.map((t) => t.ip) })),
    },
    registered: [],
    deregistered: [],
    ...(decision.detail ? { detail: decision.detail } : {}),
  };
}

/** The fields of the sync run's mapping result a warm pass fills (lib/sync/run.ts MappingResult). */
export interface WarmMappingFields {
  resolved?: string[] | null;
  registered?: string[] | null;
  healthy?: number | null;
  added?: string[];
  removed?: string[];
  reason: PlanReason | 'error';
  warm?: WarmSummary;
  error?: { name: string; message: string; kind?: string };
  waiting: boolean;
}

/** The warm pass as the sync run's mapping result (lib/sync/run.ts calls this for the warm mapping). */
export async function syncWarmMapping(
  mapping: Mapping,
  warm: WarmConfig,
  options: { dryRun: boolean; watch: boolean; gate?: { open: boolean } },
  deps: WarmDeps,
): Promise<WarmMappingFields> {
  const stillOpen = () => {
    if (options.gate && !options.gate.open) throw new Error('given up at the Lambda deadline');
  };
  try {
    const pass = await runWarm(mapping, warm, { dryRun: options.dryRun, watch: options.watch, stillOpen }, deps);
    return { ...resultOf(pass.summary, pass.resolved), waiting: pass.waiting };
  } catch (err) {
    const summary = (err as { warm?: WarmSummary }).warm;
    const kind = err instanceof DnsError ? { kind: err.kind } : {};
    return {
      ...(summary ? resultOf(summary, null) : { reason: 'error' as const }),
      ...(summary && !UNKNOWN.includes(summary.reason) ? { reason: 'error' as const } : {}),
      error: { ...describeError(err), ...kind },
      waiting: false,
    };
  }
}

const REASONS: Record<WarmReason, WarmMappingFields['reason']> = {
  'in-sync': 'in-sync',
  'weights-changed': 'address-changed',
  'slots-changed': 'address-changed',
  cold: 'address-changed',
  'dns-failed': 'dns-failed',
  'writer-ambiguous': 'error',
  'address-refused': 'address-refused',
  'members-unknown': 'members-unknown',
  'listener-foreign': 'error',
};

function resultOf(summary: WarmSummary, resolved: string[] | null): Omit<WarmMappingFields, 'waiting'> {
  const weighted = summary.slots.find((s) => s.targetGroupArn === summary.weightedSlot);
  const inWeighted = (moves: { targetGroupArn: string; ip: string }[]) => moves.filter((r) => r.targetGroupArn === summary.weightedSlot).map((r) => r.ip);
  return {
    resolved,
    // The weighted slot is what serves: its targets and health stand for the mapping's (metrics
    // RegisteredTargets, HealthyTargets); unknown (no slot weighted as ours) publishes no datum.
    registered: weighted?.targets ?? null,
    healthy: weighted?.healthy ?? null,
    // What changed in the serving slot; every slot's moves are in `warm`.
    added: inWeighted(summary.registered),
    removed: inWeighted(summary.deregistered),
    reason: REASONS[summary.reason],
    warm: summary,
  };
}
