'use strict';
// Deploy-time half of the configuration: serverless.yml lists every deploy parameter with its
// default under `custom.params`; this file checks them together (a required parameter missing,
// two that exclude each other, a malformed ID) and derives what the template needs from them:
// the env values of lib/config.ts, the ARNs IAM is scoped to, timeouts and alarm windows.
// `${file(./deploy/params.cjs)}` calls it while `serverless package` resolves variables, so a
// bad parameter fails the package, naming every bad parameter at once - not the first cold start.
//
// Values arrive as strings from `--param name=value` and as YAML types from a `params:` block,
// so lists accept "a,b" or [a, b], booleans "true"/true, numbers "5"/5.

const FIVETRAN_ACCOUNT_ID = '834469178297';

const TARGET_GROUP_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;
const LOAD_BALANCER_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/net\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$/i;
const SERVICE_ID = /^vpce-svc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const ACCOUNT_ID = /^\d{12}$/;
const ROOT_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):root$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DB_IDENTIFIER = /^[a-z][a-z0-9-]{0,62}$/;
// CloudWatch Logs accepts only these retention periods (days).
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'];

// Headroom in the sync timeout for the ELB and CloudWatch calls of one run, SDK retries
// (standard mode, 4 attempts with backoff) included.
const API_BUDGET_SECONDS = 30;

// The params file (not shown in the stack trace) is the point of the error.
class DeployParamsError extends Error {
  constructor(problems) {
    super(`Invalid deploy parameters (--param name=value or params.<stage> in serverless.yml):\n  - ${problems.join('\n  - ')}`);
    this.name = 'DeployParamsError';
    this.stack = this.message;
  }
}

module.exports = async ({ resolveConfigurationProperty }) => {
  const raw = (await resolveConfigurationProperty(['custom', 'params'])) || {};
  return deriveDeployConfig(raw);
};

