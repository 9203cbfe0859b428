// The command line: commands, their flags (each flag that sets a setting names the env variable
// the Lambdas read, so flags, env and config files speak one vocabulary), parsing, and --help.
import { parseArgs } from 'node:util';

export const COMMANDS = ['plan', 'sync', 'accept', 'doctor', 'drill'] as const;
export type Command = (typeof COMMANDS)[number];

export interface OptionSpec {
  flag: string;
  /** The setting the flag sets (the Lambdas' env variable); none for flags that only steer the CLI. */
  env?: string;
  boolean?: boolean;
  /** Repeatable; the values are joined with commas, as the env lists are. */
  multiple?: boolean;
  short?: string;
  value?: string;
  help: string;
  commands: readonly Command[];
}

const ALL = COMMANDS;
const SYNC_SIDE: Command[] = ['plan', 'sync', 'doctor', 'drill'];

export const OPTIONS: OptionSpec[] = [
  { flag: 'db-cluster-identifier', value: '<id>', help: 'drill: fail over this Aurora or Multi-AZ DB cluster (FailoverDBCluster)', commands: ['drill'] },
  { flag: 'db-instance-identifier', value: '<id>', help: 'drill: fail over this Multi-AZ DB instance (RebootDBInstance with ForceFailover)', commands: ['drill'] },
  { flag: 'target-instance', value: '<id>', help: 'cluster: the reader to promote (default: RDS picks)', commands: ['drill'] },
  { flag: 'yes-fail-over', value: '<id>', help: 'required: the identifier again, to confirm a real failover', commands: ['drill'] },
  { flag: 'budget-seconds', value: '<n>', help: 'verdict: every step within this many seconds of the request (default 600)', commands: ['drill'] },
  { flag: 'probe', value: '<host:port>', help: 'open a TCP connection here every second (e.g. the NLB\'s DNS name) and report the window with none', commands: ['drill'] },
  { flag: 'local', boolean: true, help: 'run the sync here, in-process, each poll, instead of observing the deployed function', commands: ['drill'] },
  { flag: 'endpoint', env: 'RDS_ENDPOINT', value: '<host>', help: 'RDS endpoint to follow (one mapping; or --mappings)', commands: SYNC_SIDE },
  { flag: 'target-group-arn', env: 'TARGET_GROUP_ARN', value: '<arn>', help: 'IP target group kept on the endpoint', commands: SYNC_SIDE },
  { flag: 'port', env: 'TARGET_PORT', value: '<port>', help: 'database port: the targets are registered on it', commands: SYNC_SIDE },
  { flag: 'availability-zone', env: 'TARGET_AVAILABILITY_ZONE', value: '<az|all>', help: '"all" for a database outside the NLB\'s VPC', commands: SYNC_SIDE },
  { flag: 'ip-address-type', env: 'TARGET_IP_ADDRESS_TYPE', value: '<ipv4|ipv6>', help: 'which addresses to resolve (default ipv4)', commands: SYNC_SIDE },
  { flag: 'mappings-parameter', env: 'SYNC_MAPPINGS_PARAMETER', value: '<name|arn>', help: 'SSM parameter holding the SYNC_MAPPINGS JSON (read with your credentials)', commands: SYNC_SIDE },
  { flag: 'mappings', env: 'SYNC_MAPPINGS', value: '<json>', help: 'JSON list of {"endpoint","targetGroupArn","port"} (several mappings)', commands: SYNC_SIDE },
  { flag: 'discover', env: 'DISCOVER_TARGET_GROUPS', boolean: true, help: 'also every IP target group tagged rds-nlb-sync:endpoint=<endpoint> (DISCOVERY_TAG_KEY), as the deployed function with discoverTargetGroups', commands: SYNC_SIDE },
  { flag: 'dns-servers', env: 'DNS_SERVERS', value: '<ip[:port],...>', help: 'DNS servers to ask (default: the system resolver)', commands: SYNC_SIDE },
  { flag: 'dns-timeout-ms', env: 'DNS_TIMEOUT_MS', value: '<ms>', help: 'DNS timeout per try (default 2000)', commands: SYNC_SIDE },
  { flag: 'dns-tries', env: 'DNS_TRIES', value: '<n>', help: 'DNS tries (default 2)', commands: SYNC_SIDE },
  { flag: 'force', boolean: true, help: 'register every resolved address again', commands: ['plan', 'sync'] },
  { flag: 'local', boolean: true, help: 'run the sync here, in-process, with these settings, instead of invoking the deployed function', commands: ['sync'] },
  { flag: 'function', value: '<name>', help: 'deployed sync function to invoke (default SYNC_FUNCTION_NAME, or rds-nlb-sync-<stage>-sync)', commands: ['sync'] },
  { flag: 'service-id', env: 'ENDPOINT_SERVICE_IDS', multiple: true, value: '<vpce-svc-...>', help: 'endpoint service (repeatable; doctor: default the services in front of the NLB)', commands: ['accept', 'doctor'] },
  { flag: 'load-balancer-arn', env: 'LOAD_BALANCER_ARNS', multiple: true, value: '<arn>', help: 'find the endpoint services in front of this NLB (repeatable; doctor --removal: an NLB to clear besides the stack\'s)', commands: ['accept', 'doctor'] },
  { flag: 'allowed-principal', env: 'ALLOWED_PRINCIPALS', multiple: true, value: '<account|arn>', help: 'account whose connections are accepted (repeatable; default Fivetran, 834469178297)', commands: ['accept', 'doctor'] },
  { flag: 'reject-unlisted', env: 'REJECT_UNLISTED', boolean: true, help: 'reject connections from other accounts instead of leaving them pending', commands: ['accept'] },
  { flag: 'dry-run', boolean: true, help: 'decide and report, change nothing', commands: ['sync', 'accept'] },
  { flag: 'no-metrics', boolean: true, help: 'send no metrics: a run from here must not feed the production namespace and alarms', commands: ['sync', 'accept'] },
  { flag: 'verbose', boolean: true, help: "print the run's log lines (JSON, as the Lambda logs them) to stderr", commands: ['sync', 'accept'] },
  { flag: 'namespace', env: 'METRICS_NAMESPACE', value: '<name>', help: 'CloudWatch metrics namespace (default RdsNlbSync)', commands: ['sync', 'accept', 'doctor'] },
  { flag: 'sync-function', env: 'SYNC_FUNCTION_NAME', value: '<name>', help: 'deployed sync function to check', commands: ['doctor'] },
  { flag: 'accept-function', env: 'ACCEPT_FUNCTION_NAME', value: '<name>', help: 'deployed accept function to check', commands: ['doctor'] },
  { flag: 'removal', boolean: true, help: 'list what would make `serverless remove --stage <stage>` fail, with the command that clears each (needs --stage)', commands: ['doctor'] },
  { flag: 'stage', value: '<stage>', help: 'serverless stage: doctor checks rds-nlb-sync-<stage>-sync and -accept; sync invokes rds-nlb-sync-<stage>-sync', commands: ['sync', 'doctor'] },
  { flag: 'config', short: 'c', value: '<file>', help: 'settings file: .json object or KEY=value lines, keys as the env variables', commands: ALL },
  { flag: 'region', value: '<region>', help: 'AWS region (default: the SDK chain, e.g. AWS_REGION or the profile)', commands: ALL },
  { flag: 'profile', value: '<name>', help: 'AWS profile (default: the SDK chain, e.g. AWS_PROFILE)', commands: ALL },
  { flag: 'json', boolean: true, help: 'print JSON for scripts instead of text', commands: ALL },
  { flag: 'help', short: 'h', boolean: true, help: 'show this help', commands: ALL },
];

