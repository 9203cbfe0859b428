// `rds-nlb-sync drill`: fail over a non-production database for real and time every step from the
// request to the new target healthy in the target group (lib/drill/). Refused without
// --yes-fail-over <the same id> before any client exists; refused for a database with no reader or
// standby, a target group not in sync, or a --probe that cannot connect, before the failover.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { describeDatabase, listEvents, requestFailover, type FailoverSource } from '../lib/aws/failover.js';
import { describeTargets } from '../lib/aws/targets.js';
import { describeServingTargets } from '../lib/aws/listener.js';
import type { Mapping, SyncConfig } from '../lib/config.js';
import { createResolver } from '../lib/dns.js';
import { connectOnce, parseProbeTarget, startProbe, type ProbeTarget } from '../lib/drill/probe.js';
import { baselineMismatch, failoverRefusal, pickMapping } from '../lib/drill/refusal.js';
import { runDrill } from '../lib/drill/run.js';
import { renderSummary } from '../lib/drill/timeline.js';
import { describeError, type Log } from '../lib/log.js';
import { isDraining } from '../lib/sync/plan.js';
import { runSync } from '../lib/sync/run.js';
import { awsOptionsOf, checkCredentials, createCliClients, regionOf } from './clients.js';
import type { CommandResult, CommandRunner } from './command.js';
import { loadSync, type ResolvedSettings } from './config.js';
import { UsageError, type Flags } from './options.js';

export interface DrillArgs {
  source: FailoverSource;
  targetInstance?: string;
  budgetMs: number;
  probe?: ProbeTarget;
  local: boolean;
}

export const DEFAULT_BUDGET_SECONDS = 600;
/** Exit code after Ctrl-C, as shells report SIGINT. */
export const EXIT_INTERRUPTED = 130;

/**
 * The drill's command line, checked before settings are read and before any AWS client exists
 * (cli/main.ts calls it first): no confirmation, no drill.
 */
export function checkDrillCommandLine(flags: Flags): DrillArgs {
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const cluster = str('db-cluster-identifier');
  const instance = str('db-instance-identifier');
  if ((cluster === undefined) === (instance === undefined)) {
    throw new UsageError('drill needs one database: --db-cluster-identifier <id> or --db-instance-identifier <id>', 'drill');
  }
  const source: FailoverSource = cluster !== undefined ? { kind: 'cluster', id: cluster } : { kind: 'instance', id: instance ?? '' };
  const confirm = str('yes-fail-over');
  if (confirm === undefined) {
    throw new UsageError(`drill fails over DB ${source.kind} ${source.id} for real: repeat its identifier with --yes-fail-over ${source.id} to go ahead (non-production databases only); nothing was done`, 'drill');
  }
  if (confirm !== source.id) {
    throw new UsageError(`--yes-fail-over ${confirm} does not match DB ${source.kind} ${source.id} (it must repeat the identifier exactly); nothing was done`, 'drill');
  }
  const targetInstance = str('target-instance');
  if (targetInstance !== undefined && source.kind !== 'cluster') throw new UsageError('--target-instance applies to --db-cluster-identifier only', 'drill');
  const budgetText = str('budget-seconds');
  const budget = budgetText === undefined ? DEFAULT_BUDGET_SECONDS : /^\d+$/.test(budgetText.trim()) ? Number(budgetText) : NaN;
  if (!(budget >= 1 && budget <= 86_400)) throw new UsageError(`--budget-seconds must be a whole number of seconds (1-86400), not ${budgetText}`, 'drill');
  const probeText = str('probe');
  const probe = probeText === undefined ? undefined : parseProbeTarget(probeText);
  if (probeText !== undefined && !probe) throw new UsageError(`--probe must be host:port (e.g. my-nlb-0123.elb.eu-west-1.amazonaws.com:5432), not ${probeText}`, 'drill');
  return { source, ...(targetInstance ? { targetInstance } : {}), budgetMs: budget * 1000, ...(probe ? { probe } : {}), local: flags.local === true };
}

const PROBE_CHECK_TIMEOUT_MS = 3000;

