'use strict';
// Deploy-time half of the configuration: serverless.yml lists every deploy parameter with its
// default under `custom.params`; this file checks them together and derives what the template
// needs: each function's environment, the ARNs IAM is scoped to, timeouts and alarm windows.
// `${file(./deploy/params.cjs)}` calls it while `serverless package` resolves variables, so a
// bad parameter fails the package, naming every bad parameter at once - not the first cold start.
//
// Each rule is written once: the environment derived here is validated by the functions' own
// loaders (lib/config.ts, loaded through tsx), and their problems are reported under the deploy
// parameter that produced them. Only deploy-only rules live here (parameter names, subnets,
// security groups, schedules, alarms, logs, sizes of the Lambda environment).
//
// Values arrive as strings from `--param name=value` and as YAML types from a `params:` block,
// so lists accept "a,b" or [a, b], booleans "true"/true, numbers "5"/5.

// The functions' own modules (TypeScript ESM), compiled in memory by tsx: offline, no build step.
const { Buffer } = require('node:buffer');
const process = require('node:process');
const { require: requireTs } = require('tsx/cjs/api');
const { loadSyncConfig, loadAcceptConfig, loadProbeConfig, ConfigError, MAPPINGS_SHAPE } = requireTs('../lib/config.ts', module.filename);
const { parseRdsEndpoint, isMemberSet } = requireTs('../lib/rds-endpoint.ts', module.filename);
const { stackMetadata } = require('./recorded-params.cjs');
const PACKAGE_VERSION = require('../package.json').version;

const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
// SSM parameter names: letters, digits, _.-/ ; a hierarchy starts with "/" (SSM PutParameter).
const SSM_PARAMETER_NAME = /^\/?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
// CloudWatch Logs accepts only these retention periods (days).
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'];
// Lambda's ApplicationLogLevel for each Powertools level (Lambda has no SILENT; FATAL is closest).
const LAMBDA_LOG_LEVEL = { DEBUG: 'DEBUG', INFO: 'INFO', WARN: 'WARN', ERROR: 'ERROR', SILENT: 'FATAL' };

// Lambda: "The total size of all environment variables doesn't exceed 4 KB" (keys and values).
const LAMBDA_ENV_LIMIT_BYTES = 4096;
// SSM parameter values: 4 KB in the Standard tier, 8 KB in the Advanced tier.
const SSM_STANDARD_BYTES = 4096;
const SSM_ADVANCED_BYTES = 8192;
// The longest ARN CloudFormation can put for ${TargetGroup} (name 32 chars, id 16 hex digits,
// a long partition and region), for sizing an environment that holds it before it exists.
const LONGEST_TARGET_GROUP_ARN = `arn:aws-iso-b:elasticloadbalancing:ap-southeast-5:123456789012:targetgroup/${'n'.repeat(32)}/${'0'.repeat(16)}`;
// Stand-ins of the right shape for what only CloudFormation knows, so the loaders can check the rest.
const CREATED_TARGET_GROUP_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/created-by-stack/0123456789abcdef';
const CREATED_SERVICE_ID = 'vpce-svc-00000000000000000';
const CREATED_LISTENER_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/created-by-stack/0123456789abcdef/0123456789abcdef';
const createdSlotArn = (n) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/created-slot-${n}/0123456789abcdef`;
const createdGroupArn = (n) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/created-group-${n}/0123456789abcdef`;
// The Fn::Sub variables of the created target groups in SYNC_MAPPINGS: ${TargetGroup}, ${TargetGroup2}, ...
const CREATED_GROUP_VARIABLE = /\$\{TargetGroup(\d*)\}/g;
// What a mapping's targetGroupArn may say with createPrivateLink (or be left out): the stack creates the group.
const CREATED_PLACEHOLDER = 'created';

// The functions serverless.yml declares: each is deployed as <service>-<stage>-<key>, and Lambda
// takes function names of at most 64 characters (test/deploy/template.test.ts checks the keys
// against the compiled template).
const FUNCTION_KEYS = ['sync', 'accept'];
const LAMBDA_FUNCTION_NAME_LIMIT = 64;

// Headroom in the sync timeout for the ELB and CloudWatch calls of one run, SDK retries
// (adaptive mode, 4 attempts with backoff) included.
const API_BUDGET_SECONDS = 30;

// Environment variable -> the deploy parameter that sets it (for the loaders' messages).
const SYNC_ENV_PARAMS = {
  SYNC_MAPPINGS: 'syncMappings',
  DNS_SERVERS: 'dnsServers',
  DNS_TIMEOUT_MS: 'dnsTimeoutMs',
  DNS_TRIES: 'dnsTries',
  FAILOVER_WATCH_SECONDS: 'failoverWatchSeconds',
  FAILOVER_FOLLOW_SECONDS: 'failoverFollowSeconds',
  SCHEDULE_INTERVAL_SECONDS: 'syncSchedule',
  METRICS_NAMESPACE: 'metricsNamespace',
  MAPPING_METRICS: 'mappingMetrics',
  TARGET_READS_PER_SECOND: 'targetReadsPerSecond',
  DRY_RUN: 'dryRun',
  FAILOVER_MODE: 'failoverMode',
  WARM_LISTENER_ARN: 'failoverMode',
  WARM_SLOT_TARGET_GROUP_ARNS: 'warmSlots',
  DISCOVER_TARGET_GROUPS: 'discoverTargetGroups',
  DISCOVERY_TAG_KEY: 'discoveryTagKey',
};
const PROBE_ENV_PARAMS = {
  PROBE_ENABLED: 'probe',
  PROBE_TARGET: 'probeTarget',
  PROBE_PROTOCOL: 'probeProtocol',
};
// Stand-in for the created NLB's DNS name (known only to CloudFormation), to check the probe settings.
const CREATED_NLB_DNS_NAME = 'internal-created-by-stack-0123456789.elb.eu-west-1.amazonaws.com';
// The longest it can be (a generated name of 32 characters, a long region and partition), for sizing the environment.
const LONGEST_NLB_DNS_NAME = `internal-${'n'.repeat(32)}-${'0'.repeat(10)}.elb.ap-southeast-5.amazonaws.com.cn`;
const ACCEPT_ENV_PARAMS = {
  ENDPOINT_SERVICE_IDS: 'endpointServiceIds',
  LOAD_BALANCER_ARNS: 'loadBalancerArns',
  ALLOWED_PRINCIPALS: 'allowedPrincipals',
  REJECT_UNLISTED: 'rejectUnlisted',
  METRICS_NAMESPACE: 'metricsNamespace',
  DRY_RUN: 'dryRun',
};
// In the shorthand form the one mapping's fields come from these parameters.
const SHORTHAND_FIELD_PARAMS = { endpoint: 'rdsEndpoint', targetGroupArn: 'targetGroupArn', port: 'targetPort', availabilityZone: 'targetAvailabilityZone' };

// The params file (not shown in the stack trace) is the point of the error.
class DeployParamsError extends Error {
  constructor(problems) {
    super(`Invalid deploy parameters (--param name=value or params.<stage> in serverless.yml):\n  - ${problems.join('\n  - ')}`);
    this.name = 'DeployParamsError';
    this.stack = this.message;
  }
}

module.exports = async ({ options, resolveConfigurationProperty }) => {
  const raw = (await resolveConfigurationProperty(['custom', 'params'])) || {};
  const service = (await resolveConfigurationProperty(['service'])) || 'rds-nlb-sync';
  const stage = options?.stage ?? (await resolveConfigurationProperty(['provider', 'stage'])) ?? 'dev';
  const context = { given: await givenParamNames(options, resolveConfigurationProperty), service, stage };
  const command = commandOf(process.argv.slice(2));
  if (!READ_ONLY_COMMANDS.includes(command)) return deriveDeployConfig(raw, context);
  try {
    return deriveDeployConfig(raw, context);
  } catch (error) {
    if (!(error instanceof DeployParamsError)) throw error;
    // These commands deploy nothing: they need the stage's names (stack, functions, log groups),
    // which come from the service and stage, not from the parameters.
    process.stderr.write(`rds-nlb-sync: deploy parameters not given or not valid; \`serverless ${command}\` deploys nothing and goes on without them.\n`);
    // serverless.yml's defaults for what the user did not give, the stand-ins for the required ones.
    const defaults = Object.fromEntries(Object.entries(raw).filter(([name]) => !context.given.includes(name)));
    return deriveDeployConfig({ ...defaults, ...READ_ONLY_STAND_INS }, { service, stage });
  }
};

// Commands that only read the deployed stack, call its functions or delete it. `invoke local`,
// `print`, `package` and `deploy` (and anything unknown) need the real, checked parameters.
const READ_ONLY_COMMANDS = ['info', 'logs', 'invoke', 'remove', 'metrics', 'rollback', 'rollback function', 'deploy list', 'deploy list functions'];

/** The command words of a serverless command line (what precedes the first option), as osls parses them. */
function commandOf(args) {
  const words = [];
  for (const arg of args) {
    if (arg.startsWith('-')) break;
    words.push(arg);
  }
  return words.join(' ');
}

