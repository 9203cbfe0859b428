// Every environment variable the service reads, with its default, lives in this file.
// Parsed once per cold start; a bad value fails with one message naming each bad key.
// zod/mini: the same validation at a quarter of the bundle size (the Lambda bundle budget is tight).
import { isIP, isIPv4, isIPv6 } from 'node:net';
import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { parseRdsEndpoint } from './rds-endpoint.js';

// zod/mini ships without messages: English ones make every error say what was expected.
z.config(en());

export const FIVETRAN_ACCOUNT_ID = '834469178297';
export const DEFAULT_NAMESPACE = 'RdsNlbSync';

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly problems: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

type Env = Record<string, string | undefined>;

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$/i;
const TARGET_GROUP_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;
const LOAD_BALANCER_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/(net|app)\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;
// net/ on AWS; moto names every load balancer's listeners app/ (as LOAD_BALANCER_ARN accepts both).
const LISTENER_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/(net|app)\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+\/[0-9a-f]+$/;
const SERVICE_ID = /^vpce-svc-[0-9a-f]{8,17}$/;
const ACCOUNT_ID = /^\d{12}$/;
const ROOT_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):root$/;
const DECIMAL = /^\d+$/;
// An SSM parameter name (/path/name or name) or its ARN.
const SSM_PARAMETER = /^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9_.\-/]{1,2048}|\/?[A-Za-z0-9_.\-/]{1,2048})$/;

const HOSTNAME_MESSAGE = 'must be a DNS name such as mydb.cluster-abc123.eu-west-1.rds.amazonaws.com';
const TARGET_GROUP_MESSAGE = 'must be a target group ARN (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)';
const PORT_MESSAGE = 'must be a TCP port number (1-65535)';

/** An endpoint as the config keeps it: lower case, no trailing dot (manual payloads are compared in this form). */
export const normalizeHostname = (s: string) => s.trim().toLowerCase().replace(/\.$/, '');

// An IP address matches HOSTNAME too, but the service exists to follow a name whose address
// changes: a fixed address would be looked up as a name (NXDOMAIN on every run) or go stale.
const IP_ADDRESS_MESSAGE = "is an IP address: give the RDS endpoint's DNS name (its address changes on failover, which is what sync follows)";
const hostname = z.pipe(
  z.string().check(z.trim(), z.refine((s) => isIP(s.trim()) === 0, IP_ADDRESS_MESSAGE), z.regex(HOSTNAME, HOSTNAME_MESSAGE)),
  z.transform(normalizeHostname),
);
const targetGroupArn = z.string().check(z.trim(), z.regex(TARGET_GROUP_ARN, TARGET_GROUP_MESSAGE));

/**
 * A JSON integer or a decimal string, nothing else: z.coerce.number would take "0x1538", "1e3",
 * true and [5432] (Number() of each is a number), and a port the operator never meant.
 */
const decimalInt = (min: number, max: number, message: string) =>
  z.pipe(
    z.transform((v: unknown, ctx): number => {
      const text = typeof v === 'string' ? v.trim() : undefined;
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      if (text !== undefined && DECIMAL.test(text)) return Number(text);
      ctx.issues.push({ code: 'custom', message, input: v });
      return z.NEVER;
    }),
    z.number().check(z.gte(min, message), z.lte(max, message)),
  );
const port = decimalInt(1, 65535, PORT_MESSAGE);

const DNS_SERVER_MESSAGE = 'must be comma-separated IP addresses with an optional port (1-65535): 10.0.0.2, 10.0.0.2:53, fd00::2 or [fd00::2]:53';

/**
 * What node's Resolver.setServers takes, checked here: setServers throws a bare "Invalid IP
 * address" naming no setting, silently wraps a port above 65535, and aborts the whole process on
 * port 0 (nodejs/node#65006). So no value reaches it unchecked.
 */
export function isDnsServer(entry: string): boolean {
  if (isIPv4(entry) || isIPv6(entry)) return true;
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(entry);
  if (!m) return false;
  const [, v6, v4, portText] = m;
  if (v6 !== undefined ? !isIPv6(v6) : !isIPv4(v4 ?? '')) return false;
  if (portText === undefined) return true;
  const n = Number(portText);
  return n >= 1 && n <= 65535;
}
const dnsServer = z.string().check(z.refine(isDnsServer, DNS_SERVER_MESSAGE));
const availabilityZone = z.string().check(z.regex(/^(all|[a-z]{2}(-[a-z]+)+-\d[a-z])$/, 'must be "all" (target outside the VPC) or an Availability Zone name'));
const ipAddressType = z.enum(['ipv4', 'ipv6']);

const mappingSchema = z.strictObject({
  endpoint: hostname,
  targetGroupArn,
  port,
  availabilityZone: z.optional(availabilityZone),
  ipAddressType: z._default(ipAddressType, 'ipv4'),
});

export type Mapping = z.output<typeof mappingSchema>;

