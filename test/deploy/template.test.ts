// Deployment layer: `serverless package` offline for both example stages of serverless.yml, then
// assertions on the compiled CloudFormation template (what CloudFormation will really get),
// cfn-lint on it, and a look inside the deployment zips.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAcceptConfig, loadSyncConfig } from '../../lib/config.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const outDir = path.join(root, '.serverless-test');
const serverlessBin = path.join(root, 'node_modules', 'osls', 'bin', 'serverless.js');

// Offline and credential-free: dummy keys keep the SDK's credential chain from looking further.
const packageEnv: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'dummy',
  AWS_SECRET_ACCESS_KEY: 'dummy',
  AWS_PROFILE: undefined,
  SLS_TELEMETRY_DISABLED: '1',
};

const stages = { basic: 'example', privatelink: 'example-privatelink' } as const;
type Config = keyof typeof stages;

// --- the template, typed just enough ------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Resource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Properties: Record<string, Json>;
}
interface Template {
  Parameters: Record<string, { Type: string; Default?: string }>;
  Conditions: Record<string, Json>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Condition?: string; Value: Json }>;
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Condition?: Record<string, Record<string, Json>>;
  Principal?: Json;
}

const templates = {} as Record<Config, Template>;

async function packageStage(config: Config): Promise<void> {
  const dir = path.join(outDir, config);
  rmSync(dir, { recursive: true, force: true });
  await exec(process.execPath, [serverlessBin, 'package', '--stage', stages[config], '--package', dir], { cwd: root, env: packageEnv, timeout: 60_000 });
  templates[config] = JSON.parse(readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
}

beforeAll(async () => {
  // One after the other: both builds share serverless-esbuild's .esbuild work folder.
  await packageStage('basic');
  await packageStage('privatelink');
  for (const config of Object.keys(stages) as Config[]) {
    const sizes = ['sync', 'accept'].map((fn) => `${fn}.zip ${(statSync(path.join(outDir, config, `${fn}.zip`)).size / 1024).toFixed(0)} KiB`);
    console.log(`deployment packages (${config}): ${sizes.join(', ')}`);
  }
}, 120_000);

const resource = (t: Template, id: string): Resource => {
  const r = t.Resources[id];
  if (!r) throw new Error(`no resource ${id} in the template`);
  return r;
};
const ofType = (t: Template, type: string): [string, Resource][] => Object.entries(t.Resources).filter(([, r]) => r.Type === type);
interface Policy {
  PolicyName: string;
  PolicyDocument: { Statement: Statement[] };
}
/** A role's inline policies; a conditional one (Fn::If [condition, policy, NoValue]) with its condition. */
const policiesOf = (t: Template, roleId: string): (Policy & { condition?: string })[] =>
  (resource(t, roleId).Properties.Policies as unknown as (Policy | { 'Fn::If': [string, Policy, Json] })[]).map((p) =>
    'Fn::If' in p ? { ...p['Fn::If'][1], condition: p['Fn::If'][0] } : p,
  );
const statementsOf = (t: Template, roleId: string): Statement[] => policiesOf(t, roleId).flatMap((p) => p.PolicyDocument.Statement);
// What Lambda needs to attach a function to a VPC (in place of AWSLambdaVPCAccessExecutionRole).
const NETWORK_INTERFACE_ACTIONS = [
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:UnassignPrivateIpAddresses',
];
const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement): Json[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
const statementFor = (t: Template, roleId: string, action: string): Statement => {
  const found = statementsOf(t, roleId).filter((s) => actionsOf(s).includes(action));
  expect(found, `${roleId}: one statement allowing ${action}`).toHaveLength(1);
  return found[0] as Statement;
};
const env = (t: Template, fn: string): Record<string, Json> => (resource(t, fn).Properties.Environment as { Variables: Record<string, Json> }).Variables;
const str = (value: Json | undefined): string => {
  if (typeof value !== 'string') throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
};

/** The files of a zip archive (stored or deflated), read via its central directory. */
function unzip(file: string): Map<string, Buffer> {
  const zip = readFileSync(file);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error(`${file} is not a zip archive`);
  const files = new Map<string, Buffer>();
  let entry = zip.readUInt32LE(eocd + 16);
  for (let i = zip.readUInt16LE(eocd + 10); i > 0; i--) {
    const method = zip.readUInt16LE(entry + 10);
    const size = zip.readUInt32LE(entry + 20);
    const nameLength = zip.readUInt16LE(entry + 28);
    const local = zip.readUInt32LE(entry + 42);
    const name = zip.toString('utf8', entry + 46, entry + 46 + nameLength);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    files.set(name, method === 8 ? inflateRawSync(data) : data);
    entry += 46 + nameLength + zip.readUInt16LE(entry + 30) + zip.readUInt16LE(entry + 32);
  }
  return files;
}

/** Resolves the few intrinsics the functions' environment uses, as CloudFormation would. */
function resolveValue(value: Json, refs: Record<string, string>, conditions: Record<string, boolean>): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`unexpected ${JSON.stringify(value)}`);
  if ('Ref' in value) return value.Ref === 'AWS::NoValue' ? undefined : refs[str(value.Ref)];
  if ('Fn::Sub' in value) return str(value['Fn::Sub']).replace(/\$\{([^}]+)\}/g, (_, name: string) => refs[name] ?? `<${name}>`);
  if ('Fn::If' in value) {
    const [condition, whenTrue, whenFalse] = value['Fn::If'] as [string, Json, Json];
    return resolveValue(conditions[condition] ? whenTrue : whenFalse, refs, conditions);
  }
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