// Valid stand-ins for the read-only commands: shaped like a stage, never deployed.
const READ_ONLY_STAND_INS = {
  rdsEndpoint: 'parameters-not-given.abcdefghijkl.eu-west-1.rds.amazonaws.com',
  targetGroupArn: CREATED_TARGET_GROUP_ARN,
  targetPort: 5432,
  endpointServiceIds: CREATED_SERVICE_ID,
  allowedPrincipals: '834469178297',
  syncSchedule: 'rate(1 minute)',
  acceptSchedule: 'rate(1 minute)',
  failoverWatchSeconds: 180,
  reservedConcurrency: 1,
  dnsTimeoutMs: 2000,
  dnsTries: 2,
  pendingAlarmMinutes: 30,
  logRetentionDays: 30,
  logLevel: 'INFO',
  metricsNamespace: 'RdsNlbSync',
};

/**
 * The parameter names the user gave: `--param name=value` and the stage's (and `default`)
 * params block. `${param:...}` answers null for an unknown name, so a typo is only seen here.
 */
async function givenParamNames(options, resolveConfigurationProperty) {
  const cli = (options?.param ?? []).map((item) => String(item).split('=')[0]);
  const stage = options?.stage ?? (await resolveConfigurationProperty(['provider', 'stage'])) ?? 'dev';
  // Only this stage's block and `default`: another stage's may hold lookups (${ssm:...}) that
  // must not run here.
  const block = async (name) => Object.keys((await resolveConfigurationProperty(['params', name])) || {});
  return [...new Set([...cli, ...(await block(stage)), ...(await block('default'))])];
}

/**
 * Pure: raw parameters -> derived values. Throws DeployParamsError listing every problem.
 * `context.given`: the parameter names the user set (unknown ones are refused);
 * `context.service`: the service name (part of the functions' environment size);
 * `context.stage`: the stage (part of the function names).
 */
