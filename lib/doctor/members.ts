// Doctor check for reader and custom endpoint mappings: each member instance, what it resolves
// to, and the state of its target, so an operator sees which reader is missing and why.
import type { Mapping } from '../config.js';
import { isMemberSet } from '../rds-endpoint.js';
import type { DesiredSet } from '../sync/members.js';
import { isDraining, type RegisteredTarget } from '../sync/plan.js';
import { couldNotTell, fail, list, notChecked, pass, warn, type Check, type Verdict } from './verdict.js';

export const memberTargets: Check<Mapping> = {
  id: 'members.targets',
  async run(m, { reader }) {
    const [desired, tg] = await Promise.all([reader.resolve(m.endpoint, m.ipAddressType), reader.targetGroup(m.targetGroupArn)]);
    if (!tg) return notChecked('target group not found (target-group.settings)');
    return decideMembers(desired, await reader.targetHealth(m.targetGroupArn), m.port);
  },
};

/** Only reader and custom endpoints have members; for the others DNS's answer is the whole set. */
export const memberChecks = (m: Mapping): Check<Mapping>[] => (isMemberSet(m.endpoint) ? [memberTargets] : []);

const SYNC_FIX =
  'Run `rds-nlb-sync sync --stage <stage>` to fix it now. The sync function should have done it within a minute: check its "sync run" log line (members, error) and the RdsApiFailures / DnsFailures metrics.';

/** Each member with its target state; fails when a member that resolved is not a live target. */
export function decideMembers(desired: DesiredSet, registered: RegisteredTarget[], port: number): Verdict {
  if (!desired.members) {
    // The RDS API did not answer: doctor's own credentials or network, not necessarily sync's.
    return desired.ok ? notChecked('no member list') : couldNotTell(desired.error);
  }
  const live = new Map(registered.filter((t) => t.port === port).map((t) => [t.ip, t]));
  const missing: string[] = [];
  const unresolved: string[] = [];
  const shown = desired.members.map((member) => {
    if (member.error) {
      unresolved.push(member.id);
      return `${member.id}: ${member.error.message}`;
    }
    if (!member.addresses?.length) return `${member.id}: no instance endpoint yet (being created)`;
    const states = member.addresses.map((ip) => {
      const target = live.get(ip);
      if (!target || isDraining(target)) missing.push(ip);
      return `${ip} ${target?.state ?? 'not registered'}`;
    });
    return `${member.id} ${list(states)}`;
  });
  const summary = `${desired.members.length} member${desired.members.length === 1 ? '' : 's'}: ${shown.join('; ')}`;
  if (missing.length > 0) return fail(`${summary}. Not a live target: ${list(missing)}`, SYNC_FIX);
  if (unresolved.length > 0) {
    return fail(`${summary}. ${list(unresolved)} did not resolve: sync keeps their targets and fails the mapping`, 'Check the DNS answer for each member\'s instance endpoint from inside the VPC (--dns-servers).');
  }
  if (desired.members.length === 0 || !desired.ok) return fail(`${summary}. Nothing to point at`, 'Add an instance to the cluster, or check the custom endpoint\'s static and excluded members.');
  const members = new Set(desired.ok ? desired.addresses : []);
  const stale = [...live.values()].filter((t) => !isDraining(t) && !members.has(t.ip)).map((t) => t.ip);
  if (stale.length > 0) return warn(`${summary}. Registered but no member's: ${list(stale)} (sync removes them on its next run)`, SYNC_FIX);
  return pass(summary);
}
