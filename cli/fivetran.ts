// `rds-nlb-sync fivetran link|status|unlink`: from a deployed endpoint service to a connected
// Fivetran, and back. link: find our endpoint service, create Fivetran's Private Link for it
// unless one exists, and wait until Fivetran says OK while the endpoint connection is accepted
// (by the accept function, or in-process with --accept). status: Fivetran's link state beside
// ours. unlink: delete that Private Link at Fivetran (with --yes), the first step of removal.
// Without API credentials, or where Fivetran refuses (plan, self-service), it prints the
// support request instead. The API key and secret come from the environment (or --config),
// never from a flag (visible in `ps`), and are never printed.
import { parseArgs } from 'node:util';
import type { EC2Client } from '@aws-sdk/client-ec2';
import { runAccept } from '../lib/accept/run.js';
import { findServicesForLoadBalancers } from '../lib/aws/endpoint-connections.js';
import { listConnections, type ConnectionInfo } from '../lib/aws/endpoint-connections.js';
import { describeEndpointService, type EndpointServiceInfo } from '../lib/aws/endpoint-service.js';
import { ConfigError, loadFivetranConfig, type AcceptConfig } from '../lib/config.js';
import { createFivetranClient, FivetranForbiddenError, type FivetranClient } from '../lib/fivetran/client.js';
import { findLink, fivetranRegion, isValidLinkName, supportRequest, type PrivateLink } from '../lib/fivetran/decide.js';
import { linkEndpointService, MIN_POLL_MS, type LinkResult } from '../lib/fivetran/link.js';
import { createCliClients, regionOf, type CliClients } from './clients.js';
import { gatherSettings, loadAccept } from './config.js';
import type { CommandResult } from './command.js';
import type { CliIo } from './io.js';
import { UsageError, type Flags } from './options.js';

const SUBCOMMANDS = ['link', 'status', 'unlink'] as const;