// --- discovery by tag (lib/sync/discovery.ts) ---------------------------------------------------
/**
 * MAPPING_METRICS: `changes` publishes a mapping's counters only in runs where they are not 0
 * (CloudWatch bills a series only for the hours it receives data), `all` every series every run,
 * `none` only the run-level series the alarms read.
 */
export const MAPPING_METRICS_MODES = ['changes', 'all', 'none'] as const;
export type MappingMetrics = (typeof MAPPING_METRICS_MODES)[number];

export const DEFAULT_DISCOVERY_TAG_KEY = 'rds-nlb-sync:endpoint';
/** ELBv2's tag key rule (AddTags): 1-128 of letters, digits, spaces and _ . : / = + - @; "aws:" is reserved. */
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
/** The port tag's key, derived from the endpoint key: `<prefix>:port` (`rds-nlb-sync:endpoint` -> `rds-nlb-sync:port`). */
export function portTagKey(endpointKey: string): string {
  const i = endpointKey.lastIndexOf(':');
  return `${i > 0 ? endpointKey.slice(0, i) : endpointKey}:port`;
}
const discoveryTagKey = z.pipe(
  z.pipe(z.optional(z.string()), z.transform((s) => s?.trim() || DEFAULT_DISCOVERY_TAG_KEY)),
  z.string().check(
    z.regex(TAG_KEY, 'must be a target group tag key: 1-128 of letters, digits, spaces and _ . : / = + - @, e.g. rds-nlb-sync:endpoint'),
    z.refine((k) => !k.toLowerCase().startsWith('aws:'), 'must not start with "aws:" (reserved for AWS)'),
    // The port key is derived from it: `x:port` would make the two the same tag.
    z.refine((k) => portTagKey(k) !== k, 'must not end in ":port" (the port tag\'s key is derived from it: <prefix>:port)'),
  ),
);

/** A comma-separated env value as a trimmed list without empty items. */
const splitList = (s: string | undefined) => (s ?? '').split(',').map((item) => item.trim()).filter(Boolean);
const listOf = <T extends z.ZodMiniType<unknown, string>>(item: T) => z.pipe(z.pipe(z.optional(z.string()), z.transform(splitList)), z.array(item));

const bool = (fallback: boolean) =>
  z.pipe(
    z.optional(z.string()),
    z.transform((s, ctx) => {
      const v = s?.trim().toLowerCase();
      if (v === undefined || v === '') return fallback;
      if (['true', '1', 'yes'].includes(v)) return true;
      if (['false', '0', 'no'].includes(v)) return false;
      ctx.issues.push({ code: 'custom', message: 'must be true or false', input: s });
      return z.NEVER;
    }),
  );

const intInRange = (fallback: number, min: number, max: number, what: string) => {
  const message = `must be ${what} (${min}-${max})`;
  return z.pipe(
    z.transform((v: unknown): unknown => (v === undefined || (typeof v === 'string' && v.trim() === '') ? fallback : v)),
    decimalInt(min, max, message),
  );
};

/**
 * CloudWatch's namespace rule, the one place it is written (the loaders and deploy/params.cjs):
 * up to 255 of A-Z a-z 0-9 . - _ / # : and space, at least one not a space, not starting with
 * ":" (PutMetricData's pattern) nor "AWS/" (reserved for AWS services). PutMetricData refuses
 * anything else at run time, so no metric would ever be sent.
 */
export function namespaceProblem(value: string): string | undefined {
  if (!/^[A-Za-z0-9.\-_/#: ]{1,255}$/.test(value) || value.trim() === '') {
    return 'must be a CloudWatch namespace: 1-255 of A-Z a-z 0-9 . - _ / # : and space, e.g. RdsNlbSync';
  }
  if (value.startsWith(':')) return 'must not start with ":" (CloudWatch refuses it)';
  if (value.startsWith('AWS/')) return 'must not start with "AWS/" (reserved for AWS services)';
  return undefined;
}
// Empty (a deploy parameter left blank) is the default, as for the namespace.
const mappingMetrics = z.pipe(z.pipe(z.optional(z.string()), z.transform((s) => s?.trim().toLowerCase() || 'changes')), z.enum(MAPPING_METRICS_MODES));

const namespace = z.pipe(
  z.pipe(z.optional(z.string()), z.transform((s) => s?.trim() || DEFAULT_NAMESPACE)),
  z.string().check(
    z.superRefine((value, ctx) => {
      const problem = namespaceProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
    }),
  ),
);

export const MAPPINGS_SHAPE = 'must be a JSON list of {"endpoint","targetGroupArn","port"} objects, e.g. [{"endpoint":"mydb.abc123.eu-west-1.rds.amazonaws.com","targetGroupArn":"arn:aws:elasticloadbalancing:...","port":5432}]';
const mappingsJson = z.pipe(
  z.pipe(
    z.optional(z.string()),
    z.transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return undefined;
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.issues.push({ code: 'custom', message: MAPPINGS_SHAPE, input: s });
        return z.NEVER;
      }
    }),
  ),
  z.optional(z.array(mappingSchema, MAPPINGS_SHAPE).check(z.minLength(1, 'must list at least one mapping'))),
);