export const drill: CommandRunner = async (ctx) => {
  const args = checkDrillCommandLine(ctx.flags);
  const json = ctx.flags.json === true;
  // The live timeline: on stdout for people; on stderr with --json (stdout is the record).
  const print = (text: string) => (json ? ctx.stderr : ctx.stdout)(`${text}\n`);
  const { values } = ctx.settings;
  if (!values.SYNC_MAPPINGS && !values.RDS_ENDPOINT && !values.TARGET_GROUP_ARN) {
    throw new UsageError('drill needs the target group to watch: --target-group-arn <arn>, or the mappings (--mappings, --endpoint/--target-group-arn/--port, -c <file>, SYNC_MAPPINGS)', 'drill');
  }

  const clients = createCliClients(awsOptionsOf(ctx.flags, values));
  try {
    await regionOf(clients);
    await checkCredentials(clients);
    const db = await describeDatabase(clients.rds, args.source);
    const refusal = failoverRefusal(db, args.targetInstance);
    if (refusal) return refused(refusal);
    const { config, mapping } = drillConfig(ctx.settings, db);
    const resolve = createResolver(config.dns);
    // failoverMode warm: what serves is the slot the listener weights now, not one target group.
    const warm = config.warm?.slotArns.includes(mapping.targetGroupArn) ? config.warm : undefined;
    const readTargets = warm ? () => describeServingTargets(clients.elb, warm.listenerArn, warm.slotArns) : () => describeTargets(clients.elb, mapping.targetGroupArn);
    const mode = warm ? 'warm' : 'cold';
    const syncOnce = args.local ? localSync({ ...config, mappings: [mapping] }, { elb: clients.elb, rds: clients.rds, resolve }) : undefined;

    // Before: the group in sync with the endpoint (with --local, after one pass of our own).
    if (syncOnce) {
      const problem = await syncOnce();
      if (problem) return refused(`the sync pass before the failover failed: ${problem}`);
    }
    let addresses: string[];
    try {
      addresses = await resolve(mapping.endpoint, mapping.ipAddressType);
    } catch (err) {
      return refused(`${mapping.endpoint} does not resolve before the failover (${describeError(err).message}): nothing to measure from`);
    }
    const targets = (await readTargets()).filter((t) => t.port === mapping.port && !isDraining(t));
    const mismatch = baselineMismatch(addresses, targets.map((t) => t.ip));
    if (mismatch) return refused(mismatch);
    if (args.probe) {
      try {
        await connectOnce(args.probe, PROBE_CHECK_TIMEOUT_MS);
      } catch (err) {
        return refused(`--probe ${args.probe.host}:${args.probe.port} does not connect before the failover (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): nothing to measure from`);
      }
    }

    const stop = new AbortController();
    const onInterrupt = () => stop.abort();
    process.once('SIGINT', onInterrupt);
    try {
      const writer = db.members?.find((m) => m.writer)?.id;
      const probe = args.probe;
      const record = await runDrill(
        {
          database: { kind: db.kind, id: db.id, endpoint: db.endpoint, ...(writer ? { writerBefore: writer } : {}), ...(args.targetInstance ? { targetInstance: args.targetInstance } : {}) },
          watch: { endpoint: mapping.endpoint, targetGroupArn: mapping.targetGroupArn, port: mapping.port },
          sync: args.local ? 'local' : 'deployed',
          budgetMs: args.budgetMs,
          pollMs: config.failoverPollMs,
          baseline: { port: mapping.port, addresses, targets },
        },
        {
          requestFailover: () => requestFailover(clients.rds, args.source, args.targetInstance),
          listEvents: (since) => listEvents(clients.rds, args.source, since),
          resolve: () => resolve(mapping.endpoint, mapping.ipAddressType),
          describeTargets: readTargets,
          ...(syncOnce ? { sync: syncOnce } : {}),
          ...(probe ? { startProbe: (onChange) => startProbe(probe, { onChange }) } : {}),
          print,
          signal: stop.signal,
        },
      );
      const exitCode = record.verdict.outcome === 'interrupted' ? EXIT_INTERRUPTED : record.verdict.ok ? 0 : 1;
      // A blank line between the live timeline and the summary.
      const modeLine = warm ? 'failover mode: warm (the targets are the slot the listener weights; "registered" is the weight change)' : 'failover mode: cold';
      return { data: { ...record, failoverMode: mode }, text: `\n${modeLine}\n${renderSummary(record)}`, exitCode };
    } finally {
      process.removeListener('SIGINT', onInterrupt);
    }
  } finally {
    clients.destroy();
  }
};

/** Refused before the failover: nothing was done (exit 2, as for a bad command line). */
function refused(reason: string): CommandResult {
  return { data: { outcome: 'refused', reason }, text: `rds-nlb-sync drill: refused, nothing was done: ${reason}`, exitCode: 2 };
}

/**
 * The sync settings and the mapping to watch. --target-group-arn picks among configured mappings;
 * given alone, it watches the database's own endpoint (and port) on that group.
 */
function drillConfig(settings: ResolvedSettings, db: Awaited<ReturnType<typeof describeDatabase>>): { config: SyncConfig; mapping: Mapping } {
  const values = { ...settings.values };
  const sources = { ...settings.sources };
  const targetGroupArn = values.TARGET_GROUP_ARN;
  if (targetGroupArn && values.SYNC_MAPPINGS) {
    delete values.TARGET_GROUP_ARN;
  } else if (targetGroupArn && !values.RDS_ENDPOINT && db.endpoint) {
    const from = `the endpoint of DB ${db.kind} ${db.id}`;
    Object.assign(values, { RDS_ENDPOINT: db.endpoint }, values.TARGET_PORT || db.port === null ? {} : { TARGET_PORT: String(db.port) });
    Object.assign(sources, { RDS_ENDPOINT: from }, sources.TARGET_PORT ? {} : { TARGET_PORT: from });
  }
  // The drill times the target's health itself: its sync passes do not follow.
  const config = { ...loadSync({ values, sources }), failoverFollowMs: 0 };
  const mapping = pickMapping(config.mappings, db, targetGroupArn);
  if (typeof mapping === 'string') throw new UsageError(mapping, 'drill');
  return { config, mapping };
}

// The drill's own sync passes send no metrics and log nothing: a drill must not feed the
// production namespace, its alarms or its heartbeat.
const NO_METRICS = { send: async () => ({ $metadata: {} }) } as unknown as CloudWatchClient;
const SILENT: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };

function localSync(config: SyncConfig, deps: Pick<Parameters<typeof runSync>[2], 'elb' | 'rds' | 'resolve'>): () => Promise<string | undefined> {
  return async () => {
    const summary = await runSync(config, { trigger: 'manual', force: false, dryRun: false }, { ...deps, cloudwatch: NO_METRICS, log: SILENT });
    if (summary.outcome === 'success') return undefined;
    return summary.mappings.flatMap((m) => (m.error ? [`${m.error.name}: ${m.error.message}`] : [])).join('; ') || 'sync failed';
  };
}
