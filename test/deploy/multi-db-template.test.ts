// Several databases behind the stack's own NLB (createPrivateLink with syncMappings): `serverless
// package` of the example-privatelink-2db stage offline, one target group and one listener per
// database on its port, IAM, security groups, the alarm, cfn-lint; and the deploy parameters'
// refusals (deploy/params.cjs).
import { beforeAll, describe, expect, it } from 'vitest';
import { cfnLintFindings, deriveDeployConfig, failureOf, packageStage, type Json, type Output, type Resource } from './stage.js';

let resources: Record<string, Resource> = {};
let outputs: Record<string, Output> = {};
let templateFile = '';

beforeAll(async () => {
  ({ resources, outputs, templateFile } = await packageStage('example-privatelink-2db', 'privatelink-2db'));
}, 120_000);

const get = (id: string): Resource => {
  const r = resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r;
};
const own = (id: string) => ({ 'Fn::If': ['CreatePrivateLink', { Ref: id }, { Ref: 'AWS::NoValue' }] });
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type).map(([id]) => id).sort();

describe('the example-privatelink-2db template (two databases behind the created NLB)', () => {
  it('creates a target group per database, the second with TargetGroup\'s health checks and attributes on its own port', () => {
    expect(ofType('AWS::ElasticLoadBalancingV2::TargetGroup')).toEqual(['TargetGroup', 'TargetGroup2']);
    expect(get('TargetGroup').Properties.Port).toBe(5432);
    expect(get('TargetGroup2').Properties.Port).toBe(3306);
    expect(get('TargetGroup2').Properties).toEqual({ ...get('TargetGroup').Properties, Port: 3306 });
    expect(get('TargetGroup2').Condition).toBe('CreatePrivateLink');
  });

  it('creates a listener per database on its port, forwarding to its own group, with Listener\'s attributes', () => {
    expect(ofType('AWS::ElasticLoadBalancingV2::Listener')).toEqual(['Listener', 'Listener2']);
    expect(get('Listener').Properties).toMatchObject({ Port: 5432, DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: 'TargetGroup' } }] });
    expect(get('Listener2').Properties).toEqual({ ...get('Listener').Properties, Port: 3306, DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: 'TargetGroup2' } }] });
    expect(get('Listener2').Condition).toBe('CreatePrivateLink');
  });

  it('maps each endpoint to its created group in the sync environment', () => {
    const env = (get('SyncLambdaFunction').Properties.Environment as { Variables: Record<string, Json> }).Variables;
    const mappings = env.SYNC_MAPPINGS as { 'Fn::If': [string, { 'Fn::Sub': string }, Json] };
    expect(mappings['Fn::If'][0]).toBe('CreatePrivateLink');
    expect(JSON.parse(mappings['Fn::If'][1]['Fn::Sub'])).toEqual([
      { endpoint: 'orders.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com', port: 5432, targetGroupArn: '${TargetGroup}' },
      { endpoint: 'billing.abcdefghijkl.eu-west-1.rds.amazonaws.com', port: 3306, targetGroupArn: '${TargetGroup2}' },
    ]);
    // The probe goes through every listener: the NLB's one name, each database's port (auto: 5432 postgres, 3306 mysql).
    expect(env.PROBE_TARGET).toEqual({ 'Fn::If': ['CreatePrivateLink', { 'Fn::Sub': '${LoadBalancer.DNSName}:5432,3306' }, ''] });
    expect(env.PROBE_PROTOCOL).toBe('auto');
  });

  it('lets the sync function\'s groups reach every listener for the probe, and nothing else in', () => {
    const ingress = get('NlbSecurityGroup').Properties.SecurityGroupIngress as { FromPort: number; ToPort: number; SourceSecurityGroupId: Json }[];
    expect(ingress.map((r) => [r.FromPort, r.ToPort])).toEqual([
      [5432, 5432],
      [3306, 3306],
    ]);
    expect(new Set(ingress.map((r) => JSON.stringify(r.SourceSecurityGroupId))).size).toBe(1);
  });

  it('outputs every database\'s target group ARN and listener port, the first under the names a one-database stack has', () => {
    expect(outputs.TargetGroupArn).toEqual({ Condition: 'CreatePrivateLink', Value: { Ref: 'TargetGroup' } });
    expect(outputs.ListenerPort).toMatchObject({ Condition: 'CreatePrivateLink', Value: '5432', Description: expect.stringContaining('orders.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com') });
    expect(outputs.TargetGroup2Arn).toEqual({ Condition: 'CreatePrivateLink', Description: 'Target group of billing.abcdefghijkl.eu-west-1.rds.amazonaws.com (syncMappings[1])', Value: { Ref: 'TargetGroup2' } });
    expect(outputs.Listener2Port).toMatchObject({ Condition: 'CreatePrivateLink', Value: '3306', Description: expect.stringContaining('billing.abcdefghijkl.eu-west-1.rds.amazonaws.com (syncMappings[1])') });
    expect(Object.keys(outputs).filter((id) => /^(TargetGroup\d*Arn|Listener\d*Port)$/.test(id)).sort()).toEqual(['Listener2Port', 'ListenerPort', 'TargetGroup2Arn', 'TargetGroupArn']);
  });

  it('allows register/deregister on every created group', () => {
    const policies = get('SyncRole').Properties.Policies as { PolicyDocument?: { Statement: { Sid?: string; Resource: Json }[] } }[];
    const manage = policies.flatMap((p) => p.PolicyDocument?.Statement ?? []).find((s) => s.Sid === 'ManageTargetsOfConfiguredTargetGroups');
    expect(manage?.Resource).toEqual([own('TargetGroup'), own('TargetGroup2')]);
  });

  it('lets the NLB out to each database port and the database admit the NLB on each', () => {
    const rule = (port: number) => ({
      'Fn::If': [
        'HasDbSecurityGroup',
        { IpProtocol: 'tcp', FromPort: port, ToPort: port, DestinationSecurityGroupId: { Ref: 'DbSecurityGroupId' }, Description: 'Database port - forwarded connections and health checks' },
        { IpProtocol: 'tcp', FromPort: port, ToPort: port, CidrIp: '0.0.0.0/0', Description: 'Database port - forwarded connections and health checks' },
      ],
    });
    expect(get('NlbSecurityGroup').Properties.SecurityGroupEgress).toEqual([rule(5432), rule(3306)]);
    expect(ofType('AWS::EC2::SecurityGroupIngress').filter((id) => id.startsWith('DbIngressFromNlb'))).toEqual(['DbIngressFromNlb', 'DbIngressFromNlb2']);
    expect(get('DbIngressFromNlb2')).toEqual({ ...get('DbIngressFromNlb'), Properties: { ...get('DbIngressFromNlb').Properties, FromPort: 3306, ToPort: 3306 } });
  });

  it('alarms when any database\'s group has no healthy host: MIN over both groups\' HealthyHostCount', () => {
    const metrics = get('NlbHealthyHostsAlarm').Properties.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { Dimensions: Json[] } } }[];
    expect(metrics.map((m) => m.Id)).toEqual(['db1', 'db2', 'everyDatabase']);
    expect(metrics[2]?.Expression).toBe('MIN([db1, db2])');
    expect(metrics[1]?.MetricStat?.Metric.Dimensions).toContainEqual({ Name: 'TargetGroup', Value: { 'Fn::GetAtt': ['TargetGroup2', 'TargetGroupFullName'] } });
  });

  it('passes cfn-lint (no errors, no warnings but the framework\'s W3005)', async (ctx) => {
    const findings = await cfnLintFindings(templateFile);
    if (!findings) return ctx.skip();
    expect(findings).toEqual([]);
  }, 90_000);
});


