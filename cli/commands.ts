// The commands (drill: cli/drill.ts), each a thin layer over lib/: settings -> config -> the same run the
// Lambdas do (or doctor) -> data for --json, text for people, and an exit code.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { runAccept } from '../lib/accept/run.js';
import { createResolver } from '../lib/dns.js';
import { FIVETRAN_CHECK_HINT } from '../lib/doctor/fivetran.js';
import { runDoctor } from '../lib/doctor/run.js';
import { runRemovalPreflight } from '../lib/doctor/removal.js';
import { loadFivetranConfig } from '../lib/config.js';
import { createFivetranClient } from '../lib/fivetran/client.js';
import type { Log } from '../lib/log.js';
import { runSync } from '../lib/sync/run.js';
import type { SyncConfig } from '../lib/config.js';
import { DiscoveryCache, discoverMappings, type DiscoveryReport } from '../lib/sync/discovery.js';
import { listTaggedTargetGroups } from '../lib/aws/target-groups.js';
import { awsOptionsOf, checkCredentials, createCliClients, createInvokeClient, regionOf, type CliClients } from './clients.js';
import { loadAccept, loadDoctorInput, loadSync } from './config.js';
import { UsageError, type Flags } from './options.js';
import { invokeSync, syncFunctionName } from './invoke.js';
import { renderAccept, renderDoctor, renderPlan, renderSync } from './output.js';
import { planMappings } from './plan.js';
import { drill } from './drill.js';
import type { CommandContext, CommandResult, CommandRunner } from './command.js';

export type { CommandContext, CommandResult, CommandRunner } from './command.js';

const flag = (flags: Flags, name: string) => flags[name] === true;

export const plan: CommandRunner = async (ctx) => {
  const loaded = loadSync(ctx.settings);
  return withClients(ctx, async (clients) => {
    const { config, report: discovery } = await discover(loaded, clients);
    const report = await planMappings(config, flag(ctx.flags, 'force'), { elb: clients.elb, rds: clients.rds, resolve: createResolver(config.dns) });
    const text = [renderPlan(report, ctx.style), ...discoveryLines(discovery)].join('\n');
    return { data: { ...report, ...(discovery ? { discovery } : {}) }, text, exitCode: report.ok && !discovery?.failures.length ? 0 : 1 };
  });
};

/**
 * DISCOVER_TARGET_GROUPS (--discover): the tagged target groups join the mappings, as in the
 * Lambda (lib/sync/discovery.ts). One listing per command: a failed one fails the command.
 */
function discover(config: SyncConfig, clients: CliClients) {
  return discoverMappings(config, (keys) => listTaggedTargetGroups(clients.elb, keys), new DiscoveryCache());
}

/** The groups discovery could not serve, and the static mappings that won over a tag, for the text output. */
function discoveryLines(report: DiscoveryReport | undefined): string[] {
  if (!report) return [];
  return [
    ...report.overridden.map((o) => `discovery: ${o.targetGroupArn} port ${o.port} is tagged ${o.taggedEndpoint}; the static mapping (${o.servedEndpoint}) is served`),
    ...report.failures.map((f) => `discovery failed: ${f.message}`),
  ];
}

/** Mapping and DNS flags describe a local run; the deployed function has its own settings. */
const LOCAL_ONLY_FLAGS = ['mappings', 'mappings-parameter', 'no-metrics', 'target-group-arn', 'port', 'availability-zone', 'ip-address-type', 'dns-servers', 'dns-timeout-ms', 'dns-tries', 'namespace', 'verbose'];

export const sync: CommandRunner = async (ctx) => {
  if (flag(ctx.flags, 'local')) return syncHere(ctx);
  const str = (name: string) => (typeof ctx.flags[name] === 'string' ? (ctx.flags[name] as string) : undefined);
  const functionName = syncFunctionName(str('function'), ctx.settings.values.SYNC_FUNCTION_NAME, str('stage'));
  if (!functionName) {
    throw new UsageError('sync invokes the deployed function: pass --stage <stage> (or --function <name>, or set SYNC_FUNCTION_NAME); pass --local to run it from here instead', 'sync');
  }
  const local = LOCAL_ONLY_FLAGS.filter((f) => ctx.flags[f] !== undefined);
  if (local.length > 0) {
    throw new UsageError(`${local.map((f) => `--${f}`).join(', ')} only apply with --local: the deployed function ${functionName} uses its own settings`, 'sync');
  }
  const endpoint = str('endpoint');
  const payload = {
    ...(flag(ctx.flags, 'force') ? { force: true } : {}),
    ...(flag(ctx.flags, 'dry-run') ? { dryRun: true } : {}),
    ...(endpoint ? { endpoints: [endpoint] } : {}),
  };
  return withClients(ctx, async (clients) => {
    const options = awsOptionsOf(ctx.flags, ctx.settings.values);
    const { summary, error } = await invokeSync(functionName, payload, { lambda: clients.lambda, invokeClient: (ms) => createInvokeClient(options, ms) });
    // A run that failed there still has its summary (from the log tail): printed, with the error.
    const failed = error ? [`${functionName} failed: ${error.name}: ${error.message}`] : [];
    const text = [`invoked ${functionName}`, '', renderSync(summary, ctx.style, { metricsUnknown: Boolean(error) }), ...failed].join('\n');
    return { data: { functionName, ...summary, ...(error ? { error } : {}) }, text, exitCode: summary.outcome === 'success' && !error ? 0 : 1 };
  });
};