function deriveDeployConfig(raw, context = {}) {
  const problems = [];
  const service = context.service ?? 'rds-nlb-sync';
  const str = (name) => (raw[name] === undefined || raw[name] === null ? '' : String(raw[name]).trim());
  const list = (name) => {
    const value = raw[name];
    if (Array.isArray(value)) return value.map((v) => String(v).trim()).filter(Boolean);
    return str(name).split(',').map((v) => v.trim()).filter(Boolean);
  };
  const bool = (name) => {
    const value = str(name).toLowerCase();
    if (['', 'false', '0', 'no'].includes(value)) return false;
    if (['true', '1', 'yes'].includes(value)) return true;
    problems.push(`${name}: must be true or false, got "${str(name)}"`);
    return false;
  };
  const int = (name, min, max) => {
    const value = Number(str(name));
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}: must be a whole number from ${min} to ${max}, got "${str(name)}"`);
      return min;
    }
    return value;
  };
  const ids = (name, pattern, what) => {
    const values = list(name);
    for (const value of values) if (!pattern.test(value)) problems.push(`${name}: "${value}" is not ${what}`);
    const twice = values.filter((v, i) => values.indexOf(v) !== i);
    if (twice.length > 0) problems.push(`${name}: ${[...new Set(twice)].join(', ')} given twice`);
    return [...new Set(values)];
  };

  // --- parameter names: a typo must not deploy a default (`dryrun=true` is not dryRun) -------
  const known = Object.keys(raw);
  for (const name of context.given ?? []) {
    if (!known.includes(name)) problems.push(`${name}: not a deploy parameter${suggest(name, known)}`);
  }

  // --- names: Lambda refuses a function name over 64 characters only at deploy -------------
  if (context.stage !== undefined) {
    const names = FUNCTION_KEYS.map((key) => `${service}-${context.stage}-${key}`);
    const longest = names.reduce((a, b) => (b.length > a.length ? b : a));
    if (longest.length > LAMBDA_FUNCTION_NAME_LIMIT) {
      const room = LAMBDA_FUNCTION_NAME_LIMIT - (longest.length - String(context.stage).length);
      problems.push(
        `--stage: "${context.stage}" (${String(context.stage).length} characters) makes the function name ${longest} ${longest.length} characters long; ` +
          `Lambda allows ${LAMBDA_FUNCTION_NAME_LIMIT}: use a stage of at most ${room} characters`,
      );
    }
  }

  // --- network ---------------------------------------------------------------------------------
  const createPrivateLink = bool('createPrivateLink');
  const createApiEndpoints = bool('createApiEndpoints');
  const acceptInVpc = bool('acceptInVpc');
  const subnetIds = ids('subnetIds', SUBNET_ID, 'a subnet ID (subnet-...)');
  // The NLB and interface endpoints take one subnet per Availability Zone. Which zone a subnet
  // is in cannot be known offline: `rds-nlb-sync doctor` checks the zones against the database.
  const nlbSubnetIds = ids('nlbSubnetIds', SUBNET_ID, 'a subnet ID (subnet-...)');
  const securityGroupIds = ids('securityGroupIds', SECURITY_GROUP_ID, 'a security group ID (sg-...)');
  const dbSecurityGroupId = str('dbSecurityGroupId');
  if (dbSecurityGroupId && !SECURITY_GROUP_ID.test(dbSecurityGroupId)) problems.push(`dbSecurityGroupId: "${dbSecurityGroupId}" is not a security group ID (sg-...)`);
  const vpcId = str('vpcId');
  if (vpcId && !VPC_ID.test(vpcId)) problems.push(`vpcId: "${vpcId}" is not a VPC ID (vpc-...)`);
  const inVpc = subnetIds.length > 0;

  // Lambda VPC config needs both lists; the rest of the stack needs them together too.
  if (subnetIds.length > 0 && securityGroupIds.length === 0) problems.push('securityGroupIds: required when subnetIds is set (the functions run in the VPC)');
  if (securityGroupIds.length > 0 && subnetIds.length === 0) problems.push('subnetIds: required when securityGroupIds is set (the functions run in the VPC)');
  if (securityGroupIds.length > 5) problems.push('securityGroupIds: Lambda takes at most 5 security groups');
  if (subnetIds.length > 16) problems.push('subnetIds: Lambda takes at most 16 subnets');
  if (acceptInVpc && !inVpc) problems.push('acceptInVpc: needs subnetIds and securityGroupIds');
  if (createApiEndpoints) {
    if (!inVpc) problems.push('createApiEndpoints: needs subnetIds and securityGroupIds (the functions reach the endpoints from there)');
    if (!vpcId) problems.push('vpcId: required with createApiEndpoints');
  }
  if ((createPrivateLink || createApiEndpoints) && nlbSubnetIds.length === 0) {
    problems.push('nlbSubnetIds: required with createPrivateLink or createApiEndpoints - one subnet in each Availability Zone the database can run in (every zone of its DB subnet group)');
  }
  if (!createPrivateLink && !createApiEndpoints && nlbSubnetIds.length > 0) problems.push('nlbSubnetIds: only used with createPrivateLink or createApiEndpoints');
  if (dbSecurityGroupId && !createPrivateLink) problems.push('dbSecurityGroupId: only used with createPrivateLink (it admits the created NLB)');
  // The created listener's TCP idle timeout: ELB takes 60-6000 s.
  const nlbIdleTimeoutSeconds = int('nlbIdleTimeoutSeconds', 60, 6000);
  const nlbDeletionProtection = bool('nlbDeletionProtection');

  // --- failover mode: warm standby slots behind a weighted listener (docs/deploy.md) ----------
  const failoverMode = str('failoverMode') || 'cold';
  if (!['cold', 'warm'].includes(failoverMode)) problems.push(`failoverMode: must be cold or warm, got "${failoverMode}"`);
  const warm = failoverMode === 'warm';
  // 2-5 slots: lib/config.ts WARM_SLOTS_MIN/MAX (the listener forward action's target group quota, docs/configuration.md).
  const warmSlots = warm ? int('warmSlots', 2, 5) : 0;
  if (warm) {
    if (!createPrivateLink) problems.push('failoverMode: warm needs createPrivateLink=true (the stack creates the slot target groups and the weighted listener; a listener of your own is not changed)');
    const kind = parseRdsEndpoint(str('rdsEndpoint')).kind;
    if (str('rdsEndpoint') && kind !== 'cluster') {
      problems.push(
        `failoverMode: warm needs the cluster writer endpoint of an Aurora or Multi-AZ DB cluster (<cluster>.cluster-<hash>...), not a ${kind} endpoint: ` +
          (kind === 'instance' ? 'a single instance or a Multi-AZ instance deployment has no standby with an address of its own' : 'reader and custom endpoints are member sets already (every member registered)'),
      );
    }
  }

  // --- sync: which endpoint feeds which target group -------------------------------------
  // With discoverTargetGroups the tagged target groups are served too, and static mappings are optional.
  const discoverTargetGroups = bool('discoverTargetGroups');
  let mappingsInput = [];
  let shorthand = false;
  let mappingsGiven = false;
  const shorthandGiven = ['rdsEndpoint', 'targetGroupArn', 'targetPort', 'targetAvailabilityZone'].filter((name) => str(name));
  if (Array.isArray(raw.syncMappings) || str('syncMappings')) {
    if (shorthandGiven.length > 0) problems.push(`syncMappings: set either syncMappings or rdsEndpoint/targetGroupArn/targetPort, not both (${shorthandGiven.join(', ')} also given)`);
    let parsed = raw.syncMappings;
    if (!Array.isArray(parsed) && (typeof parsed !== 'object' || parsed === null)) {
      try {
        parsed = JSON.parse(str('syncMappings'));
      } catch {
        parsed = undefined;
      }
    }
    // null, {}, true or 5 parse as JSON but are no list: say what shape is wanted.
    if (Array.isArray(parsed)) mappingsInput = createPrivateLink ? createdMappings(parsed, warm, problems) : parsed;
    else problems.push(`syncMappings: ${MAPPINGS_SHAPE}; got ${parsed === undefined ? 'text that is not JSON' : parsed === null ? 'null' : typeof parsed === 'object' ? 'an object' : `${typeof parsed} ${JSON.stringify(parsed)}`}`);
    mappingsGiven = Array.isArray(parsed);
  } else if (discoverTargetGroups && shorthandGiven.length === 0 && !createPrivateLink) {
    // Every database comes from the tags: no static mapping.
  } else {
    shorthand = true;
    const what = {
      rdsEndpoint: 'the RDS/Aurora endpoint, e.g. mydb.abc123.eu-west-1.rds.amazonaws.com',
      targetGroupArn: 'the NLB IP target group ARN; or createPrivateLink=true to create one',
      targetPort: 'the database port, e.g. 5432',
    };
    const missing = Object.keys(what).filter((name) => !str(name) && !(createPrivateLink && name === 'targetGroupArn'));
    for (const name of missing) problems.push(`${name}: required (${what[name]})`);
    if (missing.length > 0 && !createPrivateLink) problems.push('syncMappings: the alternative to rdsEndpoint/targetGroupArn/targetPort, a JSON list of {"endpoint","targetGroupArn","port"}');
    if (createPrivateLink && str('targetGroupArn')) problems.push('targetGroupArn: not with createPrivateLink (the stack creates the target group)');
    if (missing.length === 0) {
      const port = str('targetPort');
      const mapping = { endpoint: str('rdsEndpoint'), targetGroupArn: createPrivateLink ? '${TargetGroup}' : str('targetGroupArn'), port: /^\d+$/.test(port) ? Number(port) : port };
      if (str('targetAvailabilityZone')) mapping.availabilityZone = str('targetAvailabilityZone');
      mappingsInput = [mapping];
    }
  }
  // No static mapping (discovery only): SYNC_MAPPINGS is left unset.
  const mappingsJson = mappingsInput.length === 0 && !mappingsGiven ? '' : JSON.stringify(mappingsInput);

  // Mappings in an SSM parameter the stack creates: the way past Lambda's 4 KB environment.
  const syncMappingsParameter = str('syncMappingsParameter');
  if (syncMappingsParameter && !mappingsJson) problems.push('syncMappingsParameter: holds the static mappings, and there are none (discoverTargetGroups finds the groups): leave it unset');
  if (syncMappingsParameter) {
    if (!SSM_PARAMETER_NAME.test(syncMappingsParameter) || syncMappingsParameter.length > 1011 || /^\/?(aws|ssm)/i.test(syncMappingsParameter)) {
      problems.push(`syncMappingsParameter: "${syncMappingsParameter}" is not an SSM parameter name (letters, digits, _.-/, not starting with aws or ssm), e.g. /rds-nlb-sync/prod/mappings`);
    }
    if (createPrivateLink) problems.push('syncMappingsParameter: not with createPrivateLink (CloudFormation fills the ARNs of the created target groups into the environment, not into the parameter)');
    if (Buffer.byteLength(mappingsJson) > SSM_ADVANCED_BYTES) problems.push(`syncMappings: ${Buffer.byteLength(mappingsJson)} bytes of JSON; an SSM parameter holds at most ${SSM_ADVANCED_BYTES} - split the mappings over two stages`);
  }

  // --- the functions' environments, checked by the functions' own loaders --------------------
  const logLevel = str('logLevel').toUpperCase() || 'INFO';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`logLevel: must be one of ${LOG_LEVELS.join(', ')}`);
  const common = { POWERTOOLS_SERVICE_NAME: service, POWERTOOLS_LOG_LEVEL: logLevel, METRICS_NAMESPACE: str('metricsNamespace'), DRY_RUN: str('dryRun') || 'false' };
  const syncSchedule = scheduleList('syncSchedule', raw, problems);
  const scheduleIntervalSeconds = Math.min(3600, scheduleSeconds(syncSchedule) ?? 60);
  const syncEnv = {
    ...common,
    ...(syncMappingsParameter ? { SYNC_MAPPINGS_PARAMETER: syncMappingsParameter } : { SYNC_MAPPINGS: mappingsJson }),
    DNS_SERVERS: list('dnsServers').join(','),
    DNS_TIMEOUT_MS: str('dnsTimeoutMs'),
    DNS_TRIES: str('dnsTries'),
    FAILOVER_WATCH_SECONDS: str('failoverWatchSeconds'),
    FAILOVER_FOLLOW_SECONDS: str('failoverFollowSeconds'),
    // During a failover watch the scheduled runs wait behind it: the watching run re-syncs every
    // mapping this often instead (cron schedules: every minute, the most a schedule runs).
    SCHEDULE_INTERVAL_SECONDS: String(scheduleIntervalSeconds),
    ...(warm ? { FAILOVER_MODE: 'warm', WARM_LISTENER_ARN: CREATED_LISTENER_ARN, WARM_SLOT_TARGET_GROUP_ARNS: Array(warmSlots).fill(LONGEST_TARGET_GROUP_ARN).join(',') } : {}),
    DISCOVER_TARGET_GROUPS: String(discoverTargetGroups),
    DISCOVERY_TAG_KEY: str('discoveryTagKey'),
    MAPPING_METRICS: str('mappingMetrics'),
    TARGET_READS_PER_SECOND: str('targetReadsPerSecond'),
  };
  const acceptEnv = {
    ...common,
    ENDPOINT_SERVICE_IDS: createPrivateLink ? CREATED_SERVICE_ID : list('endpointServiceIds').join(','),
    LOAD_BALANCER_ARNS: list('loadBalancerArns').join(','),
    ALLOWED_PRINCIPALS: list('allowedPrincipals').join(','),
    REJECT_UNLISTED: str('rejectUnlisted') || 'false',
  };

  // What the function will see: the mappings (from SSM when there) and the created target group.
  const syncSeen = { ...syncEnv, SYNC_MAPPINGS: mappingsJson.replace(CREATED_GROUP_VARIABLE, (_, n) => (n ? createdGroupArn(n) : CREATED_TARGET_GROUP_ARN)) };
  if (warm) syncSeen.WARM_SLOT_TARGET_GROUP_ARNS = [CREATED_TARGET_GROUP_ARN, ...Array.from({ length: warmSlots - 1 }, (_, i) => createdSlotArn(i + 2))].join(',');
  delete syncSeen.SYNC_MAPPINGS_PARAMETER;
  const mappingParam = (field) => (shorthand ? SHORTHAND_FIELD_PARAMS[field] : undefined);
  // Given mappings are always checked (an empty list is told so); the shorthand once complete.
  const syncConfig = mappingsGiven || mappingsInput.length > 0 || discoverTargetGroups ? loadWith(loadSyncConfig, syncSeen, SYNC_ENV_PARAMS, problems, mappingParam) : undefined;

  // The probe of the real path (lib/sync/probe.ts): sync connects through the NLB listener. The
  // created NLB's name comes from CloudFormation; another NLB's listener is probeTarget.
  const probeEnabled = str('probe') === '' ? true : bool('probe');
  const probeTargetParam = str('probeTarget');
  if (probeTargetParam && createPrivateLink) problems.push('probeTarget: not with createPrivateLink (the probe targets the created NLB)');
  const probeEnv = {
    PROBE_ENABLED: String(probeEnabled),
    PROBE_TARGET: probeTargetParam,
    PROBE_PROTOCOL: str('probeProtocol') || 'auto',
    FUNCTION_IN_VPC: String(inVpc),
  };
  Object.assign(syncEnv, probeEnv);
  // The created NLB: one listener per database (warm: one), each probed on its port: "<nlb>:5432,3306".
  const listenerPorts = [...new Set((warm ? mappingsInput.slice(0, 1) : mappingsInput).map((m) => Number(m?.port)).filter((p) => Number.isInteger(p) && p >= 1 && p <= 65535))];
  const createdProbeTarget = (host) => `${host}:${(listenerPorts.length > 0 ? listenerPorts : [5432]).join(',')}`;
  const probeConfig = loadWith(
    loadProbeConfig,
    { ...probeEnv, ...(createPrivateLink ? { PROBE_TARGET: createdProbeTarget(CREATED_NLB_DNS_NAME) } : {}) },
    PROBE_ENV_PARAMS,
    problems,
  );

  let acceptConfig;
  if (createPrivateLink) {
    if (list('endpointServiceIds').length > 0 || list('loadBalancerArns').length > 0) problems.push('endpointServiceIds/loadBalancerArns: not with createPrivateLink (the stack creates the endpoint service)');
    if (!inVpc) problems.push('subnetIds: required with createPrivateLink (the sync function resolves the database from the VPC)');
    if (!vpcId) problems.push('vpcId: required with createPrivateLink (the target group lives in that VPC)');
  } else if (list('endpointServiceIds').length === 0 && list('loadBalancerArns').length === 0) {
    problems.push('endpointServiceIds: required (vpce-svc-..., comma-separated) - or loadBalancerArns to find the services from, or createPrivateLink=true');
  }
  if (createPrivateLink || list('endpointServiceIds').length > 0 || list('loadBalancerArns').length > 0) {
    acceptConfig = loadWith(loadAcceptConfig, acceptEnv, ACCEPT_ENV_PARAMS, problems);
  }

  // --- Lambda's 4 KB environment -------------------------------------------------------------
  const envBytes = (env) => Object.entries(env).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0);
  const syncEnvBytes = envBytes({
    ...syncEnv,
    ...(syncEnv.SYNC_MAPPINGS ? { SYNC_MAPPINGS: syncEnv.SYNC_MAPPINGS.replace(CREATED_GROUP_VARIABLE, LONGEST_TARGET_GROUP_ARN) } : {}),
    ...(createPrivateLink ? { PROBE_TARGET: createdProbeTarget(LONGEST_NLB_DNS_NAME) } : {}),
  });
  if (syncEnvBytes > LAMBDA_ENV_LIMIT_BYTES) {
    problems.push(
      `syncMappings: the sync function's environment would be ${syncEnvBytes} bytes; Lambda allows ${LAMBDA_ENV_LIMIT_BYTES} in all. ` +
        'Set syncMappingsParameter=/rds-nlb-sync/<stage>/mappings: the stack then keeps the mappings in that SSM parameter and the function reads it at cold start',
    );
  }
  const acceptEnvBytes = envBytes(acceptEnv);
  if (acceptEnvBytes > LAMBDA_ENV_LIMIT_BYTES) problems.push(`endpointServiceIds/loadBalancerArns/allowedPrincipals: the accept function's environment would be ${acceptEnvBytes} bytes; Lambda allows ${LAMBDA_ENV_LIMIT_BYTES}`);

  // --- timing, derived -------------------------------------------------------------------------
  // An RDS event re-resolves for the watch window; the poll that starts last may take a whole
  // DNS budget, and so may the first resolution; then the ELB calls. c-ares doubles the
  // timeout on each try: 2000 ms x 2 tries = 2 + 4 = 6 s. A failover seen at the end of the
  // watch is then followed for up to the follow bound (lib/sync/watch.ts).
  // (The loader has checked each number; without its values there is no timeout to size.)
  const { failoverWatchMs = 0, failoverFollowMs = 0, dns = { timeoutMs: 0, tries: 0 } } = syncConfig ?? {};
  const dnsBudgetSeconds = Math.ceil((dns.timeoutMs * (2 ** dns.tries - 1)) / 1000);
  const syncTimeout = failoverWatchMs / 1000 + failoverFollowMs / 1000 + 2 * dnsBudgetSeconds + API_BUDGET_SECONDS;
  if (syncConfig && syncTimeout > 900) {
    problems.push(
      `failoverWatchSeconds/failoverFollowSeconds/dnsTimeoutMs/dnsTries: the sync would need a ${syncTimeout} s timeout (watch ${failoverWatchMs / 1000} + follow ${failoverFollowMs / 1000} + 2 x DNS ${dnsBudgetSeconds} + ${API_BUDGET_SECONDS}); Lambda allows 900 - lower failoverFollowSeconds or failoverWatchSeconds`,
    );
  }
  // An event that waits behind a running failover watch (reserved concurrency 1) must outlive it.
  const syncMaximumEventAge = Math.min(21600, Math.max(300, 2 * syncTimeout + 60));

  const acceptSchedule = scheduleList('acceptSchedule', raw, problems);
  // Alarm periods follow the schedule, so every period holds a run (or the heartbeat is missing).
  const syncPeriod = str('alarmPeriodSeconds') ? roundPeriod(int('alarmPeriodSeconds', 60, 86400)) : roundPeriod(Math.max(60, scheduleSeconds(syncSchedule) ?? 300));
  const acceptPeriod = roundPeriod(Math.max(300, scheduleSeconds(acceptSchedule) ?? 300));
  // The accept heartbeat (clean runs) follows the schedule itself: 3 of these periods, 3 minutes by default.
  const acceptHeartbeatPeriod = roundPeriod(Math.max(60, scheduleSeconds(acceptSchedule) ?? 300));
  // A run that watches or follows holds the single sync slot for minutes, and sends the heartbeat
  // of the runs it holds back once a schedule interval (lib/sync/heartbeat.ts): at a pass that
  // ends an interval or more after the last beat, so beats are at most two intervals apart. The
  // alarm allows that gap plus one period.
  const heartbeatPeriods = Math.max(3, Math.ceil((2 * scheduleIntervalSeconds) / syncPeriod) + 1);
  // "The link is down" alarms (no healthy target, the probe, the NLB's own count) must outlast a
  // routine failover, whose new target serves only after ELB's registration and health checks
  // (minutes): their window is the follow bound plus one period. A failover slower than that is
  // paged at once by failover-not-healthy, the timeline's own signal.
  const linkDownPeriods = (period) => Math.max(3, Math.ceil(failoverFollowMs / 1000 / period) + 1);
  const outagePeriods = linkDownPeriods(syncPeriod);
  const nlbOutagePeriods = linkDownPeriods(60);
  const pendingAlarmMinutes = int('pendingAlarmMinutes', 5, 1440);
  const pendingPeriods = Math.max(1, Math.ceil((pendingAlarmMinutes * 60) / acceptPeriod));
  // PutMetricAlarm: Period x EvaluationPeriods at most one day for periods under an hour, seven
  // days otherwise; CloudFormation would fail the alarm at deploy.
  const alarmWindow = (names, period, periods) => {
    const limit = period < 3600 ? 86400 : 604800;
    if (period * periods > limit) {
      problems.push(`${names}: an alarm of ${periods} periods of ${period} s spans ${period * periods} s; CloudWatch allows ${limit} s for ${period < 3600 ? 'periods under an hour' : 'periods of an hour or more'} - at most ${Math.floor(limit / period)} periods, ${Math.floor(limit / period) * period / 60} minutes here`);
    }
  };
  alarmWindow('pendingAlarmMinutes/acceptSchedule', acceptPeriod, pendingPeriods);
  alarmWindow('alarmPeriodSeconds/syncSchedule', syncPeriod, heartbeatPeriods);

  // Reserved concurrency 1: runs never race on a target group. Lambda keeps 100 executions
  // unreserved, so accounts with a lower limit deploy with reservedConcurrency=none.
  const reservedText = str('reservedConcurrency').toLowerCase();
  let reservedConcurrency;
  if (reservedText === 'none') reservedConcurrency = undefined;
  else if (reservedText === '0') problems.push('reservedConcurrency: 0 would stop the functions from ever running; use 1 (default) or none (no reservation, for accounts whose concurrency limit leaves no room)');
  else reservedConcurrency = int('reservedConcurrency', 1, 1000);

  const logRetentionDays = Number(str('logRetentionDays'));
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) problems.push(`logRetentionDays: must be one of ${LOG_RETENTION_DAYS.join(', ')}, got "${str('logRetentionDays')}"`);
  const alarmEmail = str('alarmEmail');
  if (alarmEmail && !EMAIL.test(alarmEmail)) problems.push(`alarmEmail: "${alarmEmail}" is not an e-mail address`);
  // metricsNamespace: CloudWatch's rule is the loaders' (lib/config.ts namespaceProblem); both
  // loaders read it, so one problem may be reported twice.
  if (problems.length > 0 || !syncConfig || !acceptConfig) throw new DeployParamsError(problems.length > 0 ? [...new Set(problems)] : ['syncMappings: required']);

  return derive();

  function derive() {
    const metricsNamespace = syncConfig.metricsNamespace;
    const ifPrivateLink = (value) => ({ 'Fn::If': ['CreatePrivateLink', value, { Ref: 'AWS::NoValue' }] });
    const sub = (text) => ({ 'Fn::Sub': text });
    const arn = (service, resource) => sub(`arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resource}`);
    const serviceArn = (id) => arn('ec2', `vpc-endpoint-service/${id}`);
    const mappings = syncConfig.mappings;
    const memberSets = mappings.filter((m) => isMemberSet(m.endpoint)).map((m) => parseRdsEndpoint(m.endpoint));

    // sync's reads beyond DNS: which cluster an evented instance belongs to (always: the RDS
    // event rule is always on), the members of reader/custom endpoints, the mappings in SSM.
    // DescribeDBInstances: the members' names are unknown until run time, so every instance.
    const readStatements = [
      { Sid: 'ReadInstances', Effect: 'Allow', Action: 'rds:DescribeDBInstances', Resource: arn('rds', 'db:*') },
      // A blue/green switchover event names the deployment; its source and target say which mappings it concerns.
      { Sid: 'ReadBlueGreenDeployments', Effect: 'Allow', Action: 'rds:DescribeBlueGreenDeployments', Resource: arn('rds', 'deployment:*') },
    ];
    const customs = memberSets.filter((e) => e.kind === 'custom').map((e) => e.identifier);
    // Discovered groups may name any reader or custom endpoint: known only at run time.
    const discovering = Boolean(syncConfig.discovery);
    if (memberSets.length > 0 || discovering) {
      // A run reads every member set at once with filters (lib/aws/rds.ts readMemberSets), and
      // RDS authorizes a call without an identifier on cluster:* (and cluster-endpoint:*), so
      // the cluster read cannot be scoped to the mappings' clusters (reads only).
      const clusters = [arn('rds', 'cluster:*')];
      readStatements.push({ Sid: 'ReadClusterMembers', Effect: 'Allow', Action: 'rds:DescribeDBClusters', Resource: clusters });
      // A custom endpoint's static and excluded members (DescribeDBClusterEndpoints): on the
      // cluster and on the custom endpoint, the two resource types the action takes.
      if (customs.length > 0 || discovering) {
        const endpoints = [arn('rds', 'cluster-endpoint:*')];
        readStatements.push({ Sid: 'ReadCustomEndpoints', Effect: 'Allow', Action: 'rds:DescribeDBClusterEndpoints', Resource: [...clusters, ...endpoints] });
      }
    }
    // Warm standby: weights on our listener only (a list, so it is empty without the listener); the cluster's members and tiers.
    if (warm) {
      readStatements.push(
        { Sid: 'WeightOwnListener', Effect: 'Allow', Action: 'elasticloadbalancing:ModifyListener', Resource: [ifPrivateLink({ Ref: 'Listener' })] },
        // DescribeListeners supports no resource-level permissions.
        { Sid: 'ReadListeners', Effect: 'Allow', Action: 'elasticloadbalancing:DescribeListeners', Resource: '*' },
        { Sid: 'ReadFailoverCandidates', Effect: 'Allow', Action: 'rds:DescribeDBClusters', Resource: arn('rds', `cluster:${parseRdsEndpoint(mappings[0].endpoint).identifier}`) },
      );
    }
    const parameterArn = syncMappingsParameter ? arn('ssm', `parameter/${syncMappingsParameter.replace(/^\//, '')}`) : undefined;
    if (parameterArn) readStatements.push({ Sid: 'ReadMappingsParameter', Effect: 'Allow', Action: 'ssm:GetParameter', Resource: parameterArn });

    const interfaceEndpoint = (name) => ({
      Type: 'AWS::EC2::VPCEndpoint',
      Condition: 'CreateApiEndpoints',
      Properties: {
        VpcEndpointType: 'Interface',
        ServiceName: sub(`com.amazonaws.\${AWS::Region}.${name}`),
        VpcId: { Ref: 'VpcId' },
        SubnetIds: { 'Fn::Split': [',', { Ref: 'NlbSubnetIds' }] },
        SecurityGroupIds: [{ Ref: 'ApiEndpointSecurityGroup' }],
        PrivateDnsEnabled: true,
      },
    });
    const mappingsParameterBytes = Buffer.byteLength(mappingsJson);

    // createPrivateLink: one target group and listener per database; the first are TargetGroup and
    // Listener (serverless.yml), the others TargetGroup2/Listener2, ... (the same definitions).
    const databasePorts = createPrivateLink ? [...new Set(mappings.map((m) => m.port))] : [];
    const moreDatabases = createPrivateLink && !warm ? mappings.slice(1) : [];
    const databaseResources = Object.fromEntries(
      moreDatabases.flatMap((m, j) => {
        const i = j + 1;
        return [
          [createdGroupId(i), slotTargetGroup(m.port)],
          [createdListenerId(i), createdListener(m.port, createdGroupId(i), nlbIdleTimeoutSeconds)],
          // The database admits the NLB's group on this port too (DbIngressFromNlb has the first).
          [
            `DbIngressFromNlb${i + 1}`,
            {
              Type: 'AWS::EC2::SecurityGroupIngress',
              Condition: 'AdmitNlbToDb',
              Properties: {
                GroupId: { Ref: 'DbSecurityGroupId' },
                IpProtocol: 'tcp',
                FromPort: m.port,
                ToPort: m.port,
                SourceSecurityGroupId: { Ref: 'NlbSecurityGroup' },
                Description: 'rds-nlb-sync NLB (Fivetran PrivateLink) - connections and health checks',
              },
            },
          ],
        ];
      }),
    );

    // Warm standby: slot 1 is TargetGroup (weighted at creation), WarmSlot2..N sit at weight 0.
    const slotIds = warm ? ['TargetGroup', ...Array.from({ length: warmSlots - 1 }, (_, i) => `WarmSlot${i + 2}`)] : [];
    // The target groups sync registers into: the created one, (warm) every slot, or the mappings'.
    const targetGroupArns = warm
      ? slotIds.map((id) => ifPrivateLink({ Ref: id }))
      : createPrivateLink
        ? mappings.map((_, i) => ifPrivateLink({ Ref: createdGroupId(i) }))
        : [...new Set(mappings.map((m) => m.targetGroupArn))];
    // RegisterTargets/DeregisterTargets: on the configured target groups, and with discovery on the
    // groups that carry the discovery tag (the targetgroup resource type takes aws:ResourceTag/<key>,
    // Service Authorization Reference, Elastic Load Balancing V2), never on every group of the account.
    function targetStatements() {
      const manage = ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'];
      const arns = targetGroupArns;
      const statements = arns.length > 0 ? [{ Sid: 'ManageTargetsOfConfiguredTargetGroups', Effect: 'Allow', Action: manage, Resource: arns }] : [];
      if (syncConfig.discovery) {
        statements.push(
          {
            Sid: 'ManageTargetsOfTaggedTargetGroups',
            Effect: 'Allow',
            Action: manage,
            Resource: arn('elasticloadbalancing', 'targetgroup/*'),
            // The tag is present (any value: the function checks the value is an RDS endpoint).
            Condition: { Null: { [`aws:ResourceTag/${syncConfig.discovery.tagKey}`]: 'false' } },
          },
          // The listing (lib/aws/target-groups.ts); neither action takes resource-level permissions.
          { Sid: 'DiscoverTargetGroups', Effect: 'Allow', Action: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTags'], Resource: '*' },
        );
      }
      return statements;
    }

    return {
      // CloudFormation parameter defaults (Conditions switch the optional parts on them).
      subnetIds: subnetIds.join(','),
      nlbSubnetIds: nlbSubnetIds.join(','),
      securityGroupIds: securityGroupIds.join(','),
      dbSecurityGroupId,
      vpcId,
      privateLink: String(createPrivateLink),
      nlbIdleTimeoutSeconds: String(nlbIdleTimeoutSeconds),
      nlbDeletionProtection: String(nlbDeletionProtection),
      apiEndpoints: String(createApiEndpoints),
      alarmEmail,

      // The functions' environments (checked above by lib/config.ts).
      syncEnvironment: {
        ...syncEnv,
        ...(syncEnv.SYNC_MAPPINGS && createPrivateLink ? { SYNC_MAPPINGS: ifPrivateLink(sub(syncEnv.SYNC_MAPPINGS)) } : {}),
        ...(warm
          ? {
              WARM_LISTENER_ARN: ifPrivateLink({ Ref: 'Listener' }),
              WARM_SLOT_TARGET_GROUP_ARNS: ifPrivateLink({ 'Fn::Join': [',', slotIds.map((id) => ({ Ref: id }))] }),
            }
          : {}),
        // Every created listener (one per database), on the NLB's one DNS name.
        ...(createPrivateLink ? { PROBE_TARGET: { 'Fn::If': ['CreatePrivateLink', sub(createdProbeTarget('${LoadBalancer.DNSName}')), ''] } } : {}),
      },
      // The NLB's group admits the probing function's groups on the listener ports, and nothing else.
      probeIngress: createPrivateLink && probeConfig?.enabled
        ? listenerPorts.flatMap((port) =>
            securityGroupIds.map((_, i) => ({
              IpProtocol: 'tcp',
              FromPort: port,
              ToPort: port,
              SourceSecurityGroupId: { 'Fn::Select': [i, { 'Fn::Split': [',', { Ref: 'SecurityGroupIds' }] }] },
              Description: 'rds-nlb-sync sync function - the probe of the path to the database',
            })),
          )
        : [],
      acceptEnvironment: { ...acceptEnv, ENDPOINT_SERVICE_IDS: createPrivateLink ? ifPrivateLink({ Ref: 'EndpointService' }) : acceptEnv.ENDPOINT_SERVICE_IDS },

      // The NLB's group sends to each database port only (traffic and health checks), to the DB's group when given.
      nlbEgress: (databasePorts.length > 0 ? databasePorts : [mappings[0]?.port ?? 5432]).map((port) => ({
        'Fn::If': [
          'HasDbSecurityGroup',
          { IpProtocol: 'tcp', FromPort: port, ToPort: port, DestinationSecurityGroupId: { Ref: 'DbSecurityGroupId' }, Description: 'Database port - forwarded connections and health checks' },
          { IpProtocol: 'tcp', FromPort: port, ToPort: port, CidrIp: '0.0.0.0/0', Description: 'Database port - forwarded connections and health checks' },
        ],
      })),

      // sync
      // RegisterTargets/DeregisterTargets are allowed on these target groups only.
      targetGroupArns,
      // The created listener: one target group, or (warm) every slot with one weighted.
      listenerDefaultActions: warm
        ? [{ Type: 'forward', ForwardConfig: { TargetGroups: slotIds.map((id, i) => ({ TargetGroupArn: { Ref: id }, Weight: i === 0 ? 1 : 0 })) } }]
        : [{ Type: 'forward', TargetGroupArn: { Ref: 'TargetGroup' } }],
      failoverMode,
      targetPort: mappings[0]?.port ?? 5432,
      syncTargetsPolicy: { PolicyName: 'sync-targets', PolicyDocument: { Version: '2012-10-17', Statement: targetStatements() } },
      syncReadPolicy: { PolicyName: 'sync-reads', PolicyDocument: { Version: '2012-10-17', Statement: readStatements } },
      syncSchedule,
      syncTimeout,
      syncMaximumEventAge,
      reservedConcurrency: reservedConcurrency ?? { Ref: 'AWS::NoValue' },

      // accept
      allowedPrincipalArns: acceptConfig.allowedAccounts.map((account) => sub(`arn:\${AWS::Partition}:iam::${account}:root`)),
      // Accept (Reject only with rejectUnlisted) on these services; the call also names the
      // consumer's endpoint, in Fivetran's account. Services found from loadBalancerArns are
      // unknown until run time, so that mode gets every endpoint service of this account/region.
      acceptActions: ['ec2:AcceptVpcEndpointConnections', ...(acceptConfig.rejectUnlisted ? ['ec2:RejectVpcEndpointConnections'] : [])],
      acceptResources: [
        ...(createPrivateLink
          ? [ifPrivateLink(serviceArn('${EndpointService}'))]
          : acceptConfig.serviceIds.length > 0
            ? acceptConfig.serviceIds.map(serviceArn)
            : [serviceArn('*')]),
        sub('arn:${AWS::Partition}:ec2:${AWS::Region}:*:vpc-endpoint/*'),
      ],
      acceptSchedule,
      // accept calls only AWS APIs: outside the VPC unless asked (no NAT or endpoints needed).
      acceptInVpc: String(acceptInVpc),

      // Resources whose number follows the parameters.
      extraResources: {
        // Warm standby slots: the same health checks and attributes as TargetGroup (serverless.yml;
        // test/deploy/warm-template.test.ts compares them).
        ...Object.fromEntries(slotIds.slice(1).map((id) => [id, slotTargetGroup(mappings[0].port)])),
        // Several databases behind the created NLB: a target group, listener and DB ingress per further one.
        ...databaseResources,
        // One AWS::EC2::VPCEndpointConnectionNotification per given service, to the accept topic.
        ...Object.fromEntries(
          (createPrivateLink ? [] : acceptConfig.serviceIds).map((id) => [
            `ConnectionNotification${id.replace(/[^A-Za-z0-9]/g, '')}`,
            {
              Type: 'AWS::EC2::VPCEndpointConnectionNotification',
              DependsOn: 'ConnectionNotificationTopicPolicy',
              Properties: { ServiceId: id, ConnectionEvents: ['Connect'], ConnectionNotificationArn: { Ref: 'ConnectionNotificationTopic' } },
            },
          ]),
        ),
        // The SSM API for the mappings parameter (the RDS one is always there: events need it).
        ...(syncMappingsParameter ? { SsmApiEndpoint: interfaceEndpoint('ssm') } : {}),
        ...(syncMappingsParameter
          ? {
              MappingsParameter: {
                Type: 'AWS::SSM::Parameter',
                Properties: {
                  Name: syncMappingsParameter,
                  Type: 'String',
                  Tier: mappingsParameterBytes > SSM_STANDARD_BYTES ? 'Advanced' : 'Standard',
                  Description: 'rds-nlb-sync SYNC_MAPPINGS (deploy parameter syncMappings); change it with a deploy',
                  Value: mappingsJson,
                },
              },
            }
          : {}),
      },

      // What an operator needs per database behind the created NLB: the first keeps TargetGroupArn
      // (serverless.yml) and adds ListenerPort; the others TargetGroup2Arn/Listener2Port, ...
      extraOutputs: createPrivateLink ? databaseOutputs(warm ? mappings.slice(0, 1) : mappings) : {},

      // Interface endpoints accept HTTPS from the functions' security groups.
      apiEndpointIngress: securityGroupIds.map((_, i) => ({
        IpProtocol: 'tcp',
        FromPort: 443,
        ToPort: 443,
        SourceSecurityGroupId: { 'Fn::Select': [i, { 'Fn::Split': [',', { Ref: 'SecurityGroupIds' }] }] },
        Description: 'HTTPS from the rds-nlb-sync functions',
      })),

      // alarms
      syncPeriod,
      heartbeatPeriods,
      acceptPeriod,
      acceptHeartbeatPeriod,
      pendingPeriods,
      probePeriods: outagePeriods,
      outagePeriods,
      nlbOutagePeriods,
      // NlbHealthyHostsAlarm (serverless.yml): one target group's HealthyHostCount, or (warm) the
      // MAX over every slot's, since no metric says which slot the listener weights.
      // Several databases: MIN over their groups, so any database without a healthy host alarms.
      nlbHealthyHosts: warm ? nlbHealthyHostsMetric(slotIds) : nlbHealthyHostsMetric(mappings.length > 1 && createPrivateLink ? mappings.map((_, i) => createdGroupId(i)) : [], 'MIN'),

      logRetentionDays,
      logLevel,
      lambdaLogLevel: LAMBDA_LOG_LEVEL[logLevel],
      metricsNamespace,
      failoverWatchSeconds: syncConfig.failoverWatchMs / 1000,

      // Warm standby adds per-slot widgets; their NLB names come through Fn::Sub's variable map,
      // each guarded by CreatePrivateLink like the rest of the created NLB.
      dashboardBody: warm
        ? {
            'Fn::Sub': [
              JSON.stringify(dashboard(metricsNamespace, syncPeriod, acceptPeriod, slotIds)),
              Object.fromEntries([
                ['WarmNlbFullName', { 'Fn::If': ['CreatePrivateLink', { 'Fn::GetAtt': ['LoadBalancer', 'LoadBalancerFullName'] }, 'none'] }],
                ...slotIds.map((id, i) => [`WarmSlot${i + 1}FullName`, { 'Fn::If': ['CreatePrivateLink', { 'Fn::GetAtt': [id, 'TargetGroupFullName'] }, 'none'] }]),
              ]),
            ],
          }
        : sub(JSON.stringify(dashboard(metricsNamespace, syncPeriod, acceptPeriod))),

      // The effective parameters, recorded in the template's Metadata (deploy/recorded-params.cjs):
      // the next deploy compares its own with them (deploy/parameter-guard.cjs).
      stackMetadata: stackMetadata(raw, PACKAGE_VERSION),
    };
  }
}