/** Settings read from env and files that have no flag: the Lambdas' other variables. */
export const ENV_ONLY = [
  'FAILOVER_WATCH_SECONDS',
  'FAILOVER_POLL_MS',
  'FAILOVER_MODE',
  'WARM_LISTENER_ARN',
  'WARM_SLOT_TARGET_GROUP_ARNS',
  'SCHEDULE_INTERVAL_SECONDS',
  'SYNC_CONCURRENCY',
  'DRY_RUN',
  'DISCOVERY_TAG_KEY',
  'AWS_CONNECT_TIMEOUT_MS',
  'AWS_REQUEST_TIMEOUT_MS',
  'FIVETRAN_API_KEY',
  'FIVETRAN_API_SECRET',
  'FIVETRAN_API_URL',
];

/** Every setting name the CLI takes from the environment or a config file. */
export const SETTING_NAMES: readonly string[] = [...OPTIONS.flatMap((o) => (o.env ? [o.env] : [])), ...ENV_ONLY];

export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message);
  }
}

export type Flags = Record<string, string | boolean | string[] | undefined>;

export type ParsedCommandLine = { kind: 'help'; command?: Command } | { kind: 'run'; command: Command; flags: Flags };

export function parseCommandLine(argv: string[]): ParsedCommandLine {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') return { kind: 'help' };
  if (first === 'help') return { kind: 'help', ...(isCommand(rest[0]) ? { command: rest[0] } : {}) };
  if (!isCommand(first)) throw new UsageError(first.startsWith('-') ? `expected a command before ${first}` : `unknown command "${first}"`);

  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: parseArgsOptions(first), strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError((err as Error).message, first);
  }
  const flags = parsed.values as Flags;
  if (flags.help) return { kind: 'help', command: first };
  return { kind: 'run', command: first, flags };
}