const OPTIONS = {
  'service-id': { type: 'string', multiple: true },
  'load-balancer-arn': { type: 'string', multiple: true },
  'allowed-principal': { type: 'string', multiple: true },
  'reject-unlisted': { type: 'boolean' },
  name: { type: 'string' },
  accept: { type: 'boolean' },
  yes: { type: 'boolean' },
  'wait-seconds': { type: 'string' },
  'poll-seconds': { type: 'string' },
  config: { type: 'string', short: 'c' },
  region: { type: 'string' },
  profile: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const FIVETRAN_HELP = `Usage: rds-nlb-sync fivetran <link|status|unlink> [options]

link    Create Fivetran's Private Link for our endpoint service (unless one exists), then wait
        until Fivetran reports OK while the endpoint connection is accepted. Exit 0 when
        connected, 1 on FAIL, timeout, or when only a support request can be printed.
status  Fivetran's link state beside our endpoint connections. Exit 0 when connected.
unlink  Delete our Private Link at Fivetran (the one status shows). Every Fivetran connection
        that uses it stops working: without --yes it only shows the link (exit 2). Exit 0 when
        deleted or already gone, 1 when it cannot be deleted through the API.

Options:
  --service-id <vpce-svc-...>         endpoint service [ENDPOINT_SERVICE_IDS]
  --load-balancer-arn <arn>           or find the service in front of this NLB [LOAD_BALANCER_ARNS]
  --allowed-principal <account|arn>   Fivetran's account (default 834469178297) [ALLOWED_PRINCIPALS]
  --name <name>                       link: Private Link name (default rds_<service hex>): up to 23
                                      letters, digits or underscores, starting with a letter or _
  --accept                            link: accept the endpoint connection in-process while waiting
  --reject-unlisted                   with --accept: reject other accounts' connections [REJECT_UNLISTED]
  --wait-seconds <n>                  link: how long to wait for OK (default 900)
  --poll-seconds <n>                  link: seconds between polls (default 10, at least 1)
  --yes                               unlink: delete it (it breaks Fivetran's connections)
  -c, --config <file>                 settings file (.json or KEY=value lines)
  --region <region>, --profile <name> AWS region and profile (default: the SDK chain)
  --json                              print JSON for scripts

Fivetran API: FIVETRAN_API_KEY and FIVETRAN_API_SECRET (environment only; Fivetran dashboard:
API key), FIVETRAN_API_URL (default https://api.fivetran.com/v1; https only, http only to
127.0.0.1). Without them, link prints the support request to send Fivetran instead.`;

/** `fivetran <link|status> [flags]` (argv after "fivetran"): the subcommand and its flags, or help; UsageError when refused. */
export function parseFivetranCommandLine(argv: string[]): { kind: 'help' } | { kind: 'run'; sub: (typeof SUBCOMMANDS)[number]; flags: Flags } {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') return { kind: 'help' };
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UsageError(`unknown fivetran command "${sub}": expected link, status or unlink (rds-nlb-sync fivetran --help)`);
  let flags: Flags;
  try {
    flags = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: false }).values as Flags;
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (rds-nlb-sync fivetran --help)`);
  }
  return flags.help ? { kind: 'help' } : { kind: 'run', sub: sub as (typeof SUBCOMMANDS)[number], flags };
}

export async function runFivetranCli(argv: string[], io: CliIo): Promise<CommandResult> {
  const parsed = parseFivetranCommandLine(argv);
  if (parsed.kind === 'help') return { data: null, text: FIVETRAN_HELP, exitCode: 0 };
  const { sub, flags } = parsed;

  // The accept settings, read exactly as `accept` reads them (flags over env over --config).
  const settings = await gatherSettings('accept', flags, io.env);
  const accept = loadAccept(settings);
  const fivetranConfig = loadFivetranConfig(settings.values);
  const str = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  // Every check of the command line before the first call, to AWS or to Fivetran (exit 2).
  const seconds = (name: string, fallback: number, min: number) => {
    const value = str(name);
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number of seconds${min > 0 ? `, at least ${min}` : ''} (rds-nlb-sync fivetran --help)`);
    return n * 1000;
  };
  const waitMs = seconds('wait-seconds', 900, 0);
  const pollMs = seconds('poll-seconds', 10, MIN_POLL_MS / 1000);
  const name = str('name');
  if (name !== undefined && !isValidLinkName(name)) {
    throw new UsageError(`--name ${JSON.stringify(name)}: Fivetran takes up to 23 letters, digits or underscores, starting with a letter or an underscore (e.g. rds_orders)`);
  }
  const fivetran = fivetranConfig.credentials ? createFivetranClient({ ...fivetranConfig.credentials, baseUrl: fivetranConfig.apiUrl }) : undefined;

  const region = str('region');
  const profile = str('profile');
  const clients = createCliClients({ ...(region ? { region } : {}), ...(profile ? { profile } : {}) });
  try {
    const awsRegion = await regionOf(clients);
    // Refused first: a region Fivetran does not serve needs neither the API nor a ticket.
    if (sub === 'link') fivetranRegion(awsRegion);
    const service = await describeEndpointService(clients.ec2, await oneServiceId(clients.ec2, accept));
    const ctx = { clients, awsRegion, service, accept, fivetran, io, flags, waitMs, pollMs };
    return sub === 'link' ? await link(ctx) : sub === 'unlink' ? await unlink(ctx) : await status(ctx);
  } finally {
    clients.destroy();
  }
}

interface Ctx {
  clients: CliClients;
  awsRegion: string;
  service: EndpointServiceInfo;
  accept: AcceptConfig;
  fivetran: FivetranClient | undefined;
  io: CliIo;
  flags: Flags;
  waitMs: number;
  pollMs: number;
}

async function oneServiceId(ec2: EC2Client, config: AcceptConfig): Promise<string> {
  const ids = config.serviceIds.length > 0 ? config.serviceIds : [...new Set([...(await findServicesForLoadBalancers(ec2, config.loadBalancerArns)).values()].flat())];
  if (ids.length === 1 && ids[0]) return ids[0];
  if (ids.length === 0) throw new ConfigError(`no VPC endpoint service in front of ${config.loadBalancerArns.join(', ')}: deploy with the endpoint service, or pass --service-id`);
  throw new UsageError(`several endpoint services (${ids.join(', ')}): name one with --service-id`);
}