/** The logical IDs of the created target group and listener of mapping i: the first keeps TargetGroup/Listener (existing stacks are not replaced). */
const createdGroupId = (i) => (i === 0 ? 'TargetGroup' : `TargetGroup${i + 1}`);
const createdListenerId = (i) => (i === 0 ? 'Listener' : `Listener${i + 1}`);

/** The stack outputs of each created database's target group and listener port (the first's TargetGroupArn is serverless.yml's). */
function databaseOutputs(mappings) {
  return Object.fromEntries(
    mappings.flatMap((m, i) => [
      ...(i === 0
        ? []
        : [[`${createdGroupId(i)}Arn`, { Condition: 'CreatePrivateLink', Description: `Target group of ${m.endpoint} (syncMappings[${i}])`, Value: { Ref: createdGroupId(i) } }]]),
      [`${createdListenerId(i)}Port`, { Condition: 'CreatePrivateLink', Description: `NLB listener port of ${m.endpoint}${i === 0 ? '' : ` (syncMappings[${i}])`}: Fivetran's connection to it uses this port`, Value: String(m.port) }],
    ]),
  );
}

/**
 * createPrivateLink with syncMappings: one created target group and listener per database, the
 * listener on the mapping's port (the port Fivetran's connection uses), so ports must differ.
 * Each mapping's targetGroupArn is left out or "created"; it becomes ${TargetGroup}, ${TargetGroup2}, ...
 */
