// Several databases behind the stack's own NLB (createPrivateLink with syncMappings): `serverless
// package` of the example-privatelink-2db stage offline, one target group and one listener per
// database on its port, IAM, security groups, the alarm, cfn-lint; and the deploy parameters'
// refusals (deploy/params.cjs).
import { beforeAll, describe, expect, it } from 'vitest';
import { cfnLintFindings, deriveDeployConfig, failureOf, packageStage, type Json, type Resource } from './stage.js';

let resources: Record<string, Resource> = {};
let templateFile = '';

beforeAll(async () => {
  ({ resources, templateFile } = await packageStage('example-privatelink-2db', 'privatelink-2db'));
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
    // The probe stays on the first listener.
    expect(env.PROBE_TARGET).toEqual({ 'Fn::If': ['CreatePrivateLink', { 'Fn::Sub': '${LoadBalancer.DNSName}:5432' }, ''] });
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
    const derived = deriveDeployConfig({ ...base, syncMappings: JSON.stringify([a, b, c]) });
    const extra = derived.extraResources as Record<string, { Type: string; Properties: Record<string, Json> }>;
    expect(Object.keys(extra).sort()).toEqual(['DbIngressFromNlb2', 'DbIngressFromNlb3', 'Listener2', 'Listener3', 'TargetGroup2', 'TargetGroup3']);
    expect(extra.Listener3?.Properties).toMatchObject({ Port: 1521, DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: 'TargetGroup3' } }] });
    expect(extra.TargetGroup2?.Properties.Port).toBe(3306);
    expect((derived.nlbEgress as { 'Fn::If': [string, { FromPort: number }, Json] }[]).map((r) => r['Fn::If'][1].FromPort)).toEqual([5432, 3306, 1521]);
    expect(derived.targetGroupArns).toEqual([own('TargetGroup'), own('TargetGroup2'), own('TargetGroup3')]);
  });

  it('keeps one database as before: no extra groups or listeners, a single-metric alarm', () => {
    const derived = deriveDeployConfig({ ...base, syncMappings: JSON.stringify([a]) });
    expect(derived.extraResources).toEqual({});
    expect((derived.nlbHealthyHosts as Record<string, Json>).metricName).toBe('HealthyHostCount');
    expect(derived.targetGroupArns).toEqual([own('TargetGroup')]);
  });

  it('refuses a shared port, a given target group ARN, and warm mode with more than one database', () => {
    expect(failureOf({ ...base, syncMappings: JSON.stringify([a, { ...b, port: 5432 }]) })).toContain("syncMappings[1].port: 5432 is also syncMappings[0]'s; with createPrivateLink each database has its own listener");
    expect(failureOf({ ...base, syncMappings: JSON.stringify([a, { ...b, targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/x/0123456789abcdef' }]) })).toContain(
      'syncMappings[1].targetGroupArn: not with createPrivateLink (the stack creates one target group per mapping)',
    );
    expect(failureOf({ ...base, failoverMode: 'warm', warmSlots: 2, syncMappings: JSON.stringify([a, b]) })).toContain('failoverMode: warm takes one database');
  });
});
