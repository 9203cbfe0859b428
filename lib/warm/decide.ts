// Warm standby (failoverMode=warm), the pure decision: which slot target group the listener
// weights, and which failover candidate each slot holds. No AWS or DNS calls here.
//
// A slot is one of the stack's target groups named by the listener's forward action. Each holds
// one instance's address: the writer and the readers most likely to be promoted, registered and
// health-checked ahead of time at weight 0, so a failover is one ModifyListener, not a
// registration that takes minutes. The rules (docs/reliability.md "Warm standby"):
// - DNS is the truth for the writer; the RDS API only picks the candidates.
// - Unknown (DNS or the RDS API failing, an ambiguous or refused answer) changes nothing.
// - Exactly one non-zero weight, on the slot holding the DNS writer; never all zero.
// - A listener someone else changed (another action, target groups not ours, weights we never
//   write) is reported, never overwritten.
// - The weighted slot (as read, and as about to be written) is never re-registered or emptied;
//   other slots are reassigned make-before-break: register the candidate, deregister after.
import { canonicalIp } from '../ip.js';
import { isDraining, isTargetable, type RegisteredTarget, type Resolution } from '../sync/plan.js';

/** The non-zero weight we write (NLB weights are 0-999; only zero versus non-zero matters here). */
export const WEIGHT_ON = 1;

/** A cluster member as the RDS API lists it, with its instance endpoint resolved. */
export interface Candidate {
  id: string;
  /** The instance endpoint's address; null when it has none yet or did not resolve. */
  address: string | null;
  /** IsClusterWriter (DescribeDBClusters): where DNS goes next during a failover. */
  writer: boolean;
  /** PromotionTier 0-15: lower is promoted first. */
  promotionTier: number;
  /** DBInstanceClass (db.r6g.2xlarge): larger is promoted first within a tier. */
  instanceClass?: string;
}

export type Members = { ok: true; members: Candidate[] } | { ok: false; error: Error };

export interface Slot {
  targetGroupArn: string;
  /** DescribeTargetHealth of the slot (every port; only the mapping's port is managed). */
  targets: RegisteredTarget[];
}

export interface WeightedGroup {
  targetGroupArn: string;
  weight: number;
}

/** The listener's default actions as DescribeListeners returns them, reduced to what we judge. */
export type ListenerAction = { type: 'forward'; targetGroups: WeightedGroup[] } | { type: string; targetGroups?: undefined };

export interface WarmInput {
  /** The writer endpoint's DNS answer. */
  writer: Resolution;
  members: Members;
  slots: Slot[];
  /** The listener's default actions. */
  actions: ListenerAction[];
  port: number;
}

export type WarmReason =
  | 'in-sync' // the weighted slot holds the writer; every slot holds a candidate
  | 'weights-changed' // the weight moves to the slot already holding the writer (the warm failover)
  | 'slots-changed' // weights stay; non-weighted slots get new candidates
  | 'cold' // the writer sits in no slot: register it into a slot now, weight it once registered
  | 'dns-failed' // unknown: nothing changes
  | 'writer-ambiguous' // the writer endpoint answered several addresses: nothing changes
  | 'address-refused' // the answer cannot be an NLB IP target: nothing changes
  | 'members-unknown' // the RDS API failed: nothing changes
  | 'listener-foreign'; // someone else changed the listener: reported, nothing changes

export interface SlotChange {
  targetGroupArn: string;
  /** Registered first. */
  register: string[];
  /** Deregistered after every registration of the run. */
  deregister: RegisteredTarget[];
}

export interface WarmDecision {
  reason: WarmReason;
  writer?: string;
  /** The slot holding the writer that carries the weight after this decision (undefined: unknown or none). */
  weightedSlot?: string;
  /** The whole forward config to write with one ModifyListener; undefined: leave the listener alone. */
  weights?: WeightedGroup[];
  /** Non-weighted slots only; empty when nothing changes. */
  slots: SlotChange[];
  /** Why the listener is not ours (reason listener-foreign), or why a choice was forced. */
  detail?: string;
}

const nothing = (reason: WarmReason, detail?: string, writer?: string): WarmDecision => ({
  reason,
  slots: [],
  ...(writer ? { writer } : {}),
  ...(detail ? { detail } : {}),
});