function createdMappings(parsed, warm, problems) {
  if (warm && parsed.length > 1) {
    problems.push(`failoverMode: warm takes one database (the listener's weights choose among one cluster's slots); syncMappings has ${parsed.length} - use failoverMode=cold, or one stage per database`);
  }
  const ports = new Map();
  return parsed.map((mapping, i) => {
    if (typeof mapping !== 'object' || mapping === null || Array.isArray(mapping)) return mapping;
    const given = mapping.targetGroupArn;
    if (given !== undefined && given !== null && given !== '' && given !== CREATED_PLACEHOLDER) {
      problems.push(`syncMappings[${i}].targetGroupArn: not with createPrivateLink (the stack creates one target group per mapping): leave it out or write "${CREATED_PLACEHOLDER}"`);
    }
    const port = mapping.port;
    if (ports.has(String(port))) {
      problems.push(`syncMappings[${i}].port: ${port} is also syncMappings[${ports.get(String(port))}]'s; with createPrivateLink each database has its own listener, so each mapping needs its own port (Fivetran's connection to that database uses it)`);
    } else if (port !== undefined) ports.set(String(port), i);
    return { ...mapping, targetGroupArn: `\${${createdGroupId(i)}}` };
  });
}

/** A created listener of the NLB on `port`, forwarding to `groupId`: Listener's properties (serverless.yml), kept equal by the template test. */
function createdListener(port, groupId, idleTimeoutSeconds) {
  return {
    Type: 'AWS::ElasticLoadBalancingV2::Listener',
    Condition: 'CreatePrivateLink',
    Properties: {
      LoadBalancerArn: { Ref: 'LoadBalancer' },
      Port: port,
      Protocol: 'TCP',
      ListenerAttributes: [{ Key: 'tcp.idle_timeout.seconds', Value: String(idleTimeoutSeconds) }],
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: groupId } }],
    },
  };
}

