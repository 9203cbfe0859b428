// What a drill checks before it fails anything over: a database with somewhere to fail over to,
// the mapping it watches, and a target group in sync with the endpoint (else nothing to measure
// from). Pure: each returns the reason to refuse, or undefined.
import type { DatabaseInfo } from '../aws/failover.js';
import type { Mapping } from '../config.js';
import { ipSet } from '../ip.js';
import { parseRdsEndpoint } from '../rds-endpoint.js';

/** Why this database cannot be failed over by the drill; undefined when it can. */
export function failoverRefusal(db: DatabaseInfo, targetInstance?: string): string | undefined {
  const what = `DB ${db.kind} ${db.id}`;
  if (db.kind === 'cluster') {
    const members = db.members ?? [];
    if (members.length < 2) {
      return `${what} has ${members.length === 1 ? `one instance (${members[0]?.id})` : 'no instances'} and no reader or standby to fail over to: add a reader first`;
    }
    if (targetInstance) {
      const target = members.find((m) => m.id === targetInstance.toLowerCase());
      if (!target) return `--target-instance ${targetInstance} is not a member of ${what} (members: ${members.map((m) => m.id).join(', ')})`;
      if (target.writer) return `--target-instance ${targetInstance} is already the writer of ${what}: name a reader`;
    }
  } else {
    if (db.clusterId) return `${what} is a member of DB cluster ${db.clusterId}: fail over the cluster (--db-cluster-identifier ${db.clusterId})`;
    if (!db.multiAz) return `${what} is not Multi-AZ (MultiAZ false): it has no standby to fail over to`;
  }
  if (db.status !== null && db.status !== 'available') return `${what} is ${db.status}: wait until it is available`;
  if (!db.endpoint) return `${what} has no endpoint yet`;
  return undefined;
}

/**
 * The mapping the drill watches: the one with --target-group-arn, else the one that follows the
 * database's endpoint (its writer endpoint, or the instance endpoint). A string: why none fits.
 */
export function pickMapping(mappings: readonly Mapping[], db: DatabaseInfo, targetGroupArn?: string): Mapping | string {
  const found = targetGroupArn ? mappings.filter((m) => m.targetGroupArn === targetGroupArn) : mappings.filter((m) => m.endpoint === db.endpoint);
  const kind = found[0] ? parseRdsEndpoint(found[0].endpoint).kind : undefined;
  if (found.length === 1 && (kind === 'reader' || kind === 'custom')) {
    // One member per DNS answer, at random: its answer changes without any failover.
    return `${found[0]?.endpoint} is a ${kind} endpoint: the drill watches a writer or instance endpoint's group (--target-group-arn)`;
  }
  if (found.length === 1 && found[0]) return found[0];
  if (targetGroupArn) {
    return found.length === 0 ? `no configured mapping has target group ${targetGroupArn}` : `${found.length} mappings have target group ${targetGroupArn} (one per port): keep one (--mappings)`;
  }
  return found.length === 0
    ? `no configured mapping follows ${db.endpoint ?? db.id} (the endpoint of DB ${db.kind} ${db.id}): pass --target-group-arn <arn> of the group to watch`
    : `${found.length} mappings follow ${db.endpoint}: pass --target-group-arn <arn> to pick one`;
}

/** The group must hold exactly the endpoint's answer before the failover, or the steps after it mean nothing. */
export function baselineMismatch(addresses: readonly string[], targets: readonly string[]): string | undefined {
  const a = ipSet(addresses);
  const t = ipSet(targets);
  if (a.size === t.size && [...a].every((ip) => t.has(ip))) return undefined;
  return `the target group (${[...t].join(', ') || 'no targets'}) does not hold the endpoint's answer (${[...a].join(', ')}) before the failover: run "rds-nlb-sync sync" first (or drill --local)`;
}