/** The listener's forward action if it is ours (exactly our slots, one non-zero weight), else why not. */
export function judgeListener(actions: ListenerAction[], slotArns: string[]): { ok: true; groups: WeightedGroup[] } | { ok: false; detail: string } {
  const action = actions[0];
  if (actions.length !== 1 || !action) return { ok: false, detail: `the listener has ${actions.length} default actions; warm mode writes exactly one forward action` };
  if (action.type !== 'forward' || !action.targetGroups) return { ok: false, detail: `the listener's default action is ${action.type}, not forward` };
  const ours = new Set(slotArns);
  const named = action.targetGroups.map((g) => g.targetGroupArn);
  const foreign = named.filter((arn) => !ours.has(arn));
  const missing = slotArns.filter((arn) => !named.includes(arn));
  if (foreign.length > 0 || missing.length > 0 || named.length !== ours.size) {
    const parts = [foreign.length > 0 ? `target groups not ours: ${foreign.join(', ')}` : '', missing.length > 0 ? `slots missing: ${missing.join(', ')}` : ''];
    return { ok: false, detail: `the listener's forward action does not name exactly the slot target groups (${parts.filter(Boolean).join('; ') || 'a slot named twice'})` };
  }
  const on = action.targetGroups.filter((g) => g.weight !== 0);
  if (on.length !== 1) return { ok: false, detail: `the listener has ${on.length} non-zero weights; warm mode always writes exactly one` };
  return { ok: true, groups: action.targetGroups };
}

/** Size of a DB instance class within its family, for AWS's tie-break (unknown sizes rank lowest). */
export function classSize(instanceClass: string | undefined): number {
  const size = instanceClass?.split('.').pop() ?? '';
  const named: Record<string, number> = { micro: 0.125, small: 0.25, medium: 0.5, large: 1, xlarge: 2 };
  if (size in named) return named[size] ?? 0;
  const m = /^(\d+)xlarge$/.exec(size);
  return m ? Number(m[1]) * 2 : 0;
}

/**
 * Failover order as AWS documents it for Aurora ("Fault tolerance for an Aurora DB cluster"):
 * lowest PromotionTier first; within a tier the largest instance; then arbitrary (we take the
 * instance id, so two runs agree). The RDS API's writer comes first: during a failover it is
 * where the writer endpoint goes next, before DNS says so.
 */
export function rankCandidates(members: Candidate[]): Candidate[] {
  return [...members].sort(
    (a, b) =>
      Number(b.writer) - Number(a.writer) ||
      a.promotionTier - b.promotionTier ||
      classSize(b.instanceClass) - classSize(a.instanceClass) ||
      a.id.localeCompare(b.id),
  );
}

const present = (slot: Slot, port: number) => slot.targets.filter((t) => t.port === port && !isDraining(t));
const holds = (slot: Slot, port: number, ip: string) => present(slot, port).some((t) => canonicalIp(t.ip) === ip);

/** The addresses the slots should hold, most valuable first: the DNS writer, then the ranked members. */
export function wantedAddresses(writer: string, members: Candidate[], slotCount: number): string[] {
  const out = [writer];
  for (const m of rankCandidates(members)) {
    if (!m.address) continue;
    const ip = canonicalIp(m.address);
    if (!out.includes(ip) && isTargetable(ip)) out.push(ip);
  }
  return out.slice(0, slotCount);
}

const HEALTH_RANK: Record<string, number> = { healthy: 0, initial: 1, unhealthy: 2, unused: 3, unavailable: 4 };

export function decideWarm(input: WarmInput): WarmDecision {
  const { port, slots } = input;
  const slotArns = slots.map((s) => s.targetGroupArn);

  // Unknown changes nothing: DNS first (the truth), then the RDS API, then the listener.
  if (!input.writer.ok || input.writer.addresses.length === 0) return nothing('dns-failed', input.writer.ok ? 'empty answer' : input.writer.error.message);
  const answer = [...new Set(input.writer.addresses.map(canonicalIp))];
  if (answer.length > 1) return nothing('writer-ambiguous', `the writer endpoint answered ${answer.join(', ')}; a cluster writer endpoint names one instance`);
  const writer = answer[0] ?? '';
  if (!isTargetable(writer)) return nothing('address-refused', `${writer} cannot be an NLB IP target`, writer);
  if (!input.members.ok) return nothing('members-unknown', input.members.error.message, writer);
  const listener = judgeListener(input.actions, slotArns);
  if (!listener.ok) return nothing('listener-foreign', listener.detail, writer);

  const weightedNow = listener.groups.find((g) => g.weight !== 0)?.targetGroupArn ?? '';
  const holding = slots.filter((s) => holds(s, port, writer));
  const wanted = wantedAddresses(writer, input.members.members, slots.length);

  if (holding.length === 0) return coldPath(writer, wanted, slots, weightedNow, port);

  // The weighted slot keeps the weight while it holds the writer; otherwise the healthiest slot
  // holding the writer takes it (the only one, healthy or not, when there is one: the weighted
  // slot no longer holds the writer, so it is wrong either way).
  const health = (s: Slot) => Math.min(...present(s, port).filter((t) => canonicalIp(t.ip) === writer).map((t) => HEALTH_RANK[t.state] ?? 5));
  const target = holding.find((s) => s.targetGroupArn === weightedNow) ?? [...holding].sort((a, b) => health(a) - health(b))[0];
  const weightedSlot = target?.targetGroupArn ?? weightedNow;
  const weights = weightedSlot === weightedNow ? undefined : slotArns.map((arn) => ({ targetGroupArn: arn, weight: arn === weightedSlot ? WEIGHT_ON : 0 }));

  // Neither the slot weighted as read nor the one about to be weighted is touched this run.
  const changes = assignSlots(wanted, slots, new Set([weightedNow, weightedSlot]), port);
  const reason: WarmReason = weights ? 'weights-changed' : changes.length > 0 ? 'slots-changed' : 'in-sync';
  return { reason, writer, weightedSlot, ...(weights ? { weights } : {}), slots: changes };
}