/**
 * NlbHealthyHostsAlarm's metric: TargetGroup's AWS/NetworkELB HealthyHostCount (Maximum over the
 * NLB's nodes), or with warm slots metric math MAX([m1..mN]) over every slot's: "some slot has a
 * healthy target", not "the weighted slot has one" (ELB publishes no metric of the weights).
 * Several created databases (combine MIN): the fewest of any database's group, so one database
 * without a healthy target alarms.
 */
function nlbHealthyHostsMetric(slotIds, combine = 'MAX') {
  const none = { Ref: 'AWS::NoValue' };
  const dimensions = (id) => [
    { Name: 'LoadBalancer', Value: { 'Fn::GetAtt': ['LoadBalancer', 'LoadBalancerFullName'] } },
    { Name: 'TargetGroup', Value: { 'Fn::GetAtt': [id, 'TargetGroupFullName'] } },
  ];
  if (slotIds.length === 0) {
    return { namespace: 'AWS/NetworkELB', metricName: 'HealthyHostCount', dimensions: dimensions('TargetGroup'), statistic: 'Maximum', period: 60, metrics: none };
  }
  const ids = slotIds.map((_, i) => `${combine === 'MAX' ? 'slot' : 'db'}${i + 1}`);
  return {
    namespace: none,
    metricName: none,
    dimensions: none,
    statistic: none,
    period: none,
    metrics: [
      ...slotIds.map((id, i) => ({
        Id: ids[i],
        MetricStat: { Metric: { Namespace: 'AWS/NetworkELB', MetricName: 'HealthyHostCount', Dimensions: dimensions(id) }, Period: 60, Stat: 'Maximum' },
        ReturnData: false,
      })),
      combine === 'MAX'
        ? { Id: 'anySlot', Expression: `MAX([${ids.join(', ')}])`, Label: 'healthy hosts, most of any slot', ReturnData: true }
        : { Id: 'everyDatabase', Expression: `MIN([${ids.join(', ')}])`, Label: 'healthy hosts, fewest of any database', ReturnData: true },
    ],
  };
}