/** A function's environment as deployed with the stage's own parameters. */
function deployedEnv(t: Template, fn: string, config: Config): Record<string, string> {
  const refs = {
    TargetGroup: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/rds-nlb-sync/0123456789abcdef',
    EndpointService: 'vpce-svc-0fedcba9876543210',
  };
  const conditions = { CreatePrivateLink: config === 'privatelink' };
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env(t, fn))) {
    const resolved = resolveValue(value, refs, conditions);
    if (resolved !== undefined) out[name] = resolved;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

describe.each(Object.keys(stages) as Config[])('compiled template (%s)', (config) => {
  const t = () => templates[config];

  it('runs both functions on Node.js 24 or newer (nodejs22.x ends with Node 22, April 2027), arm64, small memory, one at a time', () => {
    for (const fn of ['SyncLambdaFunction', 'AcceptLambdaFunction']) {
      const props = resource(t(), fn).Properties;
      const runtime = /^nodejs(\d+)\.x$/.exec(str(props.Runtime));
      expect(Number(runtime?.[1]), `${fn} runtime`).toBeGreaterThanOrEqual(24);
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.MemorySize).toBeLessThanOrEqual(512);
      expect(props.ReservedConcurrentExecutions, `${fn} reserved concurrency`).toBe(1);
    }
    expect(resource(t(), 'SyncLambdaFunction').Properties.Handler).toBe('functions/sync.handler');
    expect(resource(t(), 'AcceptLambdaFunction').Properties.Handler).toBe('functions/accept.handler');
  });

  it('names each function <service>-<stage>-<key> for the keys deploy/params.cjs checks against 64 characters', () => {
    const names = Object.values(t().Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => r.Properties.FunctionName);
    expect(names.sort()).toEqual(FUNCTION_KEYS.map((key) => `rds-nlb-sync-${stages[config]}-${key}`).sort());
  });

  it('gives the sync a timeout longer than the failover watch and follow plus DNS and API time', () => {
    const vars = env(t(), 'SyncLambdaFunction');
    const watch = Number(vars.FAILOVER_WATCH_SECONDS);
    // A failover seen at the end of the watch is followed until healthy, up to 10 minutes.
    const follow = Number(vars.FAILOVER_FOLLOW_SECONDS);
    expect(follow).toBe(600);
    // c-ares doubles the timeout on every try.
    const dnsBudget = (Number(vars.DNS_TIMEOUT_MS) * (2 ** Number(vars.DNS_TRIES) - 1)) / 1000;
    // A Multi-AZ failover takes 60-120 s and DNS may lag minutes behind: watch 3 minutes.
    expect(watch).toBe(180);
    // Twice the DNS budget (first resolution and the last poll) and 30 s for the ELB calls.
    expect(resource(t(), 'SyncLambdaFunction').Properties.Timeout).toBeGreaterThanOrEqual(watch + follow + 2 * dnsBudget + 30);
    expect(resource(t(), 'SyncLambdaFunction').Properties.Timeout).toBeLessThanOrEqual(900);
  });

  it('sets only environment variables that lib/config.ts reads', () => {
    const configSource = readFileSync(path.join(root, 'lib', 'config.ts'), 'utf8');
    for (const fn of ['SyncLambdaFunction', 'AcceptLambdaFunction']) {
      for (const name of Object.keys(env(t(), fn))) {
        if (name.startsWith('POWERTOOLS_')) continue; // read by Powertools' logger
        expect(configSource, `${fn} sets ${name}`).toContain(`${name}:`);
      }
    }
    expect(Object.keys(env(t(), 'SyncLambdaFunction'))).toContain('SYNC_MAPPINGS');
    expect(Object.keys(env(t(), 'AcceptLambdaFunction'))).toEqual(expect.arrayContaining(['ENDPOINT_SERVICE_IDS', 'ALLOWED_PRINCIPALS']));
    expect(env(t(), 'AcceptLambdaFunction').ALLOWED_PRINCIPALS).toBe('834469178297');
  });

  it('sets an environment that lib/config.ts accepts at cold start', () => {
    const sync = loadSyncConfig(deployedEnv(t(), 'SyncLambdaFunction', config));
    expect(sync.mappings).toHaveLength(1);
    expect(sync.mappings[0]?.port).toBe(5432);
    expect(sync.failoverWatchMs).toBe(180_000);
    const accept = loadAcceptConfig(deployedEnv(t(), 'AcceptLambdaFunction', config));
    expect(accept.serviceIds).toEqual([config === 'basic' ? 'vpce-svc-0123456789abcdef0' : 'vpce-svc-0fedcba9876543210']);
    expect(accept.allowedAccounts).toEqual(['834469178297']);
  });

  it('keeps logs for a set retention, in one log group per function', () => {
    const groups = ofType(t(), 'AWS::Logs::LogGroup');
    expect(groups.map(([id]) => id).sort()).toEqual(['AcceptLogGroup', 'SyncLogGroup']);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(30);
  });

  it('runs sync in the VPC exactly when subnets and security groups are given, accept only when asked', () => {
    expect(t().Conditions.InVpc).toBeDefined();
    for (const [fn, condition] of [['SyncLambdaFunction', 'InVpc'], ['AcceptLambdaFunction', 'AcceptInVpc']] as const) {
      const vpc = resource(t(), fn).Properties.VpcConfig as { 'Fn::If': [string, { SubnetIds: Json; SecurityGroupIds: Json }, Json] };
      expect(vpc['Fn::If'][0], fn).toBe(condition);
      expect(vpc['Fn::If'][1].SubnetIds).toEqual({ 'Fn::Split': [',', { Ref: 'SubnetIds' }] });
      expect(vpc['Fn::If'][2]).toEqual({ Ref: 'AWS::NoValue' });
    }
    expect(t().Conditions.AcceptInVpc).toEqual({ 'Fn::And': [{ 'Fn::Equals': [{ Ref: 'AcceptInVpc' }, 'true'] }, { Condition: 'InVpc' }] });
    expect(t().Parameters.AcceptInVpc?.Default).toBe('false');
    const subnets = t().Parameters.SubnetIds?.Default;
    if (config === 'basic') expect(subnets).toBe('');
    else expect(subnets).toMatch(/^subnet-[0-9a-f]+(,subnet-[0-9a-f]+)*$/);
  });

  it('gives each function its own role and no shared default role', () => {
    expect(resource(t(), 'SyncLambdaFunction').Properties.Role).toEqual({ 'Fn::GetAtt': ['SyncRole', 'Arn'] });
    expect(resource(t(), 'AcceptLambdaFunction').Properties.Role).toEqual({ 'Fn::GetAtt': ['AcceptRole', 'Arn'] });
    expect(t().Resources.IamRoleLambdaExecution).toBeUndefined();
    for (const [role, condition] of [['SyncRole', 'InVpc'], ['AcceptRole', 'AcceptInVpc']] as const) {
      // No managed policy: AWSLambdaVPCAccessExecutionRole would grant logs:* on every log group.
      expect(resource(t(), role).Properties.ManagedPolicyArns, role).toBeUndefined();
      // The network interface actions only, and only when the function joins the VPC.
      const eni = policiesOf(t(), role).filter((p) => p.PolicyDocument.Statement.some((s) => actionsOf(s).includes('ec2:CreateNetworkInterface')));
      expect(eni.map((p) => p.condition), role).toEqual([condition]);
      expect(eni[0]?.PolicyDocument.Statement.flatMap(actionsOf).sort()).toEqual(NETWORK_INTERFACE_ACTIONS);
    }
  });

  it('allows no mutating action on "*" and no wildcard actions', () => {
    const readOnly = /^[a-z0-9-]+:(Describe|Get|List)[A-Za-z]+$/;
    for (const role of ['SyncRole', 'AcceptRole']) {
      for (const s of statementsOf(t(), role)) {
        expect(s.Effect).toBe('Allow');
        for (const action of actionsOf(s)) {
          expect(action, `${role} ${s.Sid}`).not.toContain('*');
          if (resourcesOf(s).includes('*') && !readOnly.test(action) && !NETWORK_INTERFACE_ACTIONS.includes(action)) {
            // The one exception (besides Lambda's ENI actions, which take no resource scope):
            // metrics, pinned to our namespace by condition.
            expect(action).toBe('cloudwatch:PutMetricData');
            expect(s.Condition?.StringEquals?.['cloudwatch:namespace']).toBe('RdsNlbSync');
          }
        }
      }
    }
  });

  it('lets each role write only its own log group', () => {
    for (const [role, group] of [['SyncRole', 'SyncLogGroup'], ['AcceptRole', 'AcceptLogGroup']]) {
      const s = statementFor(t(), role as string, 'logs:PutLogEvents');
      expect(actionsOf(s).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      expect(s.Resource).toEqual({ 'Fn::GetAtt': [group, 'Arn'] });
    }
  });

  it('lets sync register/deregister targets only in the configured target groups', () => {
    const manage = statementFor(t(), 'SyncRole', 'elasticloadbalancing:RegisterTargets');
    expect(actionsOf(manage).sort()).toEqual(['elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:RegisterTargets']);
    if (config === 'basic') {
      expect(manage.Resource).toEqual(['arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/fivetran-mydb/0123456789abcdef']);
    } else {
      expect(manage.Resource).toEqual([{ 'Fn::If': ['CreatePrivateLink', { Ref: 'TargetGroup' }, { Ref: 'AWS::NoValue' }] }]);
    }
    expect(statementFor(t(), 'SyncRole', 'elasticloadbalancing:DescribeTargetHealth').Resource).toBe('*');
    expect(statementFor(t(), 'SyncRole', 'cloudwatch:PutMetricData').Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'RdsNlbSync' } });
    // Separation of duties: the sync role cannot touch endpoint connections.
    expect(statementsOf(t(), 'SyncRole').flatMap(actionsOf).filter((a) => a.startsWith('ec2:') && !NETWORK_INTERFACE_ACTIONS.includes(a))).toEqual([]);
    // The cluster of an evented instance (the RDS rule is account-wide): every instance, read only.
    expect(statementFor(t(), 'SyncRole', 'rds:DescribeDBInstances').Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:*' });
    // Both examples map a writer/instance endpoint: DNS only, no cluster member reads.
    expect(statementsOf(t(), 'SyncRole').flatMap(actionsOf).filter((a) => a.startsWith('rds:'))).toEqual(['rds:DescribeDBInstances', 'rds:DescribeBlueGreenDeployments']);
  });

  it('lets accept decide connections only for the configured endpoint services', () => {
    const decide = statementFor(t(), 'AcceptRole', 'ec2:AcceptVpcEndpointConnections');
    // REJECT_UNLISTED is off in both examples, so no Reject permission either.
    expect(actionsOf(decide)).toEqual(['ec2:AcceptVpcEndpointConnections']);
    const consumerEndpoint = { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:*:vpc-endpoint/*' };
    const service =
      config === 'basic'
        ? { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-endpoint-service/vpce-svc-0123456789abcdef0' }
        : {
            'Fn::If': [
              'CreatePrivateLink',
              { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-endpoint-service/${EndpointService}' },
              { Ref: 'AWS::NoValue' },
            ],
          };
    expect(decide.Resource).toEqual([service, consumerEndpoint]);
    const read = statementFor(t(), 'AcceptRole', 'ec2:DescribeVpcEndpointConnections');
    expect(actionsOf(read).sort()).toEqual(['ec2:DescribeVpcEndpointConnections', 'ec2:DescribeVpcEndpointServiceConfigurations']);
    expect(read.Resource).toBe('*');
    expect(statementsOf(t(), 'AcceptRole').flatMap(actionsOf).filter((a) => a.startsWith('elasticloadbalancing:'))).toEqual([]);
  });

  it('lets only PrivateLink publish connection notices, and feeds them to accept', () => {
    const policy = resource(t(), 'ConnectionNotificationTopicPolicy').Properties;
    expect(policy.Topics).toEqual([{ Ref: 'ConnectionNotificationTopic' }]);
    const statements = (policy.PolicyDocument as unknown as { Statement: Statement[] }).Statement;
    expect(statements).toHaveLength(1);
    const [s] = statements as [Statement];
    expect(s).toMatchObject({ Effect: 'Allow', Principal: { Service: 'vpce.amazonaws.com' }, Action: 'sns:Publish', Resource: { Ref: 'ConnectionNotificationTopic' } });
    expect(s.Condition?.StringEquals?.['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });

    const subscriptions = ofType(t(), 'AWS::SNS::Subscription').filter(([, r]) => r.Properties.Protocol === 'lambda');
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]?.[1].Properties).toMatchObject({
      TopicArn: { Ref: 'ConnectionNotificationTopic' },
      Endpoint: { 'Fn::GetAtt': ['AcceptLambdaFunction', 'Arn'] },
    });

    const notifications = ofType(t(), 'AWS::EC2::VPCEndpointConnectionNotification');
    for (const [id, notification] of notifications) {
      expect(notification.Properties.ConnectionEvents, id).toEqual(['Connect']);
      expect(notification.Properties.ConnectionNotificationArn, id).toEqual({ Ref: 'ConnectionNotificationTopic' });
    }
    // basic: one for the given service; privatelink: one for the created service.
    const services = notifications.map(([, n]) => ({ condition: n.Condition, service: n.Properties.ServiceId }));
    const created = { condition: 'CreatePrivateLink', service: { Ref: 'EndpointService' } };
    expect(services).toEqual(config === 'basic' ? [created, { condition: undefined, service: 'vpce-svc-0123456789abcdef0' }] : [created]);
  });

  it('triggers sync every minute and on failover/reboot/maintenance/switchover events of any database of the account', () => {
    const rules = ofType(t(), 'AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets).includes('SyncLambdaFunction'));
    expect(rules.map(([, r]) => r.Properties.ScheduleExpression).filter(Boolean)).toEqual(['rate(1 minute)']);
    const rds = rules.map(([, r]) => r.Properties.EventPattern as Record<string, Json> | undefined).find((p) => p?.source);
    expect(rds?.source).toEqual(['aws.rds']);
    expect(rds?.['detail-type']).toEqual(['RDS DB Instance Event', 'RDS DB Cluster Event', 'RDS Blue Green Deployment Event']);
    const ids = (rds?.detail as { EventID: string[] }).EventID;
    // Multi-AZ instance failover, Aurora cluster failover, reboot, maintenance, host replacement;
    // cluster start and patching; blue/green switchover of deployments, instances and clusters.
    expect(ids).toEqual(
      expect.arrayContaining(['RDS-EVENT-0049', 'RDS-EVENT-0071', 'RDS-EVENT-0073', 'RDS-EVENT-0006', 'RDS-EVENT-0026', 'RDS-EVENT-0020', 'RDS-EVENT-0151', 'RDS-EVENT-0153', 'RDS-EVENT-0173']),
    );
    expect(ids).toEqual(expect.arrayContaining(['RDS-EVENT-0247', 'RDS-EVENT-0248', 'RDS-EVENT-0250', 'RDS-EVENT-0251', 'RDS-EVENT-0259', 'RDS-EVENT-0260']));
    // A cancelled (rolled back) switchover, Aurora global failover/switchover, members created or deleted.
    expect(ids).toEqual(expect.arrayContaining(['RDS-EVENT-0249', 'RDS-EVENT-0252', 'RDS-EVENT-0261', 'RDS-EVENT-0185', 'RDS-EVENT-0238', 'RDS-EVENT-0397', 'RDS-EVENT-0005', 'RDS-EVENT-0003']));
    expect(new Set(ids).size).toBe(ids.length);
    // Account-wide: an Aurora instance need not be named after its cluster; the function picks.
    expect(rds?.resources).toBeUndefined();
    const acceptRules = ofType(t(), 'AWS::Events::Rule').filter(([, r]) => JSON.stringify(r.Properties.Targets).includes('AcceptLambdaFunction'));
    expect(acceptRules.map(([, r]) => r.Properties.ScheduleExpression)).toEqual(['rate(1 minute)']);
  });

  it('does not retry a failed sync run, and lets an event wait out a running failover watch', () => {
    const byFunction = Object.fromEntries(ofType(t(), 'AWS::Lambda::EventInvokeConfig').map(([, r]) => [JSON.stringify(r.Properties.FunctionName), r.Properties]));
    const sync = byFunction[JSON.stringify({ Ref: 'SyncLambdaFunction' })];
    const accept = byFunction[JSON.stringify({ Ref: 'AcceptLambdaFunction' })];
    expect(sync?.MaximumRetryAttempts).toBe(0);
    expect(sync?.MaximumEventAgeInSeconds).toBeGreaterThanOrEqual(2 * Number(resource(t(), 'SyncLambdaFunction').Properties.Timeout));
    expect(accept?.MaximumRetryAttempts).toBe(1);
  });

  it('alarms on sync errors, DNS failures, a missing heartbeat, no healthy targets, pending connections, Lambda errors and throttles', () => {
    const alarms = ofType(t(), 'AWS::CloudWatch::Alarm').map(([id, r]): Record<string, Json> => ({ ...r.Properties, id }));
    const find = (namespace: string, metric: string, fn?: string) =>
      alarms.filter((a) => a.Namespace === namespace && a.MetricName === metric && (fn === undefined || JSON.stringify(a.Dimensions).includes(fn)));
    for (const metric of ['SyncErrors', 'DnsFailures', 'SyncSuccess', 'HealthyTargets', 'PendingConnections', 'PendingAllowlisted', 'AcceptSuccess', 'ProbeSuccess', 'FailoversNotHealthy']) {
      expect(find('RdsNlbSync', metric), metric).toHaveLength(1);
    }
    for (const fn of ['SyncLambdaFunction', 'AcceptLambdaFunction']) {
      for (const metric of ['Errors', 'Throttles']) expect(find('AWS/Lambda', metric, fn), `${fn} ${metric}`).toHaveLength(1);
    }
    expect(find('RdsNlbSync', 'SyncSuccess')[0]).toMatchObject({ TreatMissingData: 'breaching', ComparisonOperator: 'LessThanThreshold', Threshold: 1 });
    expect(find('RdsNlbSync', 'HealthyTargets')[0]).toMatchObject({ Statistic: 'Minimum', ComparisonOperator: 'LessThanThreshold', Threshold: 1 });
    // One failover not healthy within the follow bound is enough; no failover is no data, not an alarm.
    expect(find('RdsNlbSync', 'FailoversNotHealthy')[0]).toMatchObject({
      id: 'FailoverNotHealthyAlarm',
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
    });
    // "Pending longer than the acceptance window": pending at every check for 30 minutes.
    const pending = find('RdsNlbSync', 'PendingConnections')[0];
    expect(pending).toMatchObject({ Statistic: 'Minimum', ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1 });
    expect(Number(pending?.Period) * Number(pending?.EvaluationPeriods)).toBe(30 * 60);
    expect(pending?.DatapointsToAlarm).toBe(pending?.EvaluationPeriods);
    // Fivetran's (allowlisted) connection pending: the same window as any connection's.
    const allowlisted = find('RdsNlbSync', 'PendingAllowlisted')[0];
    expect(allowlisted).toMatchObject({ Statistic: 'Minimum', ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1, Period: pending?.Period, EvaluationPeriods: pending?.EvaluationPeriods });
    // accept's heartbeat counts clean runs, not invocations (a failing run is invoked too);
    // no data at all is an alarm; 3 one-minute periods with the default schedule.
    expect(find('AWS/Lambda', 'Invocations', 'AcceptLambdaFunction')).toHaveLength(0);
    expect(find('RdsNlbSync', 'AcceptSuccess')[0]).toMatchObject({ Statistic: 'Sum', TreatMissingData: 'breaching', ComparisonOperator: 'LessThanThreshold', Threshold: 1, Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    // The link-down alarms outlast a routine failover: the follow bound (600 s) plus one period, so
    // a failover ELB completes within the bound never pages; failover-not-healthy pages a slower one.
    const outage = { Period: 60, EvaluationPeriods: 11, DatapointsToAlarm: 11 };
    // The probe: every probe failed for that window; no probe (outside the VPC, opted out) is no alarm.
    expect(find('RdsNlbSync', 'ProbeSuccess')[0]).toMatchObject({ Statistic: 'Maximum', TreatMissingData: 'notBreaching', ComparisonOperator: 'LessThanThreshold', Threshold: 1, ...outage });
    expect(find('RdsNlbSync', 'HealthyTargets')[0]).toMatchObject(outage);
    expect(resource(t(), 'NlbHealthyHostsAlarm').Properties).toMatchObject(outage);
    // The NLB's own count, with createPrivateLink only.
    const nlb = resource(t(), 'NlbHealthyHostsAlarm');
    expect(nlb.Condition).toBe('CreatePrivateLink');
    expect(nlb.Properties).toMatchObject({
      Namespace: 'AWS/NetworkELB',
      MetricName: 'HealthyHostCount',
      // Each NLB node reports its own view: AWS recommends the Maximum for NLBs.
      Statistic: 'Maximum',
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      Dimensions: [
        { Name: 'LoadBalancer', Value: { 'Fn::GetAtt': ['LoadBalancer', 'LoadBalancerFullName'] } },
        { Name: 'TargetGroup', Value: { 'Fn::GetAtt': ['TargetGroup', 'TargetGroupFullName'] } },
      ],
    });
    for (const alarm of alarms) {
      // Dashboard only: one outage must not send one message per alarm.
      expect(alarm.AlarmActions, str(alarm.id)).toBeUndefined();
      expect(alarm.OKActions, str(alarm.id)).toBeUndefined();
      expect(str(alarm.AlarmDescription), str(alarm.id)).toMatch(/Runbook - README, Operate/);
    }
  });

  it('pages once: the "Fivetran link at risk" composite is the only alarm that notifies', () => {
    const composites = ofType(t(), 'AWS::CloudWatch::CompositeAlarm');
    expect(composites.map(([id]) => id)).toEqual(['LinkAtRiskAlarm']);
    const link = resource(t(), 'LinkAtRiskAlarm').Properties;
    expect(link.AlarmActions).toEqual([{ Ref: 'AlarmTopic' }]);
    expect(link.OKActions).toEqual([{ Ref: 'AlarmTopic' }]);
    expect(str(link.AlarmName)).toMatch(/fivetran-link-at-risk$/);
    const [condition, withNlb, without] = (link.AlarmRule as { 'Fn::If': [string, { 'Fn::Sub': string }, { 'Fn::Sub': string }] })['Fn::If'];
    expect(condition).toBe('CreatePrivateLink');
    const members = (rule: string) => [...rule.matchAll(/ALARM\("\$\{(\w+)\.Arn\}"\)/g)].map((m) => m[1]);
    // Not PendingConnectionsAlarm: an unlisted account's request would hold the page for days, and a
    // real failure meanwhile would send no new notification.
    const signals = ['SyncHeartbeatAlarm', 'NoHealthyTargetsAlarm', 'AllowlistedPendingAlarm', 'AcceptHeartbeatAlarm', 'ProbeFailuresAlarm', 'FailoverNotHealthyAlarm'];
    expect(members(without['Fn::Sub'])).toEqual(signals);
    expect(members(withNlb['Fn::Sub'])).toEqual([...signals, 'NlbHealthyHostsAlarm']);
    expect(without['Fn::Sub'].split(' OR ')).toHaveLength(signals.length);
    // Every other notifier is gone: only the composite and the e-mail subscription use the topic.
    const topicUsers = Object.entries(t().Resources).filter(([, r]) => JSON.stringify(r).includes('{"Ref":"AlarmTopic"}')).map(([id]) => id);
    expect(topicUsers.sort()).toEqual(['AlarmEmailSubscription', 'LinkAtRiskAlarm']);
  });

  it('writes JSON logs, keeping Lambda\'s REPORT lines, and keeps the log groups when the stack goes', () => {
    for (const fn of ['SyncLambdaFunction', 'AcceptLambdaFunction']) {
      // Application level = logLevel; system INFO keeps REPORT (duration, memory, timeouts).
      expect(resource(t(), fn).Properties.LoggingConfig, fn).toEqual({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO' });
    }
    for (const [id, group] of ofType(t(), 'AWS::Logs::LogGroup')) {
      expect(group, id).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
  });

  it('subscribes the alarm e-mail only when one is given', () => {
    const email = resource(t(), 'AlarmEmailSubscription');
    expect(email.Condition).toBe('HasAlarmEmail');
    expect(email.Properties).toMatchObject({ Protocol: 'email', TopicArn: { Ref: 'AlarmTopic' }, Endpoint: { Ref: 'AlarmEmail' } });
    expect(t().Parameters.AlarmEmail?.Default).toBe(config === 'basic' ? 'ops@example.com' : '');
  });

  it('builds a dashboard whose every ${...} names something in the stack', () => {
    const body = (resource(t(), 'Dashboard').Properties.DashboardBody as { 'Fn::Sub': string })['Fn::Sub'];
    const names = [...body.matchAll(/\$\{([^!}][^}]*)\}/g)].map((m) => m[1] as string);
    for (const name of names) {
      if (name.startsWith('AWS::')) continue;
      const [id, attribute] = name.split('.');
      expect(t().Resources[id as string], name).toBeDefined();
      if (attribute) expect(attribute).toBe('Arn');
    }
    const dashboard = JSON.parse(body.replace(/\$\{!/g, '${').replace(/\$\{(?!PROP)[^}]*\}/g, 'x')) as { widgets: { type: string; properties: Record<string, Json> }[] };
    const text = JSON.stringify(dashboard);
    for (const metric of ['ResolvedAddresses', 'RegisteredTargets', 'HealthyTargets', 'TargetsAdded', 'TargetsRemoved']) {
      // Per-mapping series carry the port: one endpoint and target group on two ports are two series.
      expect(text).toContain(`SEARCH('{\\"RdsNlbSync\\",TargetGroup,Endpoint,Port} MetricName=\\"${metric}\\"'`);
    }
    for (const metric of ['DnsFailures', 'SyncErrors', 'SyncDuration', 'PendingConnections', 'ConnectionsAccepted', 'ConnectionsRejected']) {
      expect(text).toContain(`"${metric}"`);
    }
    // Every followed failover as a point: event to healthy, and registered to healthy (no event).
    const failover = dashboard.widgets.find((w) => w.type === 'metric' && String(w.properties.title).startsWith('Failover:'));
    for (const metric of ['FailoverEventToHealthy', 'FailoverRegisteredToHealthy']) {
      expect(JSON.stringify(failover?.properties.metrics)).toContain(`SEARCH('{\\"RdsNlbSync\\",TargetGroup,Endpoint,Port} MetricName=\\"${metric}\\"'`);
    }
    const alarmWidget = dashboard.widgets.find((w) => w.type === 'alarm');
    // Every unconditional alarm and the composite (the NLB's alarm exists only with createPrivateLink).
    const alarmIds = [...ofType(t(), 'AWS::CloudWatch::Alarm'), ...ofType(t(), 'AWS::CloudWatch::CompositeAlarm')]
      .filter(([, r]) => !r.Condition)
      .map(([id]) => `\${${id}.Arn}`);
    expect((body.match(/\$\{[A-Za-z]+Alarm\.Arn\}/g) ?? []).sort()).toEqual(alarmIds.sort());
    expect(alarmWidget?.properties.alarms).toHaveLength(alarmIds.length);
    expect(dashboard.widgets.some((w) => w.type === 'log' && String(w.properties.query).includes("message = 'sync run'"))).toBe(true);
    expect(t().Outputs.DashboardUrl?.Value).toEqual({
      'Fn::Sub': 'https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards/dashboard/${Dashboard}',
    });
  });

  it('creates the PrivateLink plumbing only under the CreatePrivateLink condition', () => {
    const privateLink = ['NlbSecurityGroup', 'LoadBalancer', 'TargetGroup', 'Listener', 'EndpointService', 'EndpointServicePermissions', 'EndpointConnectionNotification', 'NlbHealthyHostsAlarm'];
    for (const id of privateLink) expect(resource(t(), id).Condition, id).toBe('CreatePrivateLink');
    expect(resource(t(), 'DbIngressFromNlb').Condition).toBe('AdmitNlbToDb');
    for (const id of ['EndpointServiceName', 'EndpointServiceId', 'LoadBalancerArn', 'TargetGroupArn', 'NlbSecurityGroupId']) expect(t().Outputs[id]?.Condition, id).toBe('CreatePrivateLink');
    // The NLB and the API endpoints need one subnet per zone, apart from the functions' subnets.
    expect(t().Parameters.NlbSubnetIds?.Default).toBe(config === 'privatelink' ? 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002,subnet-0a1b2c3d4e5f60003' : '');
    for (const condition of ['CreatePrivateLink', 'CreateApiEndpoints']) expect(JSON.stringify(t().Conditions[condition]), condition).toContain('HasNlbSubnets');
    expect(t().Parameters.PrivateLink?.Default).toBe(config === 'privatelink' ? 'true' : 'false');
    for (const id of ['ApiEndpointSecurityGroup', 'ElasticLoadBalancingApiEndpoint', 'MonitoringApiEndpoint', 'RdsApiEndpoint']) {
      expect(resource(t(), id).Condition, id).toBe('CreateApiEndpoints');
    }
    expect(t().Parameters.ApiEndpoints?.Default).toBe(config === 'privatelink' ? 'true' : 'false');
    // The switches take only the packaged value: flipping one in the console cannot leave IAM
    // or the environment derived for the other.
    for (const name of ['PrivateLink', 'ApiEndpoints', 'AcceptInVpc']) {
      const parameter = t().Parameters[name] as { Default?: string; AllowedValues?: string[] };
      expect(parameter.AllowedValues, name).toEqual([parameter.Default]);
    }
  });
});

// docs/operate.md's alarm tables say when each alarm fires; the template decides. With the default
// schedules (both example stages use them), each alarm's window in the docs is its template's.
describe('compiled template with discoverTargetGroups=true (example stage)', () => {
  let t: Template;
  beforeAll(async () => {
    const dir = path.join(outDir, 'discovery');
    rmSync(dir, { recursive: true, force: true });
    await exec(process.execPath, [serverlessBin, 'package', '--stage', 'example', '--param', 'discoverTargetGroups=true', '--package', dir], { cwd: root, env: packageEnv, timeout: 60_000 });
    t = JSON.parse(readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  }, 90_000);

  it('allows RegisterTargets/DeregisterTargets on the configured group and on groups carrying the discovery tag only', () => {
    const manage = statementsOf(t, 'SyncRole').filter((s) => actionsOf(s).includes('elasticloadbalancing:RegisterTargets'));
    expect(manage.map((s) => [s.Sid, actionsOf(s).sort(), s.Resource, s.Condition])).toEqual([
      ['ManageTargetsOfConfiguredTargetGroups', ['elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:RegisterTargets'], ['arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/fivetran-mydb/0123456789abcdef'], undefined],
      [
        'ManageTargetsOfTaggedTargetGroups',
        ['elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:RegisterTargets'],
        { 'Fn::Sub': 'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:targetgroup/*' },
        { Null: { 'aws:ResourceTag/rds-nlb-sync:endpoint': 'false' } },
      ],
    ]);
    expect(statementFor(t, 'SyncRole', 'elasticloadbalancing:DescribeTags')).toMatchObject({ Action: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTags'], Resource: '*' });
    expect(env(t, 'SyncLambdaFunction')).toMatchObject({ DISCOVER_TARGET_GROUPS: 'true', DISCOVERY_TAG_KEY: 'rds-nlb-sync:endpoint' });
  });
});

describe('docs/operate.md and the template agree on every alarm', () => {
  const operate = readFileSync(path.join(root, 'docs', 'operate.md'), 'utf8');
  const alarmsSection = operate.slice(operate.indexOf('## Alarms'));
  /** The table rows whose first cell names `name` in backticks. */
  const rowsNaming = (name: string) =>
    alarmsSection.split('\n').filter((line) => line.startsWith('|') && (line.split('|')[1] ?? '').includes(`\`${name}\``));
  const alarmsOf = (t: Template) =>
    ofType(t, 'AWS::CloudWatch::Alarm').map(([id, r]): Record<string, Json> & { id: string } => ({ ...r.Properties, id }));

  it.each(Object.keys(stages) as Config[])('states each alarm of %s with its template window', (config) => {
    const prefix = `rds-nlb-sync-${stages[config]}-`;
    for (const alarm of alarmsOf(templates[config])) {
      const name = str(alarm.AlarmName).slice(prefix.length);
      const rows = rowsNaming(name);
      expect(rows.length, `docs/operate.md has a row for ${name}`).toBeGreaterThan(0);
      const period = Number(alarm.Period);
      const evaluation = Number(alarm.EvaluationPeriods);
      const datapoints = Number(alarm.DatapointsToAlarm);
      const text = rows.join('\n');
      if (datapoints === evaluation) {
        // "for N periods ... N minutes": every period must breach, so the window is N periods long.
        const minutes = (evaluation * period) / 60;
        expect(text, `${name}: window of ${evaluation} x ${period} s`).toContain(minutes === 1 ? '1 minute' : `${minutes} minutes`);
        if (evaluation > 1 && period === 60) expect(text, `${name}: ${evaluation} periods`).toMatch(new RegExp(`\\b${evaluation} periods`));
      } else {
        expect(text, `${name}: ${datapoints} of ${evaluation} periods`).toMatch(new RegExp(`\\b${datapoints} of (the last )?${evaluation} periods`));
      }
      // The alarm's own description (what the notification and the console show) agrees too.
      const description = str(alarm.AlarmDescription);
      for (const [, n] of description.matchAll(/(\d+) periods/g)) expect(Number(n), `${name}: description periods`).toBe(evaluation);
      for (const [, n] of description.matchAll(/(\d+) minutes/g)) expect(Number(n), `${name}: description minutes`).toBe((evaluation * period) / 60);
    }
  });

  it('lists exactly the composite\'s members as paging, and says the others do not page', () => {
    const rule = JSON.stringify(resource(templates.privatelink, 'LinkAtRiskAlarm').Properties.AlarmRule);
    const paging = new Set(alarmsOf(templates.privatelink).filter((a) => rule.includes(`\${${a.id}.Arn}`)).map((a) => a.id));
    const pagingTable = alarmsSection.slice(0, alarmsSection.indexOf('The other alarms'));
    const otherList = alarmsSection.slice(alarmsSection.indexOf('The other alarms'), alarmsSection.indexOf('have no actions'));
    for (const alarm of alarmsOf(templates.privatelink)) {
      const name = str(alarm.AlarmName).slice('rds-nlb-sync-example-privatelink-'.length);
      if (paging.has(alarm.id)) expect(pagingTable, `${name} pages`).toContain(`| \`${name}\``);
      else expect(otherList, `${name} does not page`).toContain(`\`${name}\``);
    }
  });
});

describe('PrivateLink plumbing (example-privatelink)', () => {
  const t = () => templates.privatelink;

  it('puts a cross-zone internal NLB with a TCP listener on the DB port in the one-per-zone NLB subnets', () => {
    expect(resource(t(), 'LoadBalancer').Properties).toMatchObject({
      Type: 'network',
      Scheme: 'internal',
      Subnets: { 'Fn::Split': [',', { Ref: 'NlbSubnetIds' }] },
      LoadBalancerAttributes: [
        { Key: 'load_balancing.cross_zone.enabled', Value: 'true' },
        { Key: 'deletion_protection.enabled', Value: 'true' },
      ],
    });
    expect(resource(t(), 'Listener').Properties).toMatchObject({
      LoadBalancerArn: { Ref: 'LoadBalancer' },
      Port: 5432,
      Protocol: 'TCP',
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: 'TargetGroup' } }],
      // A long quiet query outlives ELB's default 350 s idle timeout.
      ListenerAttributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '3600' }],
    });
  });

  it("gives the NLB its own security group from the start: in only the sync function's probe, the DB port out, admitted by the DB", () => {
    const nlb = resource(t(), 'LoadBalancer').Properties;
    expect(nlb.SecurityGroups).toEqual([{ Ref: 'NlbSecurityGroup' }]);
    // Deliberately off: the endpoint service decides who connects (see docs/pending/issue-12.md).
    expect(nlb.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic).toBe('off');
    const group = resource(t(), 'NlbSecurityGroup').Properties;
    expect(group.VpcId).toEqual({ Ref: 'VpcId' });
    const rule = { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432 };
    // The probe: the function's (one) security group on the listener port, and nothing else.
    expect(group.SecurityGroupIngress).toEqual([
      { ...rule, SourceSecurityGroupId: { 'Fn::Select': [0, { 'Fn::Split': [',', { Ref: 'SecurityGroupIds' }] }] }, Description: expect.stringContaining('probe') },
    ]);
    expect(env(t(), 'SyncLambdaFunction')).toMatchObject({
      PROBE_ENABLED: 'true',
      FUNCTION_IN_VPC: 'true',
      PROBE_TARGET: { 'Fn::If': ['CreatePrivateLink', { 'Fn::Sub': '${LoadBalancer.DNSName}:5432' }, ''] },
    });
    const [egress] = group.SecurityGroupEgress as [{ 'Fn::If': [string, Record<string, Json>, Record<string, Json>] }];
    expect(egress['Fn::If'][0]).toBe('HasDbSecurityGroup');
    expect(egress['Fn::If'][1]).toMatchObject({ ...rule, DestinationSecurityGroupId: { Ref: 'DbSecurityGroupId' } });
    expect(egress['Fn::If'][2]).toMatchObject({ ...rule, CidrIp: '0.0.0.0/0' });
    expect(resource(t(), 'DbIngressFromNlb').Properties).toMatchObject({ ...rule, GroupId: { Ref: 'DbSecurityGroupId' }, SourceSecurityGroupId: { Ref: 'NlbSecurityGroup' } });
    expect(t().Parameters.DbSecurityGroupId?.Default).toBe('sg-0fedcba9876543210');
    expect(t().Outputs.NlbSecurityGroupId?.Value).toEqual({ Ref: 'NlbSecurityGroup' });
  });

  it('uses an IP target group with the fastest TCP health check NLB allows, cutting connections on deregistration', () => {
    const tg = resource(t(), 'TargetGroup').Properties;
    expect(tg).toMatchObject({ TargetType: 'ip', Protocol: 'TCP', Port: 5432, HealthCheckProtocol: 'TCP', VpcId: { Ref: 'VpcId' } });
    // NLB: interval 5-300 s, healthy/unhealthy thresholds 2-10.
    expect(tg).toMatchObject({ HealthCheckIntervalSeconds: 5, HealthyThresholdCount: 2, UnhealthyThresholdCount: 2 });
    expect(Number(tg.HealthCheckTimeoutSeconds)).toBeLessThan(5);
    const attributes = Object.fromEntries((tg.TargetGroupAttributes as { Key: string; Value: string }[]).map((a) => [a.Key, a.Value]));
    expect(Number(attributes['deregistration_delay.timeout_seconds'])).toBeLessThanOrEqual(30);
    expect(attributes['deregistration_delay.connection_termination.enabled']).toBe('true');
    // ELB's defaults, pinned so that a console change shows as drift.
    expect(attributes['preserve_client_ip.enabled']).toBe('false');
    expect(attributes['target_health_state.unhealthy.connection_termination.enabled']).toBe('true');
  });

  it('requires acceptance, allows Fivetran, and tells the operator the service name', () => {
    expect(resource(t(), 'EndpointService').Properties).toEqual({ AcceptanceRequired: true, NetworkLoadBalancerArns: [{ Ref: 'LoadBalancer' }] });
    expect(resource(t(), 'EndpointServicePermissions').Properties).toEqual({
      ServiceId: { Ref: 'EndpointService' },
      AllowedPrincipals: [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::834469178297:root' }],
    });
    expect(t().Outputs.EndpointServiceName?.Value).toEqual({ 'Fn::Sub': 'com.amazonaws.vpce.${AWS::Region}.${EndpointService}' });
  });

  it('points the functions at the created target group and endpoint service', () => {
    const mappings = (env(t(), 'SyncLambdaFunction').SYNC_MAPPINGS as { 'Fn::If': [string, { 'Fn::Sub': string }, Json] })['Fn::If'];
    expect(mappings[0]).toBe('CreatePrivateLink');
    expect(JSON.parse(mappings[1]['Fn::Sub'])).toEqual([{ endpoint: 'mycluster.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com', port: 5432, targetGroupArn: '${TargetGroup}' }]);
    expect(env(t(), 'AcceptLambdaFunction').ENDPOINT_SERVICE_IDS).toEqual({ 'Fn::If': ['CreatePrivateLink', { Ref: 'EndpointService' }, { Ref: 'AWS::NoValue' }] });
  });

  it('adds elasticloadbalancing, monitoring, ec2 and rds interface endpoints in the NLB subnets, reachable from the functions', () => {
    const services = ofType(t(), 'AWS::EC2::VPCEndpoint').map(([, r]) => r.Properties.ServiceName);
    expect(services).toEqual([
      { 'Fn::Sub': 'com.amazonaws.${AWS::Region}.elasticloadbalancing' },
      { 'Fn::Sub': 'com.amazonaws.${AWS::Region}.monitoring' },
      { 'Fn::Sub': 'com.amazonaws.${AWS::Region}.ec2' },
      // RDS events: which cluster an instance belongs to; reader/custom endpoint members.
      { 'Fn::Sub': 'com.amazonaws.${AWS::Region}.rds' },
    ]);
    for (const [, endpoint] of ofType(t(), 'AWS::EC2::VPCEndpoint')) {
      // An interface endpoint takes one subnet per zone, like the NLB.
      expect(endpoint.Properties).toMatchObject({ VpcEndpointType: 'Interface', PrivateDnsEnabled: true, SubnetIds: { 'Fn::Split': [',', { Ref: 'NlbSubnetIds' }] } });
    }
    // EC2 is called by accept only: its endpoint exists only when accept runs in the VPC.
    expect(resource(t(), 'Ec2ApiEndpoint').Condition).toBe('CreateEc2ApiEndpoint');
    expect(t().Conditions.CreateEc2ApiEndpoint).toEqual({ 'Fn::And': [{ Condition: 'CreateApiEndpoints' }, { Condition: 'AcceptInVpc' }] });
    const ingress = resource(t(), 'ApiEndpointSecurityGroup').Properties.SecurityGroupIngress as Record<string, Json>[];
    expect(ingress).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
  });
});