/** --local: the run the Lambda does, from here, with these settings. */
const syncHere: CommandRunner = async (ctx) => {
  // The Lambda follows a failover until the new target is healthy (minutes); from a terminal,
  // the run ends once the group is changed (doctor and drill show the health).
  const loaded = { ...loadSync(ctx.settings), failoverFollowMs: 0 };
  return withClients(ctx, async (clients) => {
    const { config, report: discovery } = await discover(loaded, clients);
    const request = { trigger: 'manual' as const, force: flag(ctx.flags, 'force'), dryRun: flag(ctx.flags, 'dry-run'), ...(discovery ? { discovery } : {}) };
    const deps = { elb: clients.elb, cloudwatch: metricsClient(ctx, clients), rds: clients.rds, resolve: createResolver(config.dns), log: runLog(ctx) };
    const summary = withMetricsFlag(ctx, await runSync(config, request, deps));
    const text = [renderSync(summary, ctx.style, { metricsOff: noMetrics(ctx) }), ...discoveryLines(discovery)].join('\n');
    return { data: summary, text, exitCode: summary.outcome === 'success' ? 0 : 1 };
  });
};

export const accept: CommandRunner = async (ctx) => {
  const config = loadAccept(ctx.settings);
  return withClients(ctx, async (clients) => {
    const deps = { ec2: clients.ec2, cloudwatch: metricsClient(ctx, clients), log: runLog(ctx) };
    const summary = withMetricsFlag(ctx, await runAccept(config, { trigger: 'manual', dryRun: flag(ctx.flags, 'dry-run') }, deps));
    return { data: summary, text: renderAccept(summary, ctx.style, { metricsOff: noMetrics(ctx) }), exitCode: summary.outcome === 'failed' ? 1 : 0 };
  });
};

export const doctor: CommandRunner = async (ctx) => {
  if (flag(ctx.flags, 'removal')) return removalPreflight(ctx);
  const { input: given, dns } = loadDoctorInput(ctx.settings, typeof ctx.flags.stage === 'string' ? ctx.flags.stage : undefined);
  return withClients(ctx, async (clients, region) => {
    // --discover: every discovered group is checked like a mapping.
    const { config, report: discovery } = await discover({ ...loadSync(ctx.settings), mappings: given.mappings }, clients);
    const input = { ...given, mappings: config.mappings };
    const { credentials, apiUrl } = loadFivetranConfig(ctx.settings.values);
    const fivetran = credentials ? { fivetran: createFivetranClient({ ...credentials, baseUrl: apiUrl }) } : {};
    const report = await runDoctor(input, { ...clients, resolve: createResolver(dns), region, ...fivetran });
    const hint = credentials ? '' : `\n${FIVETRAN_CHECK_HINT}`;
    const text = [`${renderDoctor(report, region, ctx.style)}${hint}`, ...discoveryLines(discovery)].join('\n');
    return { data: { region, ...report, ...(discovery ? { discovery } : {}) }, text, exitCode: report.ok && !discovery?.failures.length ? 0 : 1 };
  });
};

/** doctor --removal: what blocks the stack's deletion. Needs only the stage (and optionally NLBs). */
const removalPreflight: CommandRunner = async (ctx) => {
  const stage = typeof ctx.flags.stage === 'string' ? ctx.flags.stage : undefined;
  if (!stage) throw new UsageError('doctor --removal needs --stage <stage>: the stack that `serverless remove --stage <stage>` would delete', 'doctor');
  const loadBalancerArns = (ctx.settings.values.LOAD_BALANCER_ARNS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return withClients(ctx, async (clients, region) => {
    const report = await runRemovalPreflight({ stage, loadBalancerArns }, clients);
    const verdict = report.ok ? `nothing found that blocks \`serverless remove --stage ${stage}\`` : 'clear each failure above, then run `serverless remove`';
    return { data: { region, stage, ...report }, text: `${renderDoctor(report, region, ctx.style)}\n${verdict}`, exitCode: report.ok ? 0 : 1 };
  });
};

export const COMMAND_RUNNERS = { plan, sync, accept, doctor, drill };

/** Clients for one command, after the region is known (a missing region is a settings error). */
async function withClients(ctx: CommandContext, run: (clients: CliClients, region: string) => Promise<CommandResult>): Promise<CommandResult> {
  const clients = createCliClients(awsOptionsOf(ctx.flags, ctx.settings.values));
  try {
    const region = await regionOf(clients);
    await checkCredentials(clients);
    return await run(clients, region);
  } finally {
    clients.destroy();
  }
}

const noMetrics = (ctx: CommandContext) => flag(ctx.flags, 'no-metrics');

/**
 * --no-metrics: a stand-in whose PutMetricData goes nowhere, so an experiment from a laptop never
 * feeds the production namespace and its alarms. MetricsBatch.flush only calls send().
 */
function metricsClient(ctx: CommandContext, clients: CliClients): CloudWatchClient {
  return noMetrics(ctx) ? ({ send: async () => ({ $metadata: {} }) } as unknown as CloudWatchClient) : clients.cloudwatch;
}

const withMetricsFlag = <T extends { metricsSent: boolean }>(ctx: CommandContext, summary: T): T => (noMetrics(ctx) ? { ...summary, metricsSent: false } : summary);

/** The lib's structured log lines, as the Lambda would log them: on stderr with --verbose, else none (the CLI prints the summary). */
function runLog(ctx: CommandContext): Log {
  if (!flag(ctx.flags, 'verbose')) return { info: () => undefined, warn: () => undefined, error: () => undefined };
  // Reserved keys last, as Powertools keeps them: an extra `message` never replaces the line's.
  const line = (level: string) => (message: string, ...extra: Record<string, unknown>[]) =>
    ctx.stderr(`${JSON.stringify({ ...Object.assign({}, ...extra), level, message })}\n`);
  return { info: line('INFO'), warn: line('WARN'), error: line('ERROR') };
}