/** A warm standby slot: TargetGroup's properties (serverless.yml), kept equal by the template test. */
function slotTargetGroup(port) {
  return {
    Type: 'AWS::ElasticLoadBalancingV2::TargetGroup',
    Condition: 'CreatePrivateLink',
    Properties: {
      TargetType: 'ip',
      Protocol: 'TCP',
      Port: port,
      VpcId: { Ref: 'VpcId' },
      HealthCheckProtocol: 'TCP',
      HealthCheckIntervalSeconds: 5,
      HealthCheckTimeoutSeconds: 3,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
      TargetGroupAttributes: [
        { Key: 'deregistration_delay.timeout_seconds', Value: '10' },
        { Key: 'deregistration_delay.connection_termination.enabled', Value: 'true' },
        { Key: 'preserve_client_ip.enabled', Value: 'false' },
        { Key: 'target_health_state.unhealthy.connection_termination.enabled', Value: 'true' },
      ],
    },
  };
}

/**
 * Runs one of lib/config.ts's loaders on a derived environment and reports each of its problems
 * under the deploy parameter that produced the variable ("DNS_TRIES must be ..." -> "dnsTries:
 * must be ..."). `fieldParam` names the parameter of a mapping field in the shorthand form.
 */
function loadWith(loader, env, paramOf, problems, fieldParam = () => undefined) {
  try {
    return loader(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) {
      const [, key = '', index, field, rest = problem] = /^([A-Z_]+)(?:\[(\d+)\](?:\.(\w+))?)?\s*(.*)$/s.exec(problem) ?? [];
      const param = paramOf[key];
      if (!param) problems.push(problem);
      else if (field && fieldParam(field)) problems.push(`${fieldParam(field)}: ${rest}`);
      else problems.push(`${param}${index === undefined ? '' : `[${index}]`}${field ? `.${field}` : ''}: ${rest}`);
    }
    return undefined;
  }
}