// Every SDK client gets these (lib/aws/clients.ts): without them a VPC with no route to an AWS
// API hangs a call until the Lambda times out. The SDK retries a timed-out attempt (standard
// strategy, 4 attempts), so the worst case per call is about 4 x (connect + request) timeouts.
const awsClientFields = {
  AWS_CONNECT_TIMEOUT_MS: intInRange(3000, 100, 60_000, 'milliseconds'),
  AWS_REQUEST_TIMEOUT_MS: intInRange(5000, 100, 120_000, 'milliseconds'),
};
const awsClientEnvSchema = z.object(awsClientFields);

export interface AwsClientSettings {
  /** ms to establish the TCP/TLS connection */
  connectTimeoutMs: number;
  /** ms a connected request may wait for the answer */
  requestTimeoutMs: number;
}

/** The SDK clients' timeouts (also checked by loadSyncConfig and loadAcceptConfig, with the other settings). */
export function loadAwsClientSettings(env: Env = process.env): AwsClientSettings {
  const e = parseEnv(awsClientEnvSchema, env);
  return { connectTimeoutMs: e.AWS_CONNECT_TIMEOUT_MS, requestTimeoutMs: e.AWS_REQUEST_TIMEOUT_MS };
}

type Check = z.core.ParsePayload<unknown>['issues'];
const issue = (issues: Check, path: PropertyKey[], message: string) => issues.push({ code: 'custom', path, message, input: undefined });

const syncEnvSchema = z
  .object({
    SYNC_MAPPINGS: mappingsJson,
    // Read by loadSyncConfigFrom (the mappings JSON lives in SSM when it outgrows Lambda's 4 KB environment).
    SYNC_MAPPINGS_PARAMETER: z.optional(
      z.string().check(z.trim(), z.regex(SSM_PARAMETER, 'must be an SSM parameter name (/rds-nlb-sync/mappings) or its ARN')),
    ),
    RDS_ENDPOINT: z.optional(hostname),
    TARGET_GROUP_ARN: z.optional(targetGroupArn),
    TARGET_PORT: z.optional(port),
    TARGET_AVAILABILITY_ZONE: z.optional(availabilityZone),
    TARGET_IP_ADDRESS_TYPE: z.optional(ipAddressType),
    DNS_SERVERS: listOf(dnsServer),
    // c-ares doubles the timeout on each try: 2000 ms x 2 tries gives up after about 6 s.
    DNS_TIMEOUT_MS: intInRange(2000, 100, 30_000, 'milliseconds'),
    DNS_TRIES: intInRange(2, 1, 5, 'a number of tries'),
    // A Multi-AZ failover takes 60-120 s and DNS may lag minutes more (RDS-EVENT-0015).
    FAILOVER_WATCH_SECONDS: intInRange(180, 0, 840, 'seconds'),
    FAILOVER_POLL_MS: intInRange(2000, 100, 60_000, 'milliseconds'),
    // After a failover's RegisterTargets, how long the run reads the group until ELB reports the
    // new target healthy (registration takes minutes on AWS, then 2 health checks at 5 s).
    FAILOVER_FOLLOW_SECONDS: intInRange(600, 0, 900, 'seconds'),
    FAILOVER_FOLLOW_POLL_MS: intInRange(5000, 1000, 60_000, 'milliseconds'),
    SYNC_CONCURRENCY: intInRange(10, 1, 100, 'a number of mappings synced at once'),
    // ELB meters Describe* at 10 a second per account and region (40 at once): a run reads at most
    // this many target groups a second of the schedule interval, beyond those that may need work (lib/sync/reads.ts).
    TARGET_READS_PER_SECOND: intInRange(5, 1, 100, 'target group reads a second of the schedule interval'),
    // How often the schedule invokes sync. Scheduled runs wait while a run watches (reserved
    // concurrency 1), so the watching run re-syncs every mapping this often itself.
    SCHEDULE_INTERVAL_SECONDS: intInRange(60, 10, 3600, 'seconds between scheduled runs'),
    METRICS_NAMESPACE: namespace,
    // Which per-mapping series a run publishes (lib/aws/metrics.ts keepsMappingDatum; docs/operate.md).
    MAPPING_METRICS: mappingMetrics,
    DRY_RUN: bool(false),
    // Warm standby (docs/deploy.md "Failover mode"): slot target groups behind one weighted listener.
    FAILOVER_MODE: z._default(z.enum(['cold', 'warm']), 'cold'),
    WARM_LISTENER_ARN: z.optional(z.string().check(z.trim(), z.regex(LISTENER_ARN, 'must be an NLB listener ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener/net/<name>/<id>/<id>)'))),
    WARM_SLOT_TARGET_GROUP_ARNS: listOf(targetGroupArn),
    // Serve every IP target group tagged DISCOVERY_TAG_KEY=<RDS endpoint> too (lib/sync/discovery.ts).
    DISCOVER_TARGET_GROUPS: bool(false),
    DISCOVERY_TAG_KEY: discoveryTagKey,
    ...awsClientFields,
  })
  .check((ctx) => {
    const env = ctx.value;
    checkWarm(env, ctx.issues);
    const shorthand = [env.RDS_ENDPOINT, env.TARGET_GROUP_ARN, env.TARGET_PORT];
    const given = shorthand.filter((v) => v !== undefined).length;
    if (env.SYNC_MAPPINGS_PARAMETER !== undefined && (env.SYNC_MAPPINGS || given > 0)) {
      issue(ctx.issues, ['SYNC_MAPPINGS_PARAMETER'], 'set either SYNC_MAPPINGS_PARAMETER or SYNC_MAPPINGS or RDS_ENDPOINT/TARGET_GROUP_ARN/TARGET_PORT, not several');
    } else if (env.SYNC_MAPPINGS_PARAMETER !== undefined) {
      issue(ctx.issues, ['SYNC_MAPPINGS_PARAMETER'], 'is read from SSM at cold start (loadSyncConfigFrom), not by loadSyncConfig');
    } else if (env.SYNC_MAPPINGS && given > 0) {
      issue(ctx.issues, ['SYNC_MAPPINGS'], 'set either SYNC_MAPPINGS or RDS_ENDPOINT/TARGET_GROUP_ARN/TARGET_PORT, not both');
    } else if (!env.SYNC_MAPPINGS && given < 3 && !(env.DISCOVER_TARGET_GROUPS && given === 0)) {
      const missing = (['RDS_ENDPOINT', 'TARGET_GROUP_ARN', 'TARGET_PORT'] as const).filter((k) => env[k] === undefined);
      for (const key of missing) issue(ctx.issues, [key], 'is required (or set SYNC_MAPPINGS to a JSON list of mappings)');
    }
    const seen = new Set<string>();
    for (const [i, m] of (env.SYNC_MAPPINGS ?? []).entries()) {
      const key = `${m.targetGroupArn} ${m.port}`;
      if (seen.has(key)) {
        issue(ctx.issues, ['SYNC_MAPPINGS', i], 'maps a second endpoint to the same target group and port; each (targetGroupArn, port) must be managed by one endpoint');
      }
      seen.add(key);
    }
  });

