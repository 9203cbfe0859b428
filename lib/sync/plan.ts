// The safety contract (DESIGN.md "Sync rules") as one pure function: what to register,
// what to deregister, and why. No AWS or DNS calls here.
import { BlockList, isIP } from 'node:net';
import type { Resolution } from '../dns.js';
import { RdsApiError } from '../aws/rds.js';
import { canonicalIp, ipSet } from '../ip.js';

export type { Resolution } from '../dns.js';

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

// NLB IP targets must be private: RFC 1918 and RFC 6598 (shared address space) for IPv4.
// IPv6 targets are the VPC's own (global) addresses, so only non-unicast ranges are refused.
const TARGETABLE_V4 = new BlockList();
TARGETABLE_V4.addSubnet('10.0.0.0', 8, 'ipv4');
TARGETABLE_V4.addSubnet('172.16.0.0', 12, 'ipv4');
TARGETABLE_V4.addSubnet('192.168.0.0', 16, 'ipv4');
TARGETABLE_V4.addSubnet('100.64.0.0', 10, 'ipv4');
const UNTARGETABLE_V6 = new BlockList();
UNTARGETABLE_V6.addSubnet('::', 127, 'ipv6'); // unspecified and loopback
UNTARGETABLE_V6.addSubnet('fe80::', 10, 'ipv6'); // link-local
UNTARGETABLE_V6.addSubnet('ff00::', 8, 'ipv6'); // multicast
UNTARGETABLE_V6.addSubnet('::ffff:0:0', 96, 'ipv6'); // IPv4-mapped

export function isTargetable(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return TARGETABLE_V4.check(ip, 'ipv4');
  if (family === 6) return !UNTARGETABLE_V6.check(ip, 'ipv6');
  return false;
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