function support(ctx: Ctx, reason: string): CommandResult {
  const request = supportRequest({ serviceName: ctx.service.serviceName, region: ctx.awsRegion, ...(ctx.service.account ? { account: ctx.service.account } : {}), reason });
  const data = { outcome: 'support-request', serviceName: ctx.service.serviceName, region: ctx.awsRegion, account: ctx.service.account ?? null, reason, supportRequest: request };
  return { data, text: request, exitCode: 1 };
}

async function link(ctx: Ctx): Promise<CommandResult> {
  if (!ctx.fivetran) {
    return support(ctx, 'FIVETRAN_API_KEY and FIVETRAN_API_SECRET are not set, so the Private Link cannot be created through the API.');
  }
  const ours = () => listConnections(ctx.clients.ec2, ctx.service.serviceId, { owners: ctx.accept.allowedAccounts });
  const acceptRound = ctx.flags.accept === true ? () => acceptOnce(ctx) : undefined;
  let result: LinkResult;
  try {
    result = await linkEndpointService(
      { serviceId: ctx.service.serviceId, serviceName: ctx.service.serviceName, region: ctx.awsRegion, waitMs: ctx.waitMs, pollMs: ctx.pollMs, ...(typeof ctx.flags.name === 'string' ? { name: ctx.flags.name } : {}) },
      {
        fivetran: ctx.fivetran,
        progress: (line) => ctx.io.stderr(`${line}\n`),
        connectionState: async () => `our side: ${describeConnections(await ours())}`,
        ...(acceptRound ? { acceptRound } : {}),
      },
    );
  } catch (err) {
    if (err instanceof FivetranForbiddenError) {
      return support(ctx, `Fivetran refused to create the Private Link (${err.message}). Private Links need the Business Critical plan, and self-service stays off until Fivetran support enables it.`);
    }
    throw err;
  }
  const connections = await ours();
  const data = { ...result, region: ctx.awsRegion, serviceId: ctx.service.serviceId, connections };
  return { data, text: renderLink(result, connections), exitCode: result.outcome === 'connected' ? 0 : 1 };
}

async function acceptOnce(ctx: Ctx): Promise<string> {
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const summary = await runAccept(
    { ...ctx.accept, serviceIds: [ctx.service.serviceId] },
    { trigger: 'manual', dryRun: false },
    { ec2: ctx.clients.ec2, cloudwatch: ctx.clients.cloudwatch, log: silent },
  );
  const t = summary.totals;
  return `accept (--accept): ${t.accepted} accepted, ${t.rejected} rejected, ${t.stillPending} left pending${t.errors ? `, ${t.errors} error(s)` : ''}`;
}

async function status(ctx: Ctx): Promise<CommandResult> {
  const connections = await listConnections(ctx.clients.ec2, ctx.service.serviceId);
  const link: PrivateLink | undefined = ctx.fivetran ? findLink(await ctx.fivetran.listPrivateLinks(), ctx.service.serviceName) : undefined;
  const fromFivetran = connections.filter((c) => c.owner && ctx.accept.allowedAccounts.includes(c.owner));
  const connected = link?.state === 'OK' && fromFivetran.some((c) => c.state.toLowerCase() === 'available');
  const fivetranLine = !ctx.fivetran
    ? 'not checked: set FIVETRAN_API_KEY and FIVETRAN_API_SECRET to see the Private Link'
    : link
      ? `Private Link ${link.id} (${link.name}, ${link.region}): ${link.state}${link.state_summary ? ` (${link.state_summary})` : ''}`
      : 'no Private Link for this service: rds-nlb-sync fivetran link';
  const text = [
    `Endpoint service ${ctx.service.serviceName} (region ${ctx.awsRegion})`,
    `  Fivetran:  ${fivetranLine}`,
    `  AWS side:  ${describeConnections(connections)}`,
    connected ? '  Connected.' : '  Not connected yet.',
  ].join('\n');
  const data = { serviceId: ctx.service.serviceId, serviceName: ctx.service.serviceName, region: ctx.awsRegion, link: link ?? null, fivetranChecked: Boolean(ctx.fivetran), connections, connected };
  return { data, text, exitCode: connected ? 0 : 1 };
}