/** " (did you mean dryRun?)" for the known name closest to a typo, if one is close. */
function suggest(name, known) {
  const distance = (a, b) => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j];
        row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length];
  };
  const [best] = known.map((k) => [k, distance(name.toLowerCase(), k.toLowerCase())]).sort((a, b) => a[1] - b[1]);
  return best && best[1] <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean ${best[0]}?)` : ` (known: ${known.join(', ')})`;
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
// EventBridge cron: minutes hours day-of-month month day-of-week year.
const CRON_FIELD = [
  /^(\*|[0-5]?\d([-/,][0-5]?\d)*)$/,
  /^(\*|([01]?\d|2[0-3])([-/,]([01]?\d|2[0-3]))*)$/,
  /^(\*|\?|L|LW|([1-9]|[12]\d|3[01])W?([-/,]([1-9]|[12]\d|3[01]))*)$/i,
  /^(\*|([1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)([-/,]([1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))*)$/i,
  /^(\*|\?|([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5])?([-/,]([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))*)$/i,
  /^(\*|(19[7-9]\d|2\d{3})([-/,](19[7-9]\d|2\d{3}|\d+))*)$/,
];

/**
 * One or more EventBridge schedule expressions, checked as EventBridge does at deploy:
 * rate(<positive whole number> <unit>) with the singular unit for 1 and the plural otherwise;
 * cron(<6 fields>) with "?" in the day-of-month or the day-of-week field (not both).
 */
function scheduleList(name, raw, problems) {
  const value = raw[name];
  const expressions = (Array.isArray(value) ? value : [value]).map((v) => String(v ?? '').trim()).filter(Boolean);
  if (expressions.length === 0) problems.push(`${name}: required, e.g. rate(1 minute)`);
  for (const expression of expressions) {
    const bad = (why) => problems.push(`${name}: "${expression}" ${why}`);
    const rate = RATE.exec(expression);
    const cron = /^cron\((.*)\)$/.exec(expression);
    if (rate) {
      const [, count, unit] = rate;
      const n = Number(count);
      if (n === 0) bad('is not a positive rate');
      else if (n === 1 && unit.endsWith('s')) bad(`must be rate(1 ${unit.slice(0, -1)}) (EventBridge wants the singular for 1)`);
      else if (n > 1 && !unit.endsWith('s')) bad(`must be rate(${n} ${unit}s) (EventBridge wants the plural above 1)`);
    } else if (cron) {
      const fields = cron[1].trim().split(/\s+/);
      if (fields.length !== 6) bad('must have 6 fields: cron(minutes hours day-of-month month day-of-week year)');
      else {
        const names = ['minutes', 'hours', 'day-of-month', 'month', 'day-of-week', 'year'];
        fields.forEach((field, i) => CRON_FIELD[i].test(field) || bad(`has an invalid ${names[i]} field "${field}"`));
        if ((fields[2] === '?') === (fields[4] === '?')) bad('must have "?" in exactly one of day-of-month and day-of-week');
      }
    } else bad('is not rate(<n> <unit>) or cron(<6 fields>), e.g. rate(1 minute) or rate(5 minutes)');
  }
  return expressions;
}

/** Seconds between runs for a single rate() schedule; undefined for cron (unknown). */
function scheduleSeconds(expressions) {
  const rate = expressions.length === 1 ? /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expressions[0]) : null;
  if (!rate) return undefined;
  return Number(rate[1]) * { minute: 60, hour: 3600, day: 86400 }[rate[2]];
}

/** CloudWatch alarm periods of a minute or more must be multiples of 60. */
function roundPeriod(seconds) {
  return Math.min(86400, Math.ceil(seconds / 60) * 60);
}

/**
 * The CloudWatch dashboard, as a Fn::Sub template: ${AWS::Region}, ${<Alarm>.Arn}, log groups
 * and function names are filled in by CloudFormation; ${!...} is a literal ${...} for
 * CloudWatch's dynamic labels.
 */
function dashboard(namespace, period, acceptPeriod, slotIds = []) {
  const ns = JSON.stringify(namespace);
  const search = (metric, stat, id, label) => [
    { expression: `SEARCH('{${ns},TargetGroup,Endpoint,Port} MetricName="${metric}"', '${stat}', ${period})`, id, label },
  ];
  const mappingLabel = (what) => `${what} \${!PROP('Dim.TargetGroup')} (\${!PROP('Dim.Endpoint')}:\${!PROP('Dim.Port')})`;
  const run = (metric, stat, extra = {}) => [namespace, metric, { stat, ...extra }];
  const lambda = (metric, fn, stat) => ['AWS/Lambda', metric, 'FunctionName', `\${${fn}}`, { stat, label: `${fn === 'SyncLambdaFunction' ? 'sync' : 'accept'} ${metric}` }];
  const graph = (x, y, w, h, title, metrics, extra = {}) => ({
    type: 'metric',
    x,
    y,
    width: w,
    height: h,
    properties: { title, region: '${AWS::Region}', view: 'timeSeries', stacked: false, period, metrics, ...extra },
  });
  const text = (x, y, w, h, markdown) => ({ type: 'text', x, y, width: w, height: h, properties: { markdown } });
  return {
    widgets: [
      text(0, 0, 24, 2, [
        '# rds-nlb-sync',
        'The NLB target group follows the RDS endpoint: **resolved** addresses should equal **registered** targets, and **healthy** should be at least 1. ' +
          'Fivetran connects through the endpoint service; **pending** connections should be accepted within minutes. Runbook: README, section Operate.',
      ].join('\n')),
      {
        type: 'alarm',
        x: 0,
        y: 2,
        width: 24,
        height: 3,
        properties: {
          title: 'Alarms',
          alarms: [
            // The one that pages first, then the signals it is made of, then the rest.
            'LinkAtRiskAlarm', 'SyncHeartbeatAlarm', 'NoHealthyTargetsAlarm', 'AllowlistedPendingAlarm', 'AcceptHeartbeatAlarm', 'ProbeFailuresAlarm', 'FailoverNotHealthyAlarm', 'PendingConnectionsAlarm',
            'SyncErrorsAlarm', 'DnsFailuresAlarm', 'SyncFunctionErrorsAlarm', 'SyncThrottlesAlarm', 'AcceptFunctionErrorsAlarm', 'AcceptThrottlesAlarm',
          ].map((alarm) => `\${${alarm}.Arn}`),
        },
      },
      // AWS/NetworkELB's per-group health is free; our per-mapping levels exist only with mappingMetrics=all.
      graph(0, 5, 12, 7, 'Healthy hosts per target group (NLB); resolved vs registered vs healthy with mappingMetrics=all', [
        [{ expression: `SEARCH('{AWS/NetworkELB,LoadBalancer,TargetGroup} MetricName="HealthyHostCount"', 'Maximum', ${period})`, id: 'nlb', label: `NLB healthy \${!PROP('Dim.TargetGroup')}` }],
        search('ResolvedAddresses', 'Maximum', 'resolved', mappingLabel('resolved')),
        search('RegisteredTargets', 'Maximum', 'registered', mappingLabel('registered')),
        search('HealthyTargets', 'Minimum', 'healthy', mappingLabel('healthy')),
      ], { yAxis: { left: { min: 0 } } }),
      graph(12, 5, 12, 7, 'Targets added / removed, per target group', [
        search('TargetsAdded', 'Sum', 'added', mappingLabel('added')),
        search('TargetsRemoved', 'Sum', 'removed', mappingLabel('removed')),
      ], { view: 'bar', yAxis: { left: { min: 0 } } }),
      graph(0, 12, 8, 6, 'DNS failures and sync errors', [
        run('DnsFailures', 'Sum', { label: 'DNS failures', color: '#ff7f0e' }),
        run('SyncErrors', 'Sum', { label: 'sync errors', color: '#d62728' }),
        run('SyncSuccess', 'Sum', { label: 'clean runs (heartbeat)', color: '#2ca02c' }),
        run('ProbeSuccess', 'Minimum', { label: 'probe through the NLB (1 = answered)', color: '#9467bd' }),
      ], { yAxis: { left: { min: 0 } } }),
      graph(8, 12, 8, 6, 'Sync duration (ms)', [
        run('SyncDuration', 'Average', { label: 'average' }),
        run('SyncDuration', 'Maximum', { label: 'maximum' }),
        run('ProbeLatency', 'Maximum', { label: 'probe: database answer through the NLB' }),
      ], { yAxis: { left: { min: 0 } } }),
      graph(16, 12, 8, 6, 'Endpoint connections', [
        run('PendingConnections', 'Maximum', { label: 'pending, any owner (after the run)', color: '#ff7f0e' }),
        run('PendingAllowlisted', 'Maximum', { label: 'pending, allowlisted (Fivetran waiting)', color: '#d62728' }),
        run('AcceptSuccess', 'Sum', { label: 'clean accept runs (heartbeat)', color: '#2ca02c' }),
        run('ConnectionsAccepted', 'Sum', { label: 'accepted', color: '#2ca02c' }),
        run('ConnectionsRejected', 'Sum', { label: 'rejected', color: '#7f7f7f' }),
        run('AcceptErrors', 'Sum', { label: 'accept errors', color: '#d62728' }),
      ], { period: acceptPeriod, yAxis: { left: { min: 0 } } }),
      graph(0, 18, 12, 6, 'Lambda invocations, errors, throttles', [
        lambda('Invocations', 'SyncLambdaFunction', 'Sum'),
        lambda('Errors', 'SyncLambdaFunction', 'Sum'),
        lambda('Throttles', 'SyncLambdaFunction', 'Sum'),
        lambda('Invocations', 'AcceptLambdaFunction', 'Sum'),
        lambda('Errors', 'AcceptLambdaFunction', 'Sum'),
        lambda('Throttles', 'AcceptLambdaFunction', 'Sum'),
      ], { yAxis: { left: { min: 0 } } }),
      graph(12, 18, 12, 6, 'Lambda duration (ms)', [
        lambda('Duration', 'SyncLambdaFunction', 'Maximum'),
        lambda('Duration', 'AcceptLambdaFunction', 'Maximum'),
      ], { yAxis: { left: { min: 0 } } }),
      // One point per followed failover (lib/sync/timeline.ts): the figure users buy.
      graph(0, 35, 24, 6, 'Failover: event to healthy, registered to healthy (s), per target group', [
        search('FailoverEventToHealthy', 'Maximum', 'eventToHealthy', mappingLabel('event to healthy')),
        search('FailoverRegisteredToHealthy', 'Maximum', 'registeredToHealthy', mappingLabel('registered to healthy')),
        search('FailoverEventToRegistered', 'Maximum', 'eventToRegistered', mappingLabel('event to registered')),
      ], { view: 'timeSeries', yAxis: { left: { min: 0, label: 'seconds' } } }),
      {
        type: 'log',
        x: 0,
        y: 24,
        width: 24,
        height: 6,
        properties: {
          title: 'Latest sync runs',
          region: '${AWS::Region}',
          view: 'table',
          query:
            "SOURCE '${SyncLogGroup}' | filter message = 'sync run' " +
            '| fields @timestamp, trigger, outcome, dryRun, force, durationMs, mappings.0.endpoint, mappings.0.resolved.0, mappings.0.added.0, mappings.0.removed.0 ' +
            '| sort @timestamp desc | limit 20',
        },
      },
      {
        type: 'log',
        x: 0,
        y: 30,
        width: 24,
        height: 5,
        properties: {
          title: 'Latest accept runs',
          region: '${AWS::Region}',
          view: 'table',
          query: "SOURCE '${AcceptLogGroup}' | filter message = 'accept run' | fields @timestamp, @message | sort @timestamp desc | limit 10",
        },
      },
      ...(slotIds.length > 0 ? warmWidgets(slotIds, 41) : []),
    ],
  };
}

/**
 * Warm standby: each slot's health as the NLB sees it (AWS/NetworkELB HealthyHostCount, Maximum
 * over its nodes) and which slot carries the weight. ELB publishes no metric of listener weights,
 * so the weighted slot comes from the sync run line's `mappings[].warm` (lib/warm/run.ts).
 * ${WarmNlbFullName} and ${WarmSlot<N>FullName} are Fn::Sub variables (deriveDeployConfig).
 */
function warmWidgets(slotIds, y) {
  return [
    {
      type: 'metric',
      x: 0,
      y,
      width: 12,
      height: 6,
      properties: {
        title: 'Warm standby: healthy hosts per slot (NLB view)',
        region: '${AWS::Region}',
        view: 'timeSeries',
        stacked: false,
        period: 60,
        metrics: slotIds.map((id, i) => [
          'AWS/NetworkELB', 'HealthyHostCount', 'LoadBalancer', '${WarmNlbFullName}', 'TargetGroup', `\${WarmSlot${i + 1}FullName}`,
          { stat: 'Maximum', label: `slot ${i + 1} (${id})` },
        ]),
        yAxis: { left: { min: 0 } },
      },
    },
    {
      type: 'log',
      x: 12,
      y,
      width: 12,
      height: 6,
      properties: {
        title: 'Warm standby: weighted slot per sync run',
        region: '${AWS::Region}',
        view: 'table',
        query:
          "SOURCE '${SyncLogGroup}' | filter message = 'sync run' and ispresent(mappings.0.warm.reason) " +
          '| fields @timestamp, mappings.0.warm.weightedSlot, mappings.0.warm.weightedSlotBefore, mappings.0.warm.weightsChanged, mappings.0.warm.reason, mappings.0.warm.cold ' +
          '| sort @timestamp desc | limit 20',
      },
    },
  ];
}

module.exports.deriveDeployConfig = deriveDeployConfig;
module.exports.commandOf = commandOf;
module.exports.READ_ONLY_COMMANDS = READ_ONLY_COMMANDS;
module.exports.DeployParamsError = DeployParamsError;
module.exports.FUNCTION_KEYS = FUNCTION_KEYS;