/** NLB forward actions take a handful of target groups; see docs/configuration.md (warmSlots). */
export const WARM_SLOTS_MIN = 2;
export const WARM_SLOTS_MAX = 5;

type WarmEnv = {
  FAILOVER_MODE: 'cold' | 'warm';
  WARM_LISTENER_ARN?: string | undefined;
  WARM_SLOT_TARGET_GROUP_ARNS: string[];
  SYNC_MAPPINGS?: Mapping[] | undefined;
  RDS_ENDPOINT?: string | undefined;
  TARGET_GROUP_ARN?: string | undefined;
};

/** Warm mode: the listener and its slots, one cluster writer endpoint mapped into the slots. */
function checkWarm(env: WarmEnv, issues: Check): void {
  const slots = env.WARM_SLOT_TARGET_GROUP_ARNS;
  if (env.FAILOVER_MODE === 'cold') {
    if (env.WARM_LISTENER_ARN !== undefined) issue(issues, ['WARM_LISTENER_ARN'], 'is only used with FAILOVER_MODE=warm');
    if (slots.length > 0) issue(issues, ['WARM_SLOT_TARGET_GROUP_ARNS'], 'is only used with FAILOVER_MODE=warm');
    return;
  }
  if (env.WARM_LISTENER_ARN === undefined) issue(issues, ['WARM_LISTENER_ARN'], 'is required with FAILOVER_MODE=warm: the NLB listener whose forward action weights the slots');
  if (slots.length < WARM_SLOTS_MIN || slots.length > WARM_SLOTS_MAX) {
    issue(issues, ['WARM_SLOT_TARGET_GROUP_ARNS'], `must list ${WARM_SLOTS_MIN}-${WARM_SLOTS_MAX} slot target group ARNs with FAILOVER_MODE=warm (got ${slots.length})`);
  }
  if (new Set(slots).size !== slots.length) issue(issues, ['WARM_SLOT_TARGET_GROUP_ARNS'], 'names a target group twice');
  const mappings = env.SYNC_MAPPINGS ?? (env.RDS_ENDPOINT && env.TARGET_GROUP_ARN ? [{ endpoint: env.RDS_ENDPOINT, targetGroupArn: env.TARGET_GROUP_ARN }] : []);
  const warm = mappings.filter((m) => slots.includes(m.targetGroupArn));
  if (warm.length !== 1) {
    issue(issues, ['WARM_SLOT_TARGET_GROUP_ARNS'], `must include the target group of exactly one mapping (the warm one), got ${warm.length}`);
    return;
  }
  const kind = parseRdsEndpoint(warm[0]?.endpoint ?? '').kind;
  if (kind !== 'cluster') {
    issue(issues, ['FAILOVER_MODE'], `warm needs a cluster writer endpoint (<cluster>.cluster-<hash>.<region>.rds.amazonaws.com) of an Aurora or Multi-AZ DB cluster; ${warm[0]?.endpoint} is a ${kind} endpoint`);
  }
}