/**
 * Deletes our Private Link at Fivetran: the one `status` shows (its config names our endpoint
 * service). Only with --yes: every Fivetran connection that uses the link stops working.
 */
async function unlink(ctx: Ctx): Promise<CommandResult> {
  const base = { serviceId: ctx.service.serviceId, serviceName: ctx.service.serviceName, region: ctx.awsRegion };
  if (!ctx.fivetran) {
    const reason = 'FIVETRAN_API_KEY and FIVETRAN_API_SECRET are not set, so the Private Link cannot be deleted through the API.';
    const text = `Not deleted: ${reason}\nSet them (Fivetran dashboard: API key), or ask Fivetran support to delete the Private Link for ${ctx.service.serviceName}.`;
    return { data: { ...base, outcome: 'not-deleted', reason, link: null }, text, exitCode: 1 };
  }
  const link = findLink(await ctx.fivetran.listPrivateLinks(), ctx.service.serviceName);
  const named = (l: PrivateLink) => `Private Link ${l.id} (${l.name}, ${l.region}, ${l.state})`;
  if (!link) {
    return { data: { ...base, outcome: 'absent', link: null }, text: `No Private Link at Fivetran for ${ctx.service.serviceName}: nothing to delete.`, exitCode: 0 };
  }
  if (link.state === 'DESTROYING') {
    return { data: { ...base, outcome: 'deleting', link }, text: `${named(link)} is being deleted at Fivetran already: nothing to do.`, exitCode: 0 };
  }
  if (ctx.flags.yes !== true) {
    const text = [
      `Would delete ${named(link)} for ${ctx.service.serviceName}.`,
      'Every Fivetran connection that uses it stops working. Nothing was deleted: run again with --yes to delete it.',
    ].join('\n');
    return { data: { ...base, outcome: 'confirmation-needed', link }, text, exitCode: 2 };
  }
  const { message } = await ctx.fivetran.deletePrivateLink(link.id);
  const connections = (await listConnections(ctx.clients.ec2, ctx.service.serviceId)).filter((c) => c.owner && ctx.accept.allowedAccounts.includes(c.owner));
  const text = [
    `Deleted ${named(link)}: Fivetran says "${message}". It turns DESTROYING, then goes.`,
    `Our side: ${describeConnections(connections)}`,
    ...(connections.length > 0
      ? [`Fivetran removes its endpoint as the link goes. Until then a connection blocks removing the stack; to end it now: aws ec2 reject-vpc-endpoint-connections --service-id ${ctx.service.serviceId} --vpc-endpoint-ids ${connections.map((c) => c.endpointId).join(' ')}`]
      : []),
  ].join('\n');
  return { data: { ...base, outcome: 'deleted', link, message, connections }, text, exitCode: 0 };
}

function describeConnections(connections: ConnectionInfo[]): string {
  if (connections.length === 0) return 'no endpoint connection yet';
  return connections.map((c) => `${c.endpointId} from ${c.owner ?? 'unknown owner'}: ${c.state}`).join(', ');
}

function renderLink(result: LinkResult, connections: ConnectionInfo[]): string {
  const head = `Private Link ${result.link.id} (${result.link.name}) ${result.created ? 'created' : 'reused'} for ${result.serviceName} in ${result.fivetranRegion}`;
  const ours = `Our side: ${describeConnections(connections)}`;
  switch (result.outcome) {
    case 'connected':
      return [head, `Fivetran: OK after ${(result.durationMs / 1000).toFixed(1)} s`, ours, 'Connected: create the Fivetran connection with this Private Link.'].join('\n');
    case 'failed':
      return [head, `Fivetran: ${result.link.state}. ${result.why ?? ''}`, ours, 'Check:', ...(result.checklist ?? []).map((c) => `  - ${c}`)].join('\n');
    default:
      return [head, `Not connected yet: ${result.why ?? ''}`, ours].join('\n');
  }
}