/** Pure: raw parameters -> derived values. Throws DeployParamsError listing every problem. */
function deriveDeployConfig(raw) {
  const problems = [];
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
  const check = (name, values, pattern, what) => {
    for (const value of values) if (!pattern.test(value)) problems.push(`${name}: "${value}" is not ${what}`);
    return values;
  };

  const createPrivateLink = bool('createPrivateLink');
  const createApiEndpoints = bool('createApiEndpoints');
  const subnetIds = check('subnetIds', list('subnetIds'), SUBNET_ID, 'a subnet ID (subnet-...)');
  const securityGroupIds = check('securityGroupIds', list('securityGroupIds'), SECURITY_GROUP_ID, 'a security group ID (sg-...)');
  const vpcId = str('vpcId');
  if (vpcId) check('vpcId', [vpcId], VPC_ID, 'a VPC ID (vpc-...)');
  const inVpc = subnetIds.length > 0;

  // Lambda VPC config needs both lists; the rest of the stack needs them together too.
  if (subnetIds.length > 0 && securityGroupIds.length === 0) problems.push('securityGroupIds: required when subnetIds is set (the functions run in the VPC)');
  if (securityGroupIds.length > 0 && subnetIds.length === 0) problems.push('subnetIds: required when securityGroupIds is set (the functions run in the VPC)');
  if (securityGroupIds.length > 5) problems.push('securityGroupIds: Lambda takes at most 5 security groups');
  if (subnetIds.length > 16) problems.push('subnetIds: Lambda takes at most 16 subnets');
  if (createApiEndpoints && !inVpc) problems.push('createApiEndpoints: needs subnetIds and securityGroupIds (the endpoints go into those subnets)');
  if (createApiEndpoints && !vpcId) problems.push('vpcId: required with createApiEndpoints');

  // --- sync: which endpoint feeds which target group -------------------------------------
  let mappings = [];
  const mappingsText = str('syncMappings');
  const shorthandGiven = ['rdsEndpoint', 'targetGroupArn'].filter((name) => str(name));
  if (Array.isArray(raw.syncMappings) || mappingsText) {
    if (shorthandGiven.length > 0) problems.push(`syncMappings: set either syncMappings or rdsEndpoint/targetGroupArn/targetPort, not both (${shorthandGiven.join(', ')} also given)`);
    if (createPrivateLink) problems.push('syncMappings: not with createPrivateLink (the created target group takes the rdsEndpoint/targetPort shorthand)');
    mappings = parseMappings(raw.syncMappings, problems);
  } else {
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
      const mapping = { endpoint: str('rdsEndpoint').toLowerCase().replace(/\.$/, ''), targetGroupArn: createPrivateLink ? undefined : str('targetGroupArn'), port: Number(str('targetPort')) };
      if (str('targetAvailabilityZone')) mapping.availabilityZone = str('targetAvailabilityZone');
      mappings = [validateMapping(mapping, 'rdsEndpoint/targetGroupArn/targetPort', problems, createPrivateLink)];
    }
  }
  const seen = new Set();
  for (const m of mappings) {
    const key = `${m.targetGroupArn} ${m.port}`;
    if (m.targetGroupArn && seen.has(key)) problems.push(`syncMappings: ${m.targetGroupArn} port ${m.port} is mapped twice; one endpoint per target group and port`);
    seen.add(key);
  }

  // --- accept: which endpoint services' connections are decided -------------------------------
  const endpointServiceIds = check('endpointServiceIds', list('endpointServiceIds'), SERVICE_ID, 'an endpoint service ID (vpce-svc-...)');
  const loadBalancerArns = check('loadBalancerArns', list('loadBalancerArns'), LOAD_BALANCER_ARN, 'a Network Load Balancer ARN');
  if (createPrivateLink) {
    if (endpointServiceIds.length > 0 || loadBalancerArns.length > 0) problems.push('endpointServiceIds/loadBalancerArns: not with createPrivateLink (the stack creates the endpoint service)');
    if (!inVpc) problems.push('subnetIds: required with createPrivateLink (the NLB goes into those subnets)');
    if (!vpcId) problems.push('vpcId: required with createPrivateLink (the target group lives in that VPC)');
  } else if (endpointServiceIds.length === 0 && loadBalancerArns.length === 0) {
    problems.push('endpointServiceIds: required (vpce-svc-..., comma-separated) - or loadBalancerArns to find the services from, or createPrivateLink=true');
  }
  const allowedAccounts = [];
  for (const principal of list('allowedPrincipals').length ? list('allowedPrincipals') : [FIVETRAN_ACCOUNT_ID]) {
    const account = ACCOUNT_ID.test(principal) ? principal : ROOT_ARN.exec(principal)?.[1];
    if (account) allowedAccounts.push(account);
    else problems.push(`allowedPrincipals: "${principal}" is not a 12-digit account ID or arn:aws:iam::<account>:root`);
  }

  // --- RDS events: the instances/clusters whose events trigger a re-resolve ------------------
  // An RDS endpoint's first DNS label is its instance or cluster identifier.
  const rdsSourceIds = list('rdsSourceIds').length
    ? check('rdsSourceIds', list('rdsSourceIds').map((id) => id.toLowerCase()), DB_IDENTIFIER, 'an RDS instance or cluster identifier')
    : [...new Set(mappings.map((m) => m.endpoint.split('.')[0]))];

  // --- timing ----------------------------------------------------------------------------------
  const failoverWatchSeconds = int('failoverWatchSeconds', 0, 840);
  const dnsTimeoutMs = int('dnsTimeoutMs', 100, 30000);
  const dnsTries = int('dnsTries', 1, 5);
  // An RDS event re-resolves for the watch window; the poll that starts last may take a whole
  // DNS budget, and so may the first resolution; then the ELB calls. c-ares doubles the
  // timeout on each try: 2000 ms x 2 tries = 2 + 4 = 6 s.
  const dnsBudgetSeconds = Math.ceil((dnsTimeoutMs * (2 ** dnsTries - 1)) / 1000);
  const syncTimeout = failoverWatchSeconds + 2 * dnsBudgetSeconds + API_BUDGET_SECONDS;
  if (syncTimeout > 900) problems.push(`failoverWatchSeconds/dnsTimeoutMs/dnsTries: the sync would need a ${syncTimeout} s timeout; Lambda allows 900`);
  // An event that waits behind a running failover watch (reserved concurrency 1) must outlive it.
  const syncMaximumEventAge = Math.min(21600, Math.max(300, 2 * syncTimeout + 60));

  const syncSchedule = scheduleList('syncSchedule', raw, problems);
  const acceptSchedule = scheduleList('acceptSchedule', raw, problems);
  // Alarm periods follow the schedule, so every period holds a run (or the heartbeat is missing).
  const syncPeriod = str('alarmPeriodSeconds') ? roundPeriod(int('alarmPeriodSeconds', 60, 86400)) : roundPeriod(Math.max(60, scheduleSeconds(syncSchedule) ?? 300));
  const acceptPeriod = roundPeriod(Math.max(300, scheduleSeconds(acceptSchedule) ?? 300));
  // A failover watch holds the single sync slot; ticks that wait behind it land late, so the
  // heartbeat allows the watch plus two periods before it calls a missing run missing.
  const heartbeatPeriods = Math.max(3, Math.ceil(syncTimeout / syncPeriod) + 2);
  const pendingAlarmMinutes = int('pendingAlarmMinutes', 5, 1440);
  const pendingPeriods = Math.max(1, Math.ceil((pendingAlarmMinutes * 60) / acceptPeriod));

  const logRetentionDays = Number(str('logRetentionDays'));
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) problems.push(`logRetentionDays: must be one of ${LOG_RETENTION_DAYS.join(', ')}, got "${str('logRetentionDays')}"`);
  const logLevel = str('logLevel').toUpperCase() || 'INFO';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`logLevel: must be one of ${LOG_LEVELS.join(', ')}`);
  const alarmEmail = str('alarmEmail');
  if (alarmEmail && !EMAIL.test(alarmEmail)) problems.push(`alarmEmail: "${alarmEmail}" is not an e-mail address`);
  const metricsNamespace = str('metricsNamespace') || 'RdsNlbSync';
  if (!/^[^:][\x20-\x7e]{0,254}$/.test(metricsNamespace) || metricsNamespace.startsWith('AWS/')) problems.push('metricsNamespace: printable ASCII, not starting with ":" or "AWS/"');
  const dryRun = bool('dryRun');
  const rejectUnlisted = bool('rejectUnlisted');

  if (problems.length > 0) throw new DeployParamsError(problems);

  const ifPrivateLink = (value) => ({ 'Fn::If': ['CreatePrivateLink', value, { Ref: 'AWS::NoValue' }] });
  const serviceArn = (id) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:vpc-endpoint-service/${id}` });
  const privateLinkMapping = createPrivateLink
    ? { 'Fn::Sub': JSON.stringify([{ ...mappings[0], targetGroupArn: '${TargetGroup}' }]) }
    : undefined;

  return {
    // CloudFormation parameter defaults (Conditions switch the optional parts on them).
    subnetIds: subnetIds.join(','),
    securityGroupIds: securityGroupIds.join(','),
    vpcId,
    privateLink: String(createPrivateLink),
    apiEndpoints: String(createApiEndpoints),
    alarmEmail,

    // sync
    syncMappings: createPrivateLink ? ifPrivateLink(privateLinkMapping) : JSON.stringify(mappings),
    // RegisterTargets/DeregisterTargets are allowed on these target groups only.
    targetGroupArns: createPrivateLink ? [ifPrivateLink({ Ref: 'TargetGroup' })] : [...new Set(mappings.map((m) => m.targetGroupArn))],
    targetPort: mappings[0].port,
    rdsEventResources: rdsSourceIds.flatMap((id) => [
      { 'Fn::Sub': `arn:\${AWS::Partition}:rds:\${AWS::Region}:\${AWS::AccountId}:db:${id}` },
      { 'Fn::Sub': `arn:\${AWS::Partition}:rds:\${AWS::Region}:\${AWS::AccountId}:cluster:${id}` },
    ]),
    syncSchedule,
    syncTimeout,
    syncMaximumEventAge,
    // Lambda environment values are strings.
    failoverWatchSeconds: String(failoverWatchSeconds),
    dnsTimeoutMs: String(dnsTimeoutMs),
    dnsTries: String(dnsTries),
    dnsServers: list('dnsServers').join(','),

    // accept
    endpointServiceIds: createPrivateLink ? ifPrivateLink({ Ref: 'EndpointService' }) : endpointServiceIds.join(','),
    loadBalancerArns: loadBalancerArns.join(','),
    allowedPrincipals: allowedAccounts.join(','),
    allowedPrincipalArns: allowedAccounts.map((account) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:iam::${account}:root` })),
    // Accept (Reject only with rejectUnlisted) on these services; the call also names the
    // consumer's endpoint, in Fivetran's account. Services found from loadBalancerArns are
    // unknown until run time, so that mode gets every endpoint service of this account/region.
    acceptActions: ['ec2:AcceptVpcEndpointConnections', ...(rejectUnlisted ? ['ec2:RejectVpcEndpointConnections'] : [])],
    acceptResources: [
      ...(createPrivateLink
        ? [ifPrivateLink(serviceArn('${EndpointService}'))]
        : endpointServiceIds.length > 0
          ? endpointServiceIds.map(serviceArn)
          : [serviceArn('*')]),
      { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:*:vpc-endpoint/*' },
    ],
    acceptSchedule,
    // One AWS::EC2::VPCEndpointConnectionNotification per given service, to the accept topic.
    connectionNotifications: Object.fromEntries(
      endpointServiceIds.map((id) => [
        `ConnectionNotification${id.replace(/[^A-Za-z0-9]/g, '')}`,
        {
          Type: 'AWS::EC2::VPCEndpointConnectionNotification',
          DependsOn: 'ConnectionNotificationTopicPolicy',
          Properties: { ServiceId: id, ConnectionEvents: ['Connect'], ConnectionNotificationArn: { Ref: 'ConnectionNotificationTopic' } },
        },
      ]),
    ),

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
    pendingPeriods,

    logRetentionDays,
    logLevel,
    metricsNamespace,
    dryRun: String(dryRun),
    rejectUnlisted: String(rejectUnlisted),
    inVpc,
    createPrivateLink,

    dashboardBody: { 'Fn::Sub': JSON.stringify(dashboard(metricsNamespace, syncPeriod, acceptPeriod)) },
  };
}

function parseMappings(value, problems) {
  let parsed = value;
  if (!Array.isArray(value)) {
    try {
      parsed = JSON.parse(String(value));
    } catch {
      problems.push('syncMappings: must be a JSON list of {"endpoint","targetGroupArn","port"} objects');
      return [];
    }
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    problems.push('syncMappings: must list at least one {"endpoint","targetGroupArn","port"} mapping');
    return [];
  }
  return parsed.map((m, i) => validateMapping(m, `syncMappings[${i}]`, problems, false));
}

function validateMapping(m, where, problems, targetGroupCreated) {
  if (typeof m !== 'object' || m === null) {
    problems.push(`${where}: must be an object {"endpoint","targetGroupArn","port"}`);
    return { endpoint: '', port: 0 };
  }
  const known = ['endpoint', 'targetGroupArn', 'port', 'availabilityZone', 'ipAddressType'];
  for (const key of Object.keys(m)) if (!known.includes(key)) problems.push(`${where}: unknown key "${key}" (known: ${known.join(', ')})`);
  const endpoint = String(m.endpoint ?? '').toLowerCase().replace(/\.$/, '');
  if (!HOSTNAME.test(endpoint)) problems.push(`${where}: endpoint "${m.endpoint ?? ''}" is not a DNS name such as mydb.abc123.eu-west-1.rds.amazonaws.com`);
  if (!targetGroupCreated && !TARGET_GROUP_ARN.test(String(m.targetGroupArn ?? ''))) problems.push(`${where}: targetGroupArn "${m.targetGroupArn ?? ''}" is not a target group ARN`);
  const port = Number(m.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push(`${where}: port "${m.port ?? ''}" is not a TCP port (1-65535)`);
  if (m.availabilityZone !== undefined && !/^(all|[a-z]{2}(-[a-z]+)+-\d[a-z])$/.test(String(m.availabilityZone))) problems.push(`${where}: availabilityZone must be "all" or an Availability Zone name`);
  const mapping = { endpoint, port };
  if (m.targetGroupArn !== undefined) mapping.targetGroupArn = String(m.targetGroupArn);
  if (m.availabilityZone !== undefined) mapping.availabilityZone = String(m.availabilityZone);
  if (m.ipAddressType !== undefined) mapping.ipAddressType = m.ipAddressType;
  return mapping;
}

/** One or more EventBridge schedule expressions ("rate(1 minute)", "cron(...)"). */
function scheduleList(name, raw, problems) {
  const value = raw[name];
  const expressions = (Array.isArray(value) ? value : [value]).map((v) => String(v ?? '').trim()).filter(Boolean);
  if (expressions.length === 0) problems.push(`${name}: required, e.g. rate(1 minute)`);
  for (const expression of expressions) {
    if (!/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/.test(expression)) problems.push(`${name}: "${expression}" is not rate(...) or cron(...)`);
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
function dashboard(namespace, period, acceptPeriod) {
  const ns = JSON.stringify(namespace);
  const search = (metric, stat, id, label) => [
    { expression: `SEARCH('{${ns},TargetGroup,Endpoint} MetricName="${metric}"', '${stat}', ${period})`, id, label },
  ];
  const mappingLabel = (what) => `${what} \${!PROP('Dim.TargetGroup')} (\${!PROP('Dim.Endpoint')})`;
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
            'SyncErrorsAlarm', 'DnsFailuresAlarm', 'SyncHeartbeatAlarm', 'NoHealthyTargetsAlarm', 'PendingConnectionsAlarm',
            'SyncFunctionErrorsAlarm', 'SyncThrottlesAlarm', 'AcceptFunctionErrorsAlarm', 'AcceptThrottlesAlarm',
          ].map((alarm) => `\${${alarm}.Arn}`),
        },
      },
      graph(0, 5, 12, 7, 'Resolved vs registered vs healthy, per target group', [
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
      ], { yAxis: { left: { min: 0 } } }),
      graph(8, 12, 8, 6, 'Sync duration (ms)', [
        run('SyncDuration', 'Average', { label: 'average' }),
        run('SyncDuration', 'Maximum', { label: 'maximum' }),
      ], { yAxis: { left: { min: 0 } } }),
      graph(16, 12, 8, 6, 'Endpoint connections', [
        run('PendingConnections', 'Maximum', { label: 'pending (after the run)', color: '#ff7f0e' }),
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
    ],
  };
}

module.exports.deriveDeployConfig = deriveDeployConfig;
module.exports.DeployParamsError = DeployParamsError;