/** Warm standby of one mapping: the listener that weights the slots, and the slots (the mapping's target group among them). */
export interface WarmConfig {
  listenerArn: string;
  slotArns: string[];
}

export interface DnsConfig {
  /** Empty: the system resolver's servers (the VPC resolver inside Lambda). */
  servers: string[];
  timeoutMs: number;
  tries: number;
}

export interface SyncConfig {
  mappings: Mapping[];
  dns: DnsConfig;
  failoverWatchMs: number;
  failoverPollMs: number;
  /** How long a failover's new target is followed until healthy (0: not followed, the timeline still logged). */
  failoverFollowMs: number;
  failoverFollowPollMs: number;
  /** The schedule's period: while a run watches, every mapping is synced at least this often. */
  scheduleIntervalMs: number;
  concurrency: number;
  /** How many settled target groups and others together a run reads at most (lib/sync/reads.ts). */
  targetReadsPerRun: number;
  metricsNamespace: string;
  /** MAPPING_METRICS: per-mapping series only when they change (default), always, or never. */
  mappingMetrics: MappingMetrics;
  dryRun: boolean;
  /** FAILOVER_MODE=warm: the mapping whose targetGroupArn is a slot is kept by lib/warm. */
  warm?: WarmConfig;
  /** Target groups found by tag besides `mappings` (DISCOVER_TARGET_GROUPS); absent when off. */
  discovery?: DiscoverySettings;
}

export interface DiscoverySettings {
  /** The tag whose value is the RDS endpoint. */
  tagKey: string;
  /** The optional tag whose value is the port (default: the target group's port). */
  portTagKey: string;
}

export function loadSyncConfig(env: Env = process.env): SyncConfig {
  const e = parseEnv(syncEnvSchema, env);
  const shorthandGiven = e.RDS_ENDPOINT !== undefined || e.TARGET_GROUP_ARN !== undefined || e.TARGET_PORT !== undefined;
  const mappings: Mapping[] = e.SYNC_MAPPINGS ?? (e.DISCOVER_TARGET_GROUPS && !shorthandGiven ? [] : [
    mappingSchema.parse({
      endpoint: e.RDS_ENDPOINT,
      targetGroupArn: e.TARGET_GROUP_ARN,
      port: e.TARGET_PORT,
      availabilityZone: e.TARGET_AVAILABILITY_ZONE,
      ipAddressType: e.TARGET_IP_ADDRESS_TYPE,
    }),
  ]);
  return {
    mappings,
    dns: { servers: e.DNS_SERVERS, timeoutMs: e.DNS_TIMEOUT_MS, tries: e.DNS_TRIES },
    failoverWatchMs: e.FAILOVER_WATCH_SECONDS * 1000,
    failoverPollMs: e.FAILOVER_POLL_MS,
    failoverFollowMs: e.FAILOVER_FOLLOW_SECONDS * 1000,
    failoverFollowPollMs: e.FAILOVER_FOLLOW_POLL_MS,
    scheduleIntervalMs: e.SCHEDULE_INTERVAL_SECONDS * 1000,
    concurrency: e.SYNC_CONCURRENCY,
    targetReadsPerRun: e.TARGET_READS_PER_SECOND * e.SCHEDULE_INTERVAL_SECONDS,
    metricsNamespace: e.METRICS_NAMESPACE,
    mappingMetrics: e.MAPPING_METRICS,
    dryRun: e.DRY_RUN,
    ...(e.FAILOVER_MODE === 'warm' && e.WARM_LISTENER_ARN ? { warm: { listenerArn: e.WARM_LISTENER_ARN, slotArns: e.WARM_SLOT_TARGET_GROUP_ARNS } } : {}),
    ...(e.DISCOVER_TARGET_GROUPS ? { discovery: { tagKey: e.DISCOVERY_TAG_KEY, portTagKey: portTagKey(e.DISCOVERY_TAG_KEY) } } : {}),
  };
}

/** An endpoint by the mappings' rule (a DNS name, not an IP address), normalised; or the problem. */
export function checkEndpoint(value: string): { ok: true; endpoint: string } | { ok: false; problem: string } {
  const result = hostname.safeParse(value);
  return result.success ? { ok: true, endpoint: result.data } : { ok: false, problem: result.error.issues.map((i) => i.message).join('; ') };
}