/**
 * The writer sits in no slot: today's cold path, through a slot. It goes into a free slot, else
 * the least valuable non-weighted one; the weight stays where it is (never all zero) until a
 * pass sees the writer registered there.
 */
function coldPath(writer: string, wanted: string[], slots: Slot[], weightedNow: string, port: number): WarmDecision {
  const free = slots.filter((s) => s.targetGroupArn !== weightedNow);
  // Least valuable: empty first, then the slot whose best address ranks lowest in `wanted`.
  const value = (s: Slot) => {
    const ranks = present(s, port).map((t) => wanted.indexOf(canonicalIp(t.ip))).filter((i) => i >= 0);
    return present(s, port).length === 0 ? -2 : ranks.length === 0 ? -1 : Math.min(...ranks);
  };
  const slot = [...free].sort((a, b) => rankOf(value(b)) - rankOf(value(a)))[0];
  if (!slot) return nothing('cold', `the writer ${writer} sits in no slot and every slot is weighted (one slot): add warmSlots`, writer);
  return {
    reason: 'cold',
    writer,
    weightedSlot: weightedNow,
    slots: [{ targetGroupArn: slot.targetGroupArn, register: [writer], deregister: present(slot, port).filter((t) => canonicalIp(t.ip) !== writer) }],
    detail: `the writer ${writer} sits in no slot: registered into ${slot.targetGroupArn}, weighted once ELB lists it (the cold path, minutes)`,
  };
}
// -2 (empty) and -1 (no candidate) are the least valuable; a higher index in `wanted` is less valuable.
const rankOf = (v: number) => (v < 0 ? 1000 - v : v);

/**
 * Make-before-break per slot: slots already holding a wanted address keep it (and lose any
 * other address); the wanted addresses no slot holds go into the remaining slots, which lose
 * their old address after. Protected slots (weighted) are never touched.
 */
function assignSlots(wanted: string[], slots: Slot[], protectedArns: Set<string>, port: number): SlotChange[] {
  const ips = (s: Slot) => present(s, port).map((t) => canonicalIp(t.ip));
  // Protected slots keep whatever they hold; every other slot keeps its first wanted address no
  // slot before it keeps (one address per slot, no candidate in two slots).
  const kept = new Set(slots.filter((s) => protectedArns.has(s.targetGroupArn)).flatMap(ips));
  const keep = new Map<string, string | undefined>();
  for (const slot of slots) {
    if (protectedArns.has(slot.targetGroupArn)) continue;
    const ip = ips(slot).find((a) => wanted.includes(a) && !kept.has(a));
    if (ip) kept.add(ip);
    keep.set(slot.targetGroupArn, ip);
  }
  const missing = wanted.filter((ip) => !kept.has(ip));
  const changes: SlotChange[] = [];
  for (const slot of slots) {
    if (protectedArns.has(slot.targetGroupArn)) continue;
    const held = keep.get(slot.targetGroupArn);
    const register = held ? [] : missing.splice(0, 1);
    const stay = held ?? register[0];
    const deregister = present(slot, port).filter((t) => canonicalIp(t.ip) !== stay);
    if (register.length + deregister.length > 0) changes.push({ targetGroupArn: slot.targetGroupArn, register, deregister });
  }
  return changes;
}