describe('syncMappings with createPrivateLink (deploy/params.cjs)', () => {
  const base = {
    createPrivateLink: 'true',
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: 'subnet-0123456789abcdef0',
    securityGroupIds: 'sg-0123456789abcdef0',
    nlbSubnetIds: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002',
    syncSchedule: 'rate(1 minute)',
    acceptSchedule: 'rate(1 minute)',
    logRetentionDays: 30,
    pendingAlarmMinutes: 30,
    reservedConcurrency: 1,
    nlbIdleTimeoutSeconds: 3600,
    failoverWatchSeconds: 180,
    dnsTimeoutMs: 2000,
    dnsTries: 2,
    metricsNamespace: 'RdsNlbSync',
    mappingMetrics: 'changes',
    allowedPrincipals: '834469178297',
  };
  const a = { endpoint: 'a.cluster-abc.eu-west-1.rds.amazonaws.com', port: 5432 };
  const b = { endpoint: 'b.abc.eu-west-1.rds.amazonaws.com', port: 3306 };
  const c = { endpoint: 'c.abc.eu-west-1.rds.amazonaws.com', targetGroupArn: 'created', port: 1521 };

  it('creates a group, listener and DB ingress per further database, each on its port', () => {
    const derived = deriveDeployConfig({ ...base, syncMappings: JSON.stringify([a, b, c]), probeProtocol: '1521=tcp' });
    const extra = derived.extraResources as Record<string, { Type: string; Properties: Record<string, Json> }>;
    expect(Object.keys(extra).sort()).toEqual(['DbIngressFromNlb2', 'DbIngressFromNlb3', 'Listener2', 'Listener3', 'TargetGroup2', 'TargetGroup3']);
    expect(extra.Listener3?.Properties).toMatchObject({ Port: 1521, DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: 'TargetGroup3' } }] });
    expect(extra.TargetGroup2?.Properties.Port).toBe(3306);
    expect((derived.nlbEgress as { 'Fn::If': [string, { FromPort: number }, Json] }[]).map((r) => r['Fn::If'][1].FromPort)).toEqual([5432, 3306, 1521]);
    expect(derived.targetGroupArns).toEqual([own('TargetGroup'), own('TargetGroup2'), own('TargetGroup3')]);
    expect(Object.keys(derived.extraOutputs as Record<string, Json>)).toEqual(['ListenerPort', 'TargetGroup2Arn', 'Listener2Port', 'TargetGroup3Arn', 'Listener3Port']);
  });

  it('probes every created listener, each with its port\'s protocol, and refuses a port whose protocol it cannot infer, naming probeProtocol', () => {
    const env = (deriveDeployConfig({ ...base, syncMappings: JSON.stringify([a, b, c]), probeProtocol: '1521=tcp' }).syncEnvironment as Record<string, Json>);
    expect(env.PROBE_TARGET).toEqual({ 'Fn::If': ['CreatePrivateLink', { 'Fn::Sub': '${LoadBalancer.DNSName}:5432,3306,1521' }, ''] });
    expect(env.PROBE_PROTOCOL).toBe('1521=tcp');
    expect(failureOf({ ...base, syncMappings: JSON.stringify([a, b, c]) })).toContain('probeProtocol: is auto, which knows ports 3306 (mysql) and 5432 (postgres) only: set mysql, postgres or tcp (a connection only) for port 1521');
    expect(failureOf({ ...base, syncMappings: JSON.stringify([a, b]), probeProtocol: '1521=tcp' })).toContain('probeProtocol: names port 1521, which no PROBE_TARGET listener has');
    // Off, the probe needs no protocol.
    expect(failureOf({ ...base, syncMappings: JSON.stringify([a, b, c]), probe: 'false' })).toBe('');
  });

  it('counts every listener of the probe, at the longest NLB name, in Lambda\'s 4 KB environment', () => {
    const databases = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ endpoint: `db${i}.abc.eu-west-1.rds.amazonaws.com`, port: 6000 + i })));
    expect(failureOf({ ...base, syncMappings: databases(17), probeProtocol: 'tcp' })).toBe('');
    // 18 do not: PROBE_TARGET is about 190 bytes of it (the NLB's longest name once, then ",6001"...).
    expect(failureOf({ ...base, syncMappings: databases(18), probeProtocol: 'tcp' })).toMatch(/syncMappings: the sync function's environment would be 4\d{3} bytes; Lambda allows 4096/);
  });

  it('keeps one database as before: no extra groups or listeners, a single-metric alarm', () => {
    const derived = deriveDeployConfig({ ...base, syncMappings: JSON.stringify([a]) });
    expect(derived.extraResources).toEqual({});
    expect((derived.nlbHealthyHosts as Record<string, Json>).metricName).toBe('HealthyHostCount');
    expect(derived.targetGroupArns).toEqual([own('TargetGroup')]);
    // TargetGroupArn stays serverless.yml's; the listener's port is added.
    expect(derived.extraOutputs).toEqual({ ListenerPort: { Condition: 'CreatePrivateLink', Description: `NLB listener port of ${a.endpoint}: Fivetran's connection to it uses this port`, Value: '5432' } });
    expect((derived.syncEnvironment as Record<string, Json>).PROBE_TARGET).toEqual({ 'Fn::If': ['CreatePrivateLink', { 'Fn::Sub': '${LoadBalancer.DNSName}:5432' }, ''] });
  });

  it('refuses a shared port, a given target group ARN, and warm mode with more than one database', () => {
    expect(failureOf({ ...base, syncMappings: JSON.stringify([a, { ...b, port: 5432 }]) })).toContain("syncMappings[1].port: 5432 is also syncMappings[0]'s; with createPrivateLink each database has its own listener");
    expect(failureOf({ ...base, syncMappings: JSON.stringify([a, { ...b, targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/x/0123456789abcdef' }]) })).toContain(
      'syncMappings[1].targetGroupArn: not with createPrivateLink (the stack creates one target group per mapping)',
    );
    expect(failureOf({ ...base, failoverMode: 'warm', warmSlots: 2, syncMappings: JSON.stringify([a, b]) })).toContain('failoverMode: warm takes one database');
  });
});