/** A port by the mappings' rule (a decimal 1-65535), or the problem. */
export function checkPort(value: string): { ok: true; port: number } | { ok: false; problem: string } {
  const result = port.safeParse(value);
  return result.success ? { ok: true, port: result.data } : { ok: false, problem: PORT_MESSAGE };
}

/** Reads one SSM parameter's value (lib/aws/parameters.ts in the Lambda and the CLI). */
export type ReadParameter = (name: string) => Promise<string>;

/**
 * SYNC_MAPPINGS_PARAMETER's value, read from SSM, or undefined when the setting is not used. The
 * name and the conflicts with SYNC_MAPPINGS and the shorthand are checked before the read; a
 * failed read is a ConfigError that names the setting, the parameter and what to check.
 */
export async function readSyncMappingsParameter(env: Env, readParameter: ReadParameter): Promise<string | undefined> {
  const name = env.SYNC_MAPPINGS_PARAMETER?.trim();
  if (!name) return undefined;
  const problems = problemsOf(() => parseEnv(syncEnvSchema, env)).filter((p) => p.startsWith('SYNC_MAPPINGS_PARAMETER') && !p.includes('loadSyncConfigFrom'));
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`, problems);
  try {
    return await readParameter(name);
  } catch (err) {
    const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    const problem =
      `SYNC_MAPPINGS_PARAMETER: cannot read SSM parameter ${name} (${why}). Check that it exists in this region, that the function's role ` +
      'may ssm:GetParameter it (and kms:Decrypt for a SecureString), and that the function can reach the ssm API (NAT or an interface VPC endpoint)';
    throw new ConfigError(`Invalid configuration:\n- ${problem}`, [problem], { cause: err });
  }
}

/**
 * loadSyncConfig, with SYNC_MAPPINGS read from the SSM parameter SYNC_MAPPINGS_PARAMETER names
 * when it is set, validated by the very same SYNC_MAPPINGS rules; problems name the parameter.
 */
export async function loadSyncConfigFrom(env: Env, readParameter: ReadParameter): Promise<SyncConfig> {
  const value = await readSyncMappingsParameter(env, readParameter);
  if (value === undefined) return loadSyncConfig(env);
  const name = env.SYNC_MAPPINGS_PARAMETER?.trim() ?? '';
  try {
    return loadSyncConfig({ ...env, SYNC_MAPPINGS_PARAMETER: undefined, SYNC_MAPPINGS: value });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems.map((p) => (p.startsWith('SYNC_MAPPINGS') ? `SYNC_MAPPINGS_PARAMETER (SSM parameter ${name}): ${p}` : p));
    throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`, problems);
  }
}

function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

/** `arn:aws:iam::<account>:root` or a bare account ID, normalised to the account ID. */
const principal = z.pipe(
  z.string(),
  z.transform((s, ctx) => {
    if (ACCOUNT_ID.test(s)) return s;
    const account = ROOT_ARN.exec(s)?.[1];
    if (account) return account;
    ctx.issues.push({ code: 'custom', message: `"${s}" is not a 12-digit AWS account ID or arn:aws:iam::<account>:root`, input: s });
    return z.NEVER;
  }),
);

const acceptEnvSchema = z
  .object({
    ENDPOINT_SERVICE_IDS: listOf(z.string().check(z.regex(SERVICE_ID, 'must be comma-separated endpoint service IDs (vpce-svc-...)'))),
    LOAD_BALANCER_ARNS: listOf(
      z.string().check(z.regex(LOAD_BALANCER_ARN, 'must be comma-separated load balancer ARNs (arn:aws:elasticloadbalancing:...:loadbalancer/net/<name>/<id>)')),
    ),
    ALLOWED_PRINCIPALS: z.pipe(
      z.pipe(z.optional(z.string()), z.transform((s) => splitList(s === undefined || s.trim() === '' ? FIVETRAN_ACCOUNT_ID : s))),
      z.array(principal).check(z.minLength(1, 'must list at least one principal')),
    ),
    REJECT_UNLISTED: bool(false),
    METRICS_NAMESPACE: namespace,
    DRY_RUN: bool(false),
    ...awsClientFields,
  })
  .check((ctx) => {
    if (ctx.value.ENDPOINT_SERVICE_IDS.length === 0 && ctx.value.LOAD_BALANCER_ARNS.length === 0) {
      issue(ctx.issues, ['ENDPOINT_SERVICE_IDS'], 'is required: set ENDPOINT_SERVICE_IDS (vpce-svc-...) or LOAD_BALANCER_ARNS to find the services from');
    }
  });

export interface AcceptConfig {
  serviceIds: string[];
  loadBalancerArns: string[];
  /** Account IDs whose endpoint connections are accepted. */
  allowedAccounts: string[];
  rejectUnlisted: boolean;
  metricsNamespace: string;
  dryRun: boolean;
}

export function loadAcceptConfig(env: Env = process.env): AcceptConfig {
  const e = parseEnv(acceptEnvSchema, env);
  return {
    serviceIds: [...new Set(e.ENDPOINT_SERVICE_IDS)],
    loadBalancerArns: [...new Set(e.LOAD_BALANCER_ARNS)],
    allowedAccounts: [...new Set(e.ALLOWED_PRINCIPALS)],
    rejectUnlisted: e.REJECT_UNLISTED,
    metricsNamespace: e.METRICS_NAMESPACE,
    dryRun: e.DRY_RUN,
  };
}

function parseEnv<T extends z.ZodMiniType>(schema: T, env: Env): z.output<T> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${formatPath(issue.path)} ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n- ${problems.join('\n- ')}`, problems);
}

