// probe.last: the sync function's last probes through the NLB (lib/sync/probe.ts), read from
// CloudWatch. Doctor reads the metric instead of probing itself: the NLB is internal, and the
// operator's machine is usually outside the VPC, where a connection would say nothing about
// Fivetran's path (and would fail for reasons of its own).
import type { HeartbeatPoint } from './read.js';
import { fail, pass, warn, type Check, type Verdict } from './verdict.js';

/** The window read: the probe alarm's 5 periods of the default 1-minute schedule, three times over. */
export const PROBE_MINUTES = 15;

export const lastProbe: Check<string> = {
  id: 'probe.last',
  run: async (namespace, { reader, now }) => decideProbe(await reader.probes(namespace, PROBE_MINUTES), namespace, now()),
};

/** `points`: newest first; `runs` probes in that minute, `successes` of them answered (every listener, with several databases). */
export function decideProbe(points: HeartbeatPoint[], namespace: string, now: number): Verdict {
  const latest = points[0];
  if (!latest) {
    return warn(
      `no ProbeSuccess in namespace ${namespace} for ${PROBE_MINUTES} minutes: the sync function did not probe (outside the VPC, probe: false, no NLB to probe, or not running)`,
      'The "probe" field of the "sync run" log line says why it was skipped (status skipped, reason). Without a probe, nothing checks that the database answers through the NLB.',
    );
  }
  const ago = `${Math.max(0, Math.round((now - latest.time.getTime()) / 60_000))} min ago`;
  const total = points.reduce((n, p) => n + p.runs, 0);
  const answered = points.reduce((n, p) => n + p.successes, 0);
  if (latest.successes === 0) {
    return fail(
      `the last probe through the NLB failed (${latest.time.toISOString()}, ${ago}; ${answered} of ${total} answered in ${PROBE_MINUTES} minutes)`,
      'Read the "probe" field of the "sync run" line (several databases behind the NLB: probe.failed names the listeners that did not answer, probe.listeners has each one\'s kind and code): database-error 1129 - MySQL blocks the NLB (FLUSH HOSTS; raise max_connect_errors, see db.max-connect-errors); timeout or refused - no healthy target, or the database does not admit the NLB (db.security-groups, targets.health).',
    );
  }
  if (answered < total) return warn(`the last probe answered ${ago}, but ${total - answered} of ${total} failed in ${PROBE_MINUTES} minutes`, 'Read the "probe" field of the failed runs\' "sync run" lines.');
  return pass(`the database answered through the NLB ${ago} (${total} probe${total === 1 ? '' : 's'} in ${PROBE_MINUTES} minutes, all answered)`);
}
