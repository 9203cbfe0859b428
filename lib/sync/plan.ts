// The safety contract (DESIGN.md "Sync rules") as one pure function: what to register,
// what to deregister, and why. No AWS or DNS calls here.
import type { Resolution } from '../dns.js';
import { RdsApiError } from '../aws/rds.js';
import { canonicalIp, ipSet, isTargetable } from '../ip.js';

export type { Resolution } from '../dns.js';
// The address rule lives with the other address helpers; plan, doctor and tests import it from here too.
export { isTargetable } from '../ip.js';

/**
 * What the mapping should point at: DNS's answer, or for a reader or custom endpoint the union
 * of its members' answers; `incomplete` when some member did not resolve.
 */
export type Desired = Resolution & { incomplete?: Error };

export interface RegisteredTarget {
  ip: string;
  port: number;
  /** ELB target health state: initial, healthy, unhealthy, unused, draining, unavailable, unhealthy.draining */
  state: string;
  availabilityZone?: string;
  /** ELB's reason for the state (Target.Timeout, ...) and its words for it, when it gives them. */
  reason?: string;
  description?: string;
}


export interface PlanOptions {
  port: number;
  force: boolean;
}

export type PlanReason =
  | 'in-sync' // nothing to do
  | 'address-changed' // DNS answers differ from the registered targets
  | 'forced' // force: every resolved address is registered again
  | 'dns-failed' // rule 1: unknown is not empty - nothing changes
  | 'address-refused' // rule 2: an answer cannot be an NLB IP target - nothing changes
  | 'members-unknown' // the RDS API could not list a reader/custom endpoint's members - nothing changes
  | 'members-partial'; // some member did not resolve: add the members that did, remove nothing

export interface Plan {
  add: string[];
  /** Stale targets on the mapping's port, with the AZ they were registered with. */
  remove: RegisteredTarget[];
  keep: string[];
  /** Resolved addresses that cannot be NLB IP targets (reason address-refused). */
  refused: string[];
  reason: PlanReason;
}

/** A target on its way out: it no longer receives new connections, so it counts as absent. */
export const isDraining = (t: RegisteredTarget) => t.state === 'draining' || t.state === 'unhealthy.draining';

export function planTargets(resolution: Desired, registered: RegisteredTarget[], options: PlanOptions): Plan {
  // Rule 5: targets on other ports belong to someone else.
  const managed = registered.filter((t) => t.port === options.port);
  const present = managed.filter((t) => !isDraining(t));
  const presentIps = ipSet(present.map((t) => t.ip));
  const unchanged = (reason: PlanReason, refused: string[] = []): Plan => ({
    add: [],
    remove: [],
    keep: [...presentIps],
    refused,
    reason,
  });

  // Rule 1: a failed (or, defensively, empty) answer never removes anything; nor does an RDS API failure.
  if (!resolution.ok) return unchanged(resolution.error instanceof RdsApiError ? 'members-unknown' : 'dns-failed');
  if (resolution.addresses.length === 0) return unchanged('dns-failed');

  // Compared in canonical form: ELB and DNS may spell one IPv6 address differently.
  const resolved = [...ipSet(resolution.addresses)];
  // Rule 2: one untargetable answer means we are resolving from the wrong place; trust none of it.
  const refused = resolved.filter((ip) => !isTargetable(ip));
  if (refused.length > 0) return unchanged('address-refused', refused);

  const wanted = new Set(resolved);
  // Rule 4: draining targets count as absent, so they are registered again; force registers all.
  const add = options.force ? resolved : resolved.filter((ip) => !presentIps.has(ip));
  // A member that did not resolve may be behind any present target: unknown is not empty.
  const remove = resolution.incomplete ? [] : present.filter((t) => !wanted.has(canonicalIp(t.ip)));
  const keep = options.force ? [] : resolved.filter((ip) => presentIps.has(ip));
  const changed: PlanReason = add.length + remove.length > 0 ? 'address-changed' : 'in-sync';
  const reason: PlanReason = resolution.incomplete ? 'members-partial' : options.force ? 'forced' : changed;
  return { add, remove, keep, refused: [], reason };
}