/** ['SYNC_MAPPINGS', 0, 'port'] -> 'SYNC_MAPPINGS[0].port' */
export function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

// Fivetran's REST API (CLI `fivetran` and doctor's fivetran.link check only; the Lambdas never
// call it). Key and secret both or neither; their values never appear in a message.
const fivetranEnvSchema = z
  .object({
    FIVETRAN_API_KEY: z.optional(z.string().check(z.trim())),
    FIVETRAN_API_SECRET: z.optional(z.string().check(z.trim())),
    FIVETRAN_API_URL: z._default(z.string().check(z.regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL such as https://api.fivetran.com/v1')), 'https://api.fivetran.com/v1'),
  })
  .check((ctx) => {
    const { FIVETRAN_API_KEY: key, FIVETRAN_API_SECRET: secret } = ctx.value;
    if (Boolean(key) !== Boolean(secret)) {
      issue(ctx.issues, [key ? 'FIVETRAN_API_SECRET' : 'FIVETRAN_API_KEY'], 'is required with the other: set both FIVETRAN_API_KEY and FIVETRAN_API_SECRET (Fivetran dashboard: API key), or neither');
    }
  });

export interface FivetranConfig {
  /** undefined: no API credentials; the CLI prints the support request instead. */
  credentials?: { apiKey: string; apiSecret: string };
  apiUrl: string;
}

export function loadFivetranConfig(env: Env = process.env): FivetranConfig {
  const e = parseEnv(fivetranEnvSchema, env);
  const credentials = e.FIVETRAN_API_KEY && e.FIVETRAN_API_SECRET ? { apiKey: e.FIVETRAN_API_KEY, apiSecret: e.FIVETRAN_API_SECRET } : undefined;
  return { ...(credentials ? { credentials } : {}), apiUrl: e.FIVETRAN_API_URL };
}

// --- the probe of the real path (lib/sync/probe.ts): sync's connection through the NLB ------------
// tcp: a completed connection only, for engines that wait for the client to speak (Oracle, SQL Server).
export type ProbeProtocol = 'mysql' | 'postgres' | 'tcp';
/** The ports whose protocol PROBE_PROTOCOL=auto infers (RDS's defaults). */
export const PROBE_DEFAULT_PORTS: Record<number, ProbeProtocol> = { 3306: 'mysql', 5432: 'postgres' };
/** ELB's quota of listeners per Network Load Balancer: no more databases can be behind one. */
export const PROBE_LISTENERS_MAX = 50;
const PROBE_TARGET_MESSAGE =
  'must be host:port of the NLB listener (internal-my-nlb-0123.elb.eu-west-1.amazonaws.com:5432), or one per database, comma-separated, a bare port on the host before it (internal-my-nlb-0123.elb.eu-west-1.amazonaws.com:5432,3306)';
const PROBE_PROTOCOL_MESSAGE = 'must be auto, mysql, postgres or tcp (every listener), or per port: 5432=postgres,6000=mysql,1521=tcp (ports not named: auto)';

/** One listener the probe connects to. */
export interface ProbeListener {
  host: string;
  port: number;
  protocol: ProbeProtocol;
}

// PROBE_TARGET: "host:port[,host:port|,port...]": a bare port is on the host of the entry before it
// (the created NLB's listeners share one DNS name; Lambda's environment is 4 KB).
const probeTargets = z.pipe(
  z.optional(z.string()),
  z.transform((s, ctx) => {
    const listeners: { host: string; port: number }[] = [];
    let host = '';
    for (const entry of splitList(s)) {
      const match = /^(?:([^\s:]+):)?(\d{1,5})$/.exec(entry);
      host = match?.[1]?.toLowerCase() ?? host;
      const port = Number(match?.[2]);
      if (!match || !HOSTNAME.test(host) || port < 1 || port > 65535) {
        ctx.issues.push({ code: 'custom', message: `${PROBE_TARGET_MESSAGE}; "${entry}" is not`, input: s });
        return z.NEVER;
      }
      if (listeners.some((l) => l.host === host && l.port === port)) {
        ctx.issues.push({ code: 'custom', message: `names ${host}:${port} twice: one entry per listener`, input: s });
        return z.NEVER;
      }
      listeners.push({ host, port });
    }
    if (listeners.length > PROBE_LISTENERS_MAX) {
      ctx.issues.push({ code: 'custom', message: `names ${listeners.length} listeners; a Network Load Balancer has at most ${PROBE_LISTENERS_MAX}`, input: s });
      return z.NEVER;
    }
    return listeners;
  }),
);

// PROBE_PROTOCOL: one protocol for every listener (auto: by port), or port=protocol items.
const probeProtocols = z.pipe(
  z.optional(z.string()),
  z.transform((s, ctx) => {
    let fallback: 'auto' | ProbeProtocol | undefined;
    const byPort = new Map<number, ProbeProtocol>();
    for (const item of splitList(s)) {
      const match = /^(?:(\d{1,5})=)?(auto|mysql|postgres|tcp)$/.exec(item.toLowerCase());
      const [, portText, protocol] = match ?? [];
      const port = Number(portText);
      const secondFallback = portText === undefined && fallback !== undefined;
      // A port's protocol is named (auto is the default, not a choice per port), once.
      const badPort = portText !== undefined && (protocol === 'auto' || port < 1 || port > 65535 || byPort.has(port));
      if (!match || secondFallback || badPort) {
        ctx.issues.push({ code: 'custom', message: `${PROBE_PROTOCOL_MESSAGE}; "${item}" is not${secondFallback ? ' (one protocol for every listener at most)' : ''}`, input: s });
        return z.NEVER;
      }
      if (portText === undefined) fallback = protocol as 'auto' | ProbeProtocol;
      else byPort.set(port, protocol as ProbeProtocol);
    }
    return { fallback: fallback ?? 'auto', byPort };
  }),
);

/** A listener's protocol: named for its port, else the one for every listener, else (auto) by the port. */
const probeProtocolOf = (port: number, protocols: { fallback: 'auto' | ProbeProtocol; byPort: Map<number, ProbeProtocol> }): ProbeProtocol | undefined =>
  protocols.byPort.get(port) ?? (protocols.fallback === 'auto' ? PROBE_DEFAULT_PORTS[port] : protocols.fallback);

const probeEnvSchema = z
  .object({
    // Opt out: the probe opens one connection per listener per run through the NLB to the database.
    PROBE_ENABLED: bool(true),
    // The NLB's listeners, one per database; serverless.yml sets it when the stack creates the NLB.
    PROBE_TARGET: probeTargets,
    PROBE_PROTOCOL: probeProtocols,
    PROBE_TIMEOUT_MS: intInRange(3000, 100, 30_000, 'milliseconds'),
    // Set by serverless.yml: a function outside the VPC cannot reach an internal NLB.
    FUNCTION_IN_VPC: bool(false),
  })
  .check((ctx) => {
    const { PROBE_TARGET: listeners, PROBE_PROTOCOL: protocols } = ctx.value;
    // Off, the probe connects nowhere: no listener needs a protocol.
    if (!ctx.value.PROBE_ENABLED) return;
    const unknown = [...new Set(listeners.filter((l) => !probeProtocolOf(l.port, protocols)).map((l) => l.port))];
    if (unknown.length > 0) {
      const ports = unknown.join(', ');
      issue(ctx.issues, ['PROBE_PROTOCOL'], `is auto, which knows ports 3306 (mysql) and 5432 (postgres) only: set mysql, postgres or tcp (a connection only) for port ${ports} (for every listener, or per port: ${unknown[0]}=tcp)`);
    }
    const unused = [...protocols.byPort.keys()].filter((port) => listeners.length > 0 && !listeners.some((l) => l.port === port));
    if (unused.length > 0) issue(ctx.issues, ['PROBE_PROTOCOL'], `names port ${unused.join(', ')}, which no PROBE_TARGET listener has`);
  });

export type ProbeConfig =
  | { enabled: true; listeners: ProbeListener[]; timeoutMs: number }
  | { enabled: false; reason: 'disabled' | 'outside-vpc' | 'no-target' };

/** The probe's settings; `enabled: false` says why it is skipped (the run logs the reason). */
export function loadProbeConfig(env: Env = process.env): ProbeConfig {
  const e = parseEnv(probeEnvSchema, env);
  if (!e.PROBE_ENABLED) return { enabled: false, reason: 'disabled' };
  if (!e.FUNCTION_IN_VPC) return { enabled: false, reason: 'outside-vpc' };
  if (e.PROBE_TARGET.length === 0) return { enabled: false, reason: 'no-target' };
  const listeners = e.PROBE_TARGET.map((l) => ({ ...l, protocol: probeProtocolOf(l.port, e.PROBE_PROTOCOL) as ProbeProtocol }));
  return { enabled: true, listeners, timeoutMs: e.PROBE_TIMEOUT_MS };
}