const isCommand = (s: string | undefined): s is Command => (COMMANDS as readonly string[]).includes(s ?? '');

function parseArgsOptions(command: Command) {
  return Object.fromEntries(
    optionsOf(command).map((o) => [
      o.flag,
      { type: o.boolean ? ('boolean' as const) : ('string' as const), ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) },
    ]),
  );
}

export const optionsOf = (command: Command) => OPTIONS.filter((o) => o.commands.includes(command));

/** One line each, for the command list of the top-level help. */
const BRIEF: Record<Command, string> = {
  plan: 'Show what sync would register and deregister. Changes nothing.',
  sync: 'Run one sync pass in the deployed function, or here with --local.',
  accept: 'Run one real accept pass from here.',
  doctor: 'Check the whole Fivetran PrivateLink chain, with the fix for each failure. Read-only.',
  drill: 'Fail over a non-production database for real and time each step to the target group.',
};

const SUMMARIES: Record<Command, string> = {
  plan: 'Resolve each RDS endpoint and show what sync would register and deregister. Changes nothing.',
  sync: 'Run one sync pass in the deployed function, or here with --local.\nBy default it invokes the sync function (--stage, --function or SYNC_FUNCTION_NAME) and prints its\nsummary. --local registers the new addresses, then deregisters the stale ones, from here, and\nsends the run\'s metrics like the Lambda does (--no-metrics: none). Exit 1 when a mapping failed.',
  accept: 'Run one real accept pass from here: accept pending connections from the allowed accounts.\nExit 1 when a connection could not be listed or accepted.',
  doctor: 'Check the whole Fivetran PrivateLink chain (DNS, target group, targets, NLB zones, endpoint\nservice, principals, connections, functions, heartbeat) and print pass / warn / fail with the\nfix for each. Read-only. Exit 1 when a check fails.',
  drill:
    'FAILS OVER THE DATABASE FOR REAL: use a non-production database. Requests the failover, then prints\n' +
    'each step as it happens, in seconds since the request: RDS event seen, DNS answer changed, new\n' +
    'target registered, new target healthy, old target gone (and with --probe the window with no\n' +
    'connection); then a verdict against --budget-seconds. The target group is the mapping that follows\n' +
    'the database\'s endpoint, or --target-group-arn. It polls every FAILOVER_POLL_MS. Nothing is done\n' +
    'without --yes-fail-over <the same id>, or for a database with no reader or standby (exit 2).\n' +
    'Exit 1 when a step was not seen within the budget or came after it; 130 on Ctrl-C (what was\n' +
    'seen is printed).',
};

const SETTINGS_NOTE = `Settings come from flags, then the environment (the Lambdas' variable names, shown in
brackets), then --config <file>. AWS credentials and region: the standard SDK chain.`;

export function helpText(command?: Command): string {
  if (!command) {
    return [
      'Usage: rds-nlb-sync <command> [options]',
      '',
      'Commands:',
      ...COMMANDS.map((c) => `  ${c.padEnd(8)}${BRIEF[c]}`),
      '  fivetran link|status|unlink: create Fivetran\'s Private Link for the endpoint service and wait until connected; show it; delete it.',
      '',
      SETTINGS_NOTE,
      '',
      'Exit codes: 0 ok, 1 a run or a check failed, 2 bad command line or settings.',
      'Run "rds-nlb-sync <command> --help" for its options.',
    ].join('\n');
  }
  const rows = optionsOf(command).map((o) => {
    const name = `${o.short ? `-${o.short}, ` : ''}--${o.flag}${o.value ? ` ${o.value}` : ''}`;
    return `  ${name.padEnd(36)}${o.help}${o.env ? ` [${o.env}]` : ''}`;
  });
  return [`Usage: rds-nlb-sync ${command} [options]`, '', SUMMARIES[command], '', 'Options:', ...rows, '', SETTINGS_NOTE].join('\n');
}
