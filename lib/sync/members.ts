// The addresses a mapping should point at. Writer, cluster, instance and proxy endpoints: DNS's
// answer (the fast path, no RDS call). Reader and custom endpoints answer one member per DNS
// query, at random, so an answer is a sample, not the set: the desired set is every member's
// instance endpoint (listed with the RDS API), each resolved through DNS, united.
import type { RDSClient } from '@aws-sdk/client-rds';
import type { Mapping } from '../config.js';
import { compareAddresses, DnsError, resolveSettled, type ResolveEndpoint } from '../dns.js';
import { describeError } from '../log.js';
import { isMemberSet, parseRdsEndpoint } from '../rds-endpoint.js';
import { listMemberInstances, readMemberSets, type MemberInstance, type MemberSetsRead, type RdsReads } from '../aws/rds.js';
import { within } from '../deadline.js';
import type { Desired, Resolution } from './plan.js';

/** One member of a reader or custom endpoint, as the summary log line shows it. */
export interface MemberResult {
  id: string;
  /** The instance endpoint; null while the instance has none (being created). */
  endpoint: string | null;
  addresses?: string[];
  error?: { name: string; message: string; kind?: string };
}

export type DesiredSet = Desired & { members?: MemberResult[] };

export interface DesiredDeps {
  resolve: ResolveEndpoint;
  /** Needed only by reader and custom endpoint mappings. */
  rds?: RDSClient;
  /** What the run's RDS reads reuse (lib/aws/rds.ts); without it every resolution asks RDS in full. */
  rdsReads?: RdsReads;
  /** A batched read made for this pass (primeMemberSets): the endpoints it covers make no RDS call of their own. */
  rdsPrimed?: MemberSetsRead;
}

/** A reader or custom endpoint whose cluster has no member with an instance endpoint: nothing to point at, which is not "remove everything". */
export class NoMembersError extends Error {
  override name = 'NoMembersError';
}

export async function resolveDesired(mapping: Pick<Mapping, 'endpoint' | 'ipAddressType'>, deps: DesiredDeps): Promise<DesiredSet> {
  if (!isMemberSet(mapping.endpoint)) return resolveSettled(deps.resolve, mapping.endpoint, mapping.ipAddressType);
  if (!deps.rds) return { ok: false, error: new Error(`${mapping.endpoint} is a reader or custom endpoint, which needs an RDS client (deps.rds)`) };
  let instances: MemberInstance[];
  try {
    instances = await listMemberInstances(deps.rds, parseRdsEndpoint(mapping.endpoint), deps.rdsReads, deps.rdsPrimed);
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
  }
  const resolved = await Promise.all(
    instances.map(async (m) => ({ ...m, ...(m.endpoint ? { resolution: await resolveSettled(deps.resolve, m.endpoint, mapping.ipAddressType) } : {}) })),
  );
  return combineMembers(mapping.endpoint, resolved);
}

/**
 * One batched RDS read of every reader and custom endpoint among the mappings (lib/aws/rds.ts
 * readMemberSets), for one pass over them; it also fills `deps.rdsReads`. Undefined when no
 * mapping needs RDS, or when the read does not answer within `ms` (each pass then reads on its own).
 */
export async function primeMemberSets(mappings: Pick<Mapping, 'endpoint'>[], deps: DesiredDeps, ms: number): Promise<MemberSetsRead | undefined> {
  const endpoints = mappings.filter((m) => isMemberSet(m.endpoint)).map((m) => parseRdsEndpoint(m.endpoint));
  if (!deps.rds || endpoints.length === 0) return undefined;
  const read = await within(readMemberSets(deps.rds, endpoints, deps.rdsReads), ms);
  return read.done ? read.value : undefined;
}

/**
 * The members' answers as one desired set: the union of what resolved; `incomplete` (the first
 * member's DNS error) when some member did not resolve; a failure when nothing resolved.
 * A member without an instance endpoint yet (being created) serves nothing and is skipped.
 */
export function combineMembers(endpoint: string, members: (MemberInstance & { resolution?: Resolution })[]): DesiredSet {
  const results: MemberResult[] = members.map(({ id, endpoint: host, resolution }) => {
    if (!resolution) return { id, endpoint: host, addresses: [] };
    if (resolution.ok) return { id, endpoint: host, addresses: resolution.addresses };
    const kind = resolution.error instanceof DnsError ? { kind: resolution.error.kind } : {};
    return { id, endpoint: host, error: { ...describeError(resolution.error), ...kind } };
  });
  const failures = members.flatMap((m) => (m.resolution && !m.resolution.ok ? [m.resolution.error] : []));
  const addresses = [...new Set(members.flatMap((m) => (m.resolution?.ok ? m.resolution.addresses : [])))].sort(compareAddresses);
  if (addresses.length === 0) {
    const error = failures[0] ?? new NoMembersError(`${endpoint}: the cluster has no member with an instance endpoint (RDS API), so there is nothing to point at`);
    return { ok: false, error, members: results };
  }
  return { ok: true, addresses, members: results, ...(failures[0] ? { incomplete: failures[0] } : {}) };
}