describe('deployment packages', () => {
  it.each(Object.keys(stages) as Config[])('hold one minified ESM bundle per function, nothing else (%s)', (config) => {
    for (const fn of ['sync', 'accept']) {
      const zip = path.join(outDir, config, `${fn}.zip`);
      expect([...unzip(zip).keys()]).toEqual([`functions/${fn}.mjs`]);
      // The SDK clients are bundled and tree-shaken; a zip this big means node_modules came along.
      expect(statSync(zip).size).toBeLessThan(5 * 1024 * 1024);
    }
  });

  it('load as ES modules with the deployed environment and export the handlers', async () => {
    // Outside the repository, so that no linter or test runner picks the bundles up.
    const dir = mkdtempSync(path.join(tmpdir(), 'rds-nlb-sync-bundles-'));
    mkdirSync(path.join(dir, 'functions'));
    const environment: NodeJS.ProcessEnv = { ...packageEnv, AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'SILENT' };
    for (const fn of ['sync', 'accept']) {
      const bundle = unzip(path.join(outDir, 'basic', `${fn}.zip`)).get(`functions/${fn}.mjs`);
      writeFileSync(path.join(dir, 'functions', `${fn}.mjs`), bundle ?? '');
      Object.assign(environment, deployedEnv(templates.basic, fn === 'sync' ? 'SyncLambdaFunction' : 'AcceptLambdaFunction', 'basic'));
    }
    // Importing runs the cold start: config parsing and client creation, no AWS call.
    const script = "const [s, a] = await Promise.all([import('./functions/sync.mjs'), import('./functions/accept.mjs')]); console.log(typeof s.handler, typeof a.handler);";
    try {
      const { stdout } = await exec(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], { cwd: dir, env: environment, timeout: 30_000 });
      expect(stdout.trim()).toBe('function function');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('serverless.yml', () => {
  it('turns Serverless Framework v4 built-in esbuild off (serverless-esbuild builds)', () => {
    const yml = readFileSync(path.join(root, 'serverless.yml'), 'utf8');
    expect(yml).toMatch(/^build:\n {2}esbuild: false$/m);
    expect(yml).toMatch(/^plugins:\n {2}- serverless-esbuild\n/m);
  });

  it('fails `serverless package` with a message naming every missing parameter and every unknown one', async () => {
    const args = ['package', '--stage', 'no-params-given', '--param', 'dryrun=true', '--package', path.join(outDir, 'no-params')];
    const failure = await exec(process.execPath, [serverlessBin, ...args], {
      cwd: root,
      env: packageEnv,
      timeout: 60_000,
    }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stdout: string; stderr: string },
    );
    expect(failure?.code).toBe(1);
    const output = `${failure?.stdout}${failure?.stderr}`;
    expect(output).toContain('Invalid deploy parameters');
    for (const name of ['rdsEndpoint', 'targetGroupArn', 'targetPort', 'endpointServiceIds']) expect(output).toContain(`- ${name}: required`);
    // A typo must not deploy a live function: `dryrun` is not `dryRun`.
    expect(output).toContain('- dryrun: not a deploy parameter (did you mean dryRun?)');
    expect(output).not.toMatch(/\n\s+at .*params\.cjs/); // a message, not a stack trace
  });
});

// --- deploy/params.cjs: the checks and the arithmetic, without a package run -------------------

interface Derived {
  syncTimeout: number;
  syncMaximumEventAge: number;
  syncPeriod: number;
  heartbeatPeriods: number;
  pendingPeriods: number;
  acceptPeriod: number;
  acceptHeartbeatPeriod: number;
  probeIngress: unknown[];
  acceptActions: string[];
  acceptResources: Json[];
  targetGroupArns: Json[];
  syncEnvironment: Record<string, Json>;
  syncReadPolicy: Policy;
  syncTargetsPolicy: Policy;
  extraResources: Record<string, Resource>;
  reservedConcurrency: Json;
}
const load = createRequire(import.meta.url);
const { deriveDeployConfig, FUNCTION_KEYS } = load('../../deploy/params.cjs') as {
  deriveDeployConfig: (raw: Record<string, unknown>, context?: { given?: string[]; service?: string; stage?: string }) => Derived;
  FUNCTION_KEYS: string[];
};
/** The message deriveDeployConfig fails with ('' when it does not fail). */
const failureOf = (raw: Record<string, unknown>, context?: { given?: string[]; stage?: string }): string => {
  try {
    deriveDeployConfig(raw, context);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
};

describe('deploy parameters (deploy/params.cjs)', () => {
  // custom.params of serverless.yml: every known name with its default.
  const defaults = {
    rdsEndpoint: '',
    targetGroupArn: '',
    targetPort: '',
    targetAvailabilityZone: '',
    syncMappings: '',
    syncMappingsParameter: '',
    subnetIds: '',
    securityGroupIds: '',
    acceptInVpc: false,
    vpcId: '',
    nlbSubnetIds: '',
    createApiEndpoints: false,
    endpointServiceIds: '',
    loadBalancerArns: '',
    allowedPrincipals: '834469178297',
    rejectUnlisted: false,
    createPrivateLink: false,
    dbSecurityGroupId: '',
    syncSchedule: 'rate(1 minute)',
    acceptSchedule: 'rate(1 minute)',
    failoverWatchSeconds: 180,
    failoverFollowSeconds: 600,
    reservedConcurrency: 1,
    dnsServers: '',
    dnsTimeoutMs: 2000,
    dnsTries: 2,
    alarmEmail: '',
    alarmPeriodSeconds: '',
    pendingAlarmMinutes: 30,
    logRetentionDays: 30,
    logLevel: 'INFO',
    metricsNamespace: 'RdsNlbSync',
    mappingMetrics: 'changes',
    dryRun: false,
    discoverTargetGroups: false,
    discoveryTagKey: 'rds-nlb-sync:endpoint',
    nlbIdleTimeoutSeconds: 3600,
    nlbDeletionProtection: true,
    probe: true,
    probeTarget: '',
    probeProtocol: 'auto',
  };
  const tg = (name: string) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${name}/0123456789abcdef`;
  const minimal = { ...defaults, rdsEndpoint: 'mydb.abc.eu-west-1.rds.amazonaws.com', targetGroupArn: tg('a'), targetPort: '5432', endpointServiceIds: 'vpce-svc-0123456789abcdef0' };
  const privateLink = {
    ...minimal,
    targetGroupArn: '',
    endpointServiceIds: '',
    createPrivateLink: 'true',
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: 'subnet-0123456789abcdef0',
    securityGroupIds: 'sg-0123456789abcdef0',
    nlbSubnetIds: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002',
  };

  it('accepts the shorthand and turns it into one mapping', () => {
    expect(JSON.parse(deriveDeployConfig(minimal).syncEnvironment.SYNC_MAPPINGS as string)).toEqual([{ endpoint: 'mydb.abc.eu-west-1.rds.amazonaws.com', targetGroupArn: tg('a'), port: 5432 }]);
  });

  it('takes a mappings list as JSON and scopes IAM to each of its target groups', () => {
    const mappings = [
      { endpoint: 'one.abc.eu-west-1.rds.amazonaws.com', targetGroupArn: tg('one'), port: 5432 },
      { endpoint: 'two.abc.eu-west-1.rds.amazonaws.com', targetGroupArn: tg('two'), port: 3306, availabilityZone: 'all' },
    ];
    const derived = deriveDeployConfig({ ...defaults, syncMappings: JSON.stringify(mappings), endpointServiceIds: 'vpce-svc-0123456789abcdef0' });
    expect(derived.targetGroupArns).toEqual([tg('one'), tg('two')]);
  });

  describe('discovery by tag (discoverTargetGroups)', () => {
    const manage = ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'];
    const statements = (d: Derived) => d.syncTargetsPolicy.PolicyDocument.Statement;
    const discovery = { ...defaults, discoverTargetGroups: 'true', endpointServiceIds: 'vpce-svc-0123456789abcdef0' };

    it('scopes RegisterTargets/DeregisterTargets to target groups carrying the tag, with no static mapping needed', () => {
      const derived = deriveDeployConfig(discovery);
      expect(statements(derived)).toEqual([
        {
          Sid: 'ManageTargetsOfTaggedTargetGroups',
          Effect: 'Allow',
          Action: manage,
          Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:targetgroup/*' },
          Condition: { Null: { 'aws:ResourceTag/rds-nlb-sync:endpoint': 'false' } },
        },
        { Sid: 'DiscoverTargetGroups', Effect: 'Allow', Action: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTags'], Resource: '*' },
      ]);
      expect(derived.syncEnvironment).toMatchObject({ DISCOVER_TARGET_GROUPS: 'true', DISCOVERY_TAG_KEY: 'rds-nlb-sync:endpoint', SYNC_MAPPINGS: '' });
    });

    it('keeps the static groups on their own statement beside the tagged ones, and follows a custom key', () => {
      const derived = deriveDeployConfig({ ...minimal, discoverTargetGroups: 'true', discoveryTagKey: 'team-a:endpoint' });
      expect(statements(derived).map((s) => [s.Sid, s.Resource, s.Condition])).toEqual([
        ['ManageTargetsOfConfiguredTargetGroups', [tg('a')], undefined],
        ['ManageTargetsOfTaggedTargetGroups', expect.anything(), { Null: { 'aws:ResourceTag/team-a:endpoint': 'false' } }],
        ['DiscoverTargetGroups', '*', undefined],
      ]);
    });

    it('grants nothing by tag, and no listing, when discovery is off', () => {
      expect(statements(deriveDeployConfig(minimal))).toEqual([{ Sid: 'ManageTargetsOfConfiguredTargetGroups', Effect: 'Allow', Action: manage, Resource: [tg('a')] }]);
    });

    it('lets sync list the members of any reader or custom endpoint a tag may name', () => {
      const reads = deriveDeployConfig(discovery).syncReadPolicy.PolicyDocument.Statement;
      const sub = (r: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:rds:\${AWS::Region}:\${AWS::AccountId}:${r}` });
      expect(reads.find((s) => s.Sid === 'ReadClusterMembers')?.Resource).toEqual([sub('cluster:*')]);
      expect(reads.find((s) => s.Sid === 'ReadCustomEndpoints')?.Resource).toEqual([sub('cluster:*'), sub('cluster-endpoint:*')]);
    });

    it('refuses a bad tag key, naming the parameter', () => {
      expect(failureOf({ ...discovery, discoveryTagKey: 'aws:x' })).toContain('discoveryTagKey: must not start with "aws:"');
    });
  });

  it('rejects the shorthand and a mappings list together', () => {
    expect(() => deriveDeployConfig({ ...minimal, syncMappings: '[]' })).toThrow(/syncMappings: set either syncMappings or rdsEndpoint/);
  });

  it('refuses an unknown parameter name, naming the closest known one', () => {
    expect(failureOf(minimal, { given: ['rdsEndpoint', 'dryrun'] })).toContain('dryrun: not a deploy parameter (did you mean dryRun?)');
    expect(failureOf(minimal, { given: ['rdsSourceIds'] })).toMatch(/rdsSourceIds: not a deploy parameter/);
    expect(failureOf(minimal, { given: Object.keys(defaults) })).toBe('');
  });

  it("checks the derived environment with the functions' own loaders, naming the deploy parameter", () => {
    // Each message comes from lib/config.ts; only the name is the deploy parameter's.
    const message = failureOf({ ...minimal, targetGroupArn: 'tg-1', targetPort: '99999', dnsServers: 'resolver.internal', dnsTries: 9, allowedPrincipals: 'fivetran' });
    expect(message).toContain('- targetGroupArn: must be a target group ARN');
    expect(message).toContain('- targetPort: must be a TCP port number (1-65535)');
    expect(message).toMatch(/- dnsServers(\[0\])?: must be/);
    expect(message).toContain('- dnsTries: must be a number of tries (1-5)');
    expect(message).toMatch(/- allowedPrincipals(\[0\])?: "fivetran" is not a 12-digit AWS account ID/);
    expect(message).not.toMatch(/SYNC_MAPPINGS|TARGET_PORT|DNS_TRIES/);
    const list = failureOf({ ...defaults, endpointServiceIds: 'vpce-svc-0123456789abcdef0', syncMappings: JSON.stringify([{ endpoint: 'a.abc.eu-west-1.rds.amazonaws.com', targetGroupArn: tg('a'), port: 0 }]) });
    expect(list).toContain('- syncMappings[0].port: must be a TCP port number');
  });

  it('names bad deploy-only values instead of deploying them', () => {
    const message = failureOf({ ...minimal, subnetIds: 'subnet-0123456789abcdef0', logRetentionDays: 42, alarmEmail: 'ops' });
    expect(message).toContain('securityGroupIds: required when subnetIds is set');
    expect(message).toContain('logRetentionDays: must be one of');
    expect(message).toContain('alarmEmail: "ops" is not an e-mail address');
  });

  it('requires the VPC, its subnets and one-per-zone NLB subnets for createPrivateLink, and no target group ARN', () => {
    expect(() => deriveDeployConfig({ ...minimal, endpointServiceIds: '', createPrivateLink: 'true' })).toThrow(
      /nlbSubnetIds: required with createPrivateLink[\s\S]*targetGroupArn: not with createPrivateLink[\s\S]*subnetIds: required with createPrivateLink[\s\S]*vpcId: required with createPrivateLink/,
    );
    expect(failureOf(privateLink)).toBe('');
    // Two subnets of one zone fail CreateLoadBalancer; the same subnet twice is the one case we can see offline.
    expect(failureOf({ ...privateLink, nlbSubnetIds: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60001' })).toContain('nlbSubnetIds: subnet-0a1b2c3d4e5f60001 given twice');
    expect(failureOf({ ...privateLink, dbSecurityGroupId: 'db-sg' })).toContain('dbSecurityGroupId: "db-sg" is not a security group ID');
    expect(failureOf({ ...minimal, dbSecurityGroupId: 'sg-0123456789abcdef0' })).toContain('dbSecurityGroupId: only used with createPrivateLink');
  });

  it("sets the created NLB's idle timeout within ELB's range and its deletion protection", () => {
    expect(deriveDeployConfig(privateLink)).toMatchObject({ nlbIdleTimeoutSeconds: '3600', nlbDeletionProtection: 'true' });
    expect(deriveDeployConfig({ ...privateLink, nlbIdleTimeoutSeconds: 6000, nlbDeletionProtection: 'false' })).toMatchObject({ nlbIdleTimeoutSeconds: '6000', nlbDeletionProtection: 'false' });
    expect(failureOf({ ...privateLink, nlbIdleTimeoutSeconds: 59 })).toContain('nlbIdleTimeoutSeconds: must be a whole number from 60 to 6000, got "59"');
    expect(failureOf({ ...privateLink, nlbIdleTimeoutSeconds: 6001 })).toContain('nlbIdleTimeoutSeconds: must be a whole number from 60 to 6000');
  });

  it('grants Reject only with rejectUnlisted, and every service of the account when services come from NLBs', () => {
    expect(deriveDeployConfig({ ...minimal, rejectUnlisted: 'true' }).acceptActions).toEqual(['ec2:AcceptVpcEndpointConnections', 'ec2:RejectVpcEndpointConnections']);
    const fromNlb = deriveDeployConfig({ ...minimal, endpointServiceIds: '', loadBalancerArns: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/db/0123456789abcdef' });
    expect(fromNlb.acceptResources[0]).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-endpoint-service/*' });
  });

  it('sends per-mapping metrics only when they change by default; all or none on request; refuses anything else, naming the parameter', () => {
    expect(deriveDeployConfig(minimal).syncEnvironment.MAPPING_METRICS).toBe('changes');
    expect(deriveDeployConfig({ ...minimal, mappingMetrics: 'all' }).syncEnvironment.MAPPING_METRICS).toBe('all');
    expect(failureOf({ ...minimal, mappingMetrics: 'some' })).toContain('mappingMetrics: Invalid option: expected one of "changes"|"all"|"none"');
  });

  it('sizes the sync timeout and event age to the failover watch and follow (3 and 10 minutes by default)', () => {
    expect(deriveDeployConfig(minimal).syncTimeout).toBe(180 + 600 + 2 * 6 + 30);
    const derived = deriveDeployConfig({ ...minimal, failoverWatchSeconds: 300, failoverFollowSeconds: 300 });
    expect(derived.syncTimeout).toBe(300 + 300 + 2 * 6 + 30);
    expect(derived.syncEnvironment.FAILOVER_FOLLOW_SECONDS).toBe('300');
    // A longer watch with the default follow does not fit Lambda's 15 minutes: the message says which to lower.
    expect(failureOf({ ...minimal, failoverWatchSeconds: 300 })).toContain('the sync would need a 942 s timeout (watch 300 + follow 600 + 2 x DNS 6 + 30); Lambda allows 900 - lower failoverFollowSeconds');
    expect(failureOf({ ...minimal, failoverFollowSeconds: 901 })).toContain('failoverFollowSeconds: must be seconds (0-900)');
    expect(derived.syncMaximumEventAge).toBeGreaterThanOrEqual(2 * derived.syncTimeout);
    expect(() => deriveDeployConfig({ ...minimal, failoverWatchSeconds: 840, dnsTimeoutMs: 10_000 })).toThrow(/Lambda allows 900/);
  });

  it('sizes the link-down alarms to outlast a followed failover: the follow bound plus one period, at least 3', () => {
    expect(deriveDeployConfig(minimal)).toMatchObject({ outagePeriods: 11, nlbOutagePeriods: 11, probePeriods: 11 });
    expect(deriveDeployConfig({ ...minimal, failoverFollowSeconds: 300 })).toMatchObject({ outagePeriods: 6, nlbOutagePeriods: 6 });
    // A 5-minute schedule: 600 s is two periods, plus one.
    expect(deriveDeployConfig({ ...minimal, syncSchedule: 'rate(5 minutes)' })).toMatchObject({ outagePeriods: 3, nlbOutagePeriods: 11 });
    expect(deriveDeployConfig({ ...minimal, failoverFollowSeconds: 0 })).toMatchObject({ outagePeriods: 3, nlbOutagePeriods: 3 });
  });

  it('probes through the created NLB from the VPC, admitting only the function there; opt out, or name another listener', () => {
    const created = deriveDeployConfig(privateLink);
    expect(created.probeIngress).toHaveLength(1);
    expect(created.syncEnvironment).toMatchObject({ PROBE_ENABLED: 'true', FUNCTION_IN_VPC: 'true', PROBE_PROTOCOL: 'auto' });
    const off = deriveDeployConfig({ ...privateLink, probe: 'false' });
    expect(off.probeIngress).toEqual([]);
    expect(off.syncEnvironment.PROBE_ENABLED).toBe('false');
    // Outside the VPC the function cannot reach an internal NLB: the run logs the probe as skipped.
    expect(deriveDeployConfig(minimal).syncEnvironment).toMatchObject({ FUNCTION_IN_VPC: 'false', PROBE_TARGET: '' });
    const other = deriveDeployConfig({ ...minimal, probeTarget: 'internal-db-0123.elb.eu-west-1.amazonaws.com:5432' });
    expect(other.syncEnvironment.PROBE_TARGET).toBe('internal-db-0123.elb.eu-west-1.amazonaws.com:5432');
    expect(() => deriveDeployConfig({ ...privateLink, probeTarget: 'internal-db.elb.eu-west-1.amazonaws.com:5432' })).toThrow(/probeTarget: not with createPrivateLink/);
    expect(() => deriveDeployConfig({ ...minimal, probeTarget: 'internal-db.elb.eu-west-1.amazonaws.com:1521' })).toThrow(/probeProtocol: is auto, which knows ports 3306 \(mysql\) and 5432 \(postgres\) only/);
    expect(() => deriveDeployConfig({ ...minimal, probeTarget: 'internal-db.elb.eu-west-1.amazonaws.com' })).toThrow(/probeTarget: must be host:port/);
  });

  it('follows the schedules with the alarm periods', () => {
    const every5 = deriveDeployConfig({ ...minimal, syncSchedule: 'rate(5 minutes)', acceptSchedule: 'rate(10 minutes)' });
    expect(every5.syncPeriod).toBe(300);
    // A long run beats once an interval (lib/sync/heartbeat.ts): beats at most two intervals apart, plus one period.
    expect(every5.heartbeatPeriods).toBe(3);
    expect(deriveDeployConfig({ ...minimal, syncSchedule: 'rate(5 minutes)', alarmPeriodSeconds: 60 }).heartbeatPeriods).toBe(11);
    expect(every5.acceptPeriod).toBe(600);
    expect(every5.acceptHeartbeatPeriod).toBe(600);
    expect(deriveDeployConfig(minimal).acceptHeartbeatPeriod).toBe(60);
    expect(every5.pendingPeriods).toBe(3);
    // A watching run re-syncs every mapping as often as the schedule would have (cron: every minute).
    expect(every5.syncEnvironment.SCHEDULE_INTERVAL_SECONDS).toBe('300');
    expect(deriveDeployConfig({ ...minimal, syncSchedule: 'cron(0/5 * * * ? *)' }).syncEnvironment.SCHEDULE_INTERVAL_SECONDS).toBe('60');
    const everyMinute = deriveDeployConfig(minimal);
    expect(everyMinute.syncEnvironment.SCHEDULE_INTERVAL_SECONDS).toBe('60');
    // Not the 822 s a watch and a follow can hold the slot: the run beats meanwhile.
    expect(everyMinute.heartbeatPeriods).toBe(3);
    expect(deriveDeployConfig({ ...minimal, failoverFollowSeconds: 0 }).heartbeatPeriods).toBe(3);
  });

  it('refuses schedule expressions EventBridge refuses, and takes those it takes', () => {
    const refused = {
      'rate(5 minute)': 'must be rate(5 minutes)',
      'rate(1 minutes)': 'must be rate(1 minute)',
      'rate(0 minutes)': 'is not a positive rate',
      'rate(-1 minutes)': 'is not rate(<n> <unit>)',
      'rate(1 week)': 'is not rate(<n> <unit>)',
      'every minute': 'is not rate(<n> <unit>)',
      'cron(0 12 * * ? )': 'must have 6 fields',
      'cron(0 12 * * * *)': 'must have "?" in exactly one',
      'cron(0 25 * * ? *)': 'has an invalid hours field "25"',
    };
    for (const [expression, why] of Object.entries(refused)) {
      expect(failureOf({ ...minimal, syncSchedule: expression }), expression).toContain(`syncSchedule: "${expression}" ${why}`);
    }
    for (const expression of ['rate(1 minute)', 'rate(2 hours)', 'rate(1 day)', 'cron(0/5 * * * ? *)', 'cron(15 10 ? * MON-FRI *)', 'cron(0 8 1 * ? 2027)']) {
      expect(failureOf({ ...minimal, acceptSchedule: expression }), expression).toBe('');
    }
  });

  describe("Lambda's 4 KB environment", () => {
    // 20 realistic mappings (the issue measured 4,061 bytes for its 20; these are longer).
    const twenty = Array.from({ length: 20 }, (_, i) => ({
      endpoint: `customer-orders-${String(i).padStart(2, '0')}.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com`,
      targetGroupArn: tg(`fivetran-orders-${String(i).padStart(2, '0')}`),
      port: 5432,
      availabilityZone: 'all',
    }));
    const many = { ...defaults, endpointServiceIds: 'vpce-svc-0123456789abcdef0', syncMappings: JSON.stringify(twenty) };

    it('refuses an environment over 4 KB at package time, pointing at syncMappingsParameter', () => {
      expect(Buffer.byteLength(JSON.stringify(twenty))).toBeGreaterThan(4000);
      expect(failureOf(many)).toMatch(/syncMappings: the sync function's environment would be \d{4} bytes; Lambda allows 4096 in all\. Set syncMappingsParameter=/);
      expect(failureOf({ ...many, syncMappings: JSON.stringify(twenty.slice(0, 10)) })).toBe('');
    });

    it('keeps the mappings in an SSM parameter the stack creates, readable by sync only', () => {
      const derived = deriveDeployConfig({ ...many, syncMappingsParameter: '/rds-nlb-sync/prod/mappings', createApiEndpoints: 'true', vpcId: 'vpc-0123456789abcdef0', subnetIds: 'subnet-0123456789abcdef0', securityGroupIds: 'sg-0123456789abcdef0', nlbSubnetIds: 'subnet-0a1b2c3d4e5f60001' });
      expect(derived.syncEnvironment.SYNC_MAPPINGS).toBeUndefined();
      expect(derived.syncEnvironment.SYNC_MAPPINGS_PARAMETER).toBe('/rds-nlb-sync/prod/mappings');
      const parameter = derived.extraResources.MappingsParameter;
      expect(parameter?.Type).toBe('AWS::SSM::Parameter');
      expect(parameter?.Properties).toMatchObject({ Name: '/rds-nlb-sync/prod/mappings', Type: 'String', Tier: 'Advanced' });
      expect(JSON.parse(str(parameter?.Properties.Value))).toEqual(twenty);
      const read = derived.syncReadPolicy.PolicyDocument.Statement.find((s) => s.Action === 'ssm:GetParameter');
      expect(read?.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/rds-nlb-sync/prod/mappings' });
      expect(derived.extraResources.SsmApiEndpoint?.Properties.ServiceName).toEqual({ 'Fn::Sub': 'com.amazonaws.${AWS::Region}.ssm' });
      expect(failureOf({ ...many, syncMappingsParameter: 'not a name' })).toContain('syncMappingsParameter: "not a name" is not an SSM parameter name');
    });
  });

  it('lets sync read the members of reader and custom endpoints: every cluster, as the batched read asks without an identifier', () => {
    const mappings = [
      { endpoint: 'orders.cluster-ro-abcdefghijkl.eu-west-1.rds.amazonaws.com', targetGroupArn: tg('readers'), port: 5432 },
      { endpoint: 'orders.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com', targetGroupArn: tg('writer'), port: 5432 },
    ];
    const vpc = { createApiEndpoints: 'true', vpcId: 'vpc-0123456789abcdef0', subnetIds: 'subnet-0123456789abcdef0', securityGroupIds: 'sg-0123456789abcdef0', nlbSubnetIds: 'subnet-0a1b2c3d4e5f60001' };
    const readers = deriveDeployConfig({ ...defaults, ...vpc, endpointServiceIds: 'vpce-svc-0123456789abcdef0', syncMappings: JSON.stringify(mappings) });
    const statement = (d: Derived, action: string) => d.syncReadPolicy.PolicyDocument.Statement.find((s) => actionsOf(s).includes(action));
    const cluster = (id: string) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:rds:\${AWS::Region}:\${AWS::AccountId}:cluster:${id}` });
    // readMemberSets filters by db-cluster-id: RDS authorizes that call on cluster:*.
    expect(statement(readers, 'rds:DescribeDBClusters')?.Resource).toEqual([cluster('*')]);
    // Reader members come from DescribeDBClusters alone.
    expect(statement(readers, 'rds:DescribeDBClusterEndpoints')).toBeUndefined();
    expect(statement(readers, 'rds:DescribeDBInstances')?.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:*' });
    // Custom endpoints, read with the db-cluster-endpoint-id filter: on every cluster and cluster endpoint.
    const custom = deriveDeployConfig({ ...minimal, rdsEndpoint: 'analytics.cluster-custom-abcdefghijkl.eu-west-1.rds.amazonaws.com' });
    expect(statement(custom, 'rds:DescribeDBClusterEndpoints')?.Resource).toEqual([
      cluster('*'),
      { 'Fn::Sub': 'arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster-endpoint:*' },
    ]);
    // A writer endpoint alone: DNS only, no member reads, no rds endpoint.
    // RDS events: an instance's cluster, a blue/green deployment's source and target.
    const writer = deriveDeployConfig(minimal);
    expect(writer.syncReadPolicy.PolicyDocument.Statement.flatMap(actionsOf)).toEqual(['rds:DescribeDBInstances', 'rds:DescribeBlueGreenDeployments']);
    expect(statement(writer, 'rds:DescribeBlueGreenDeployments')?.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:deployment:*' });
  });

  // Issue 18, class 6: parameters that passed here and failed later (at deploy or at run time).
  it.each([
    ['null', 'got null'],
    ['{}', 'got an object'],
    ['true', 'got boolean true'],
    ['5', 'got number 5'],
    ['[{', 'got text that is not JSON'],
  ])('says what shape syncMappings=%s should have (no TypeError, no "required")', (value, got) => {
    const message = failureOf({ ...defaults, syncMappings: value, endpointServiceIds: 'vpce-svc-0123456789abcdef0' });
    expect(message).toContain(`syncMappings: must be a JSON list of {"endpoint","targetGroupArn","port"} objects, e.g. [{"endpoint":`);
    expect(message).toContain(got);
    expect(message).not.toContain('required');
  });

  it('says an empty syncMappings list must list a mapping', () => {
    expect(failureOf({ ...defaults, syncMappings: '[]', endpointServiceIds: 'vpce-svc-0123456789abcdef0' })).toContain('syncMappings: must list at least one mapping');
  });

  it('refuses at package time a stage that makes a function name longer than Lambda takes (64)', () => {
    const longest = 64 - 'rds-nlb-sync--accept'.length;
    expect(failureOf(minimal, { stage: 'a'.repeat(longest) })).toBe('');
    expect(failureOf(minimal, { stage: 'a'.repeat(longest + 1) })).toContain(
      `--stage: "${'a'.repeat(longest + 1)}" (45 characters) makes the function name rds-nlb-sync-${'a'.repeat(longest + 1)}-accept 65 characters long; Lambda allows 64: use a stage of at most 44 characters`,
    );
  });

  it.each([
    ['éx', 'metricsNamespace: must be a CloudWatch namespace'],
    ['AWS/EC2', 'metricsNamespace: must not start with "AWS/"'],
  ])('refuses metricsNamespace=%s with the loaders\' one CloudWatch rule, once', (value, message) => {
    const failure = failureOf({ ...minimal, metricsNamespace: value });
    expect(failure.split(message)).toHaveLength(2);
  });

  it('refuses an IP address as rdsEndpoint', () => {
    expect(failureOf({ ...minimal, rdsEndpoint: '10.0.0.5' })).toContain("rdsEndpoint: is an IP address: give the RDS endpoint's DNS name");
  });

  it('refuses a pending-connections alarm longer than CloudWatch evaluates (one day for periods under an hour)', () => {
    // rate(7 minutes): 420 s periods; 1440 minutes would take 206 of them, 86,520 s.
    expect(failureOf({ ...minimal, acceptSchedule: 'rate(7 minutes)', pendingAlarmMinutes: 1440 })).toContain(
      'pendingAlarmMinutes/acceptSchedule: an alarm of 206 periods of 420 s spans 86520 s; CloudWatch allows 86400 s for periods under an hour - at most 205 periods, 1435 minutes here',
    );
    expect(failureOf({ ...minimal, acceptSchedule: 'rate(7 minutes)', pendingAlarmMinutes: 1435 })).toBe('');
  });

  it('reserves one execution per function by default, none on request, and refuses 0', () => {
    expect(deriveDeployConfig(minimal).reservedConcurrency).toBe(1);
    expect(deriveDeployConfig({ ...minimal, reservedConcurrency: 'none' }).reservedConcurrency).toEqual({ Ref: 'AWS::NoValue' });
    expect(failureOf({ ...minimal, reservedConcurrency: 0 })).toContain('reservedConcurrency: 0 would stop the functions from ever running');
  });
});

// --- cfn-lint --------------------------------------------------------------------------------

// Findings from the framework's own output, not from our template, ignored by rule and place:
const frameworkFindings = [
  // W3005: serverless adds DependsOn on a function's `role:` although Role already is a GetAtt.
  { rule: 'W3005', message: /dependency already enforced by a 'GetAtt' at 'Resources\/(Sync|Accept)LambdaFunction\/Properties\/Role'/ },
];

interface LintFinding {
  Level: string;
  Rule: { Id: string };
  Message: string;
  Filename: string;
  Location: { Start: { LineNumber: number } };
}

describe('cfn-lint', () => {
  it('finds no errors and no warnings except the framework ones (both templates)', async (ctx) => {
    const available = await exec('cfn-lint', ['--version']).then(
      () => true,
      () => false,
    );
    if (!available) {
      if (process.env.REQUIRE_CFN_LINT === '1') throw new Error('cfn-lint is not installed, and REQUIRE_CFN_LINT=1');
      console.warn('!!! cfn-lint not found: SKIPPING the cfn-lint check of the compiled templates (pip install cfn-lint; CI sets REQUIRE_CFN_LINT=1) !!!');
      ctx.skip();
    }
    const files = (Object.keys(stages) as Config[]).map((config) => path.join(outDir, config, 'cloudformation-template-update-stack.json'));
    // cfn-lint exits non-zero whenever it finds something; the JSON report is what counts.
    const { stdout } = await exec('cfn-lint', ['--format', 'json', '--', ...files], { timeout: 60_000 }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const findings = JSON.parse(stdout || '[]') as LintFinding[];
    const relevant = findings.filter((f) => !frameworkFindings.some((known) => f.Rule.Id === known.rule && known.message.test(f.Message)));
    const report = relevant.map((f) => `${f.Level} ${f.Rule.Id} ${path.relative(root, f.Filename)}:${f.Location.Start.LineNumber} ${f.Message}`);
    expect(report).toEqual([]);
    // cfn-lint takes ~20 s on two templates when the machine is busy.
  }, 90_000);
});

// --- parameters that persist (deploy/parameter-guard.cjs, deploy/recorded-params.cjs) ------------

describe('the parameter guard', () => {
  const metadataOf = (t: Template) => (t as unknown as { Metadata: { RdsNlbSync: { Version: string; Parameters: Record<string, string> } } }).Metadata.RdsNlbSync;

  it('records each stage\'s effective parameters, defaults included, in the template Metadata', () => {
    const recorded = metadataOf(templates.privatelink);
    expect(recorded.Version).toBe(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version);
    expect(recorded.Parameters).toMatchObject({ dbSecurityGroupId: 'sg-0fedcba9876543210', createApiEndpoints: 'true', failoverWatchSeconds: '180' });
    expect(metadataOf(templates.basic).Parameters).toMatchObject({ dbSecurityGroupId: '', alarmEmail: 'ops@example.com' });
  });

  // The deployed stack as `aws cloudformation get-template` answers it: example-privatelink's
  // parameters, dbSecurityGroupId included. This package gives them all but dbSecurityGroupId.
  const deployed = path.join(root, 'test/deploy/fixtures/get-template-privatelink.json');
  const withoutDbGroup = {
    createPrivateLink: 'true',
    rdsEndpoint: 'mycluster.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com',
    targetPort: '5432',
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
    securityGroupIds: 'sg-0123456789abcdef0',
    nlbSubnetIds: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002,subnet-0a1b2c3d4e5f60003',
    createApiEndpoints: 'true',
  };
  const packageGuarded = (extra: string[]) =>
    exec(
      process.execPath,
      [serverlessBin, 'package', '--stage', 'guarded', '--package', path.join(outDir, 'guarded'), ...Object.entries(withoutDbGroup).flatMap(([k, v]) => ['--param', `${k}=${v}`]), ...extra],
      { cwd: root, env: { ...packageEnv, RDS_NLB_SYNC_DEPLOYED_TEMPLATE: deployed }, timeout: 120_000 },
    ).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
    );

  it('stops a package that would drop the recorded dbSecurityGroupId, naming it; with --confirm-parameter-changes it proceeds', async () => {
    rmSync(path.join(outDir, 'guarded'), { recursive: true, force: true });

    const refused = await packageGuarded([]);

    expect(refused.code).toBe(1);
    expect(refused.output).toContain('This deploy would drop or change deploy parameters recorded with stack rds-nlb-sync-guarded:\n  dbSecurityGroupId: sg-0fedcba9876543210 -> (not set) [dropped]\nGive them again');
    expect(refused.output).toContain('--confirm-parameter-changes');
    expect(statSync(path.join(outDir, 'guarded'), { throwIfNoEntry: false })).toBeUndefined(); // nothing built

    const confirmed = await packageGuarded(['--confirm-parameter-changes']);

    expect(confirmed.output).toContain('recorded parameter(s) dropped or changed (--confirm-parameter-changes): dbSecurityGroupId');
    expect(confirmed.code).toBe(0);
    const template = JSON.parse(readFileSync(path.join(outDir, 'guarded', 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
    expect(metadataOf(template).Parameters.dbSecurityGroupId).toBe('');
    expect(template.Parameters.DbSecurityGroupId?.Default).toBe('');
  }, 240_000);
});
