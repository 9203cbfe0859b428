// Warm standby (failoverMode=warm): `serverless package` of the example-warm stage offline, the
// compiled template's slots, weighted listener and IAM, cfn-lint on it; and the deploy
// parameters' refusals (deploy/params.cjs).
import { beforeAll, describe, expect, it } from 'vitest';
import { cfnLintFindings, deriveDeployConfig, failureOf, packageStage, type Json, type Resource } from './stage.js';

let resources: Record<string, Resource> = {};
let templateFile = '';

beforeAll(async () => {
  ({ resources, templateFile } = await packageStage('example-warm', 'warm'));
}, 120_000);

const get = (id: string): Resource => {
  const r = resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r;
};

describe('the example-warm template', () => {
  it('creates warmSlots slot target groups with TargetGroup\'s health checks and attributes', () => {
    const slots = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::TargetGroup');
    expect(slots.map(([id]) => id).sort()).toEqual(['TargetGroup', 'WarmSlot2', 'WarmSlot3']);
    for (const id of ['WarmSlot2', 'WarmSlot3']) {
      expect(get(id).Properties).toEqual(get('TargetGroup').Properties);
      expect(get(id).Condition).toBe('CreatePrivateLink');
    }
  });

  it('forwards the listener to every slot, TargetGroup weighted, the others at 0', () => {
    expect(get('Listener').Properties.DefaultActions).toEqual([
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: { Ref: 'TargetGroup' }, Weight: 1 },
            { TargetGroupArn: { Ref: 'WarmSlot2' }, Weight: 0 },
            { TargetGroupArn: { Ref: 'WarmSlot3' }, Weight: 0 },
          ],
        },
      },
    ]);
  });

  it('tells the sync function the mode, the listener and the slots', () => {
    const env = (get('SyncLambdaFunction').Properties.Environment as { Variables: Record<string, Json> }).Variables;
    expect(env.FAILOVER_MODE).toBe('warm');
    expect(env.WARM_LISTENER_ARN).toEqual({ 'Fn::If': ['CreatePrivateLink', { Ref: 'Listener' }, { Ref: 'AWS::NoValue' }] });
    expect(env.WARM_SLOT_TARGET_GROUP_ARNS).toEqual({
      'Fn::If': ['CreatePrivateLink', { 'Fn::Join': [',', [{ Ref: 'TargetGroup' }, { Ref: 'WarmSlot2' }, { Ref: 'WarmSlot3' }]] }, { Ref: 'AWS::NoValue' }],
    });
  });

  it('allows ModifyListener on our listener only, and register/deregister on our slots only', () => {
    const policies = get('SyncRole').Properties.Policies as Json[];
    const statements = JSON.stringify(policies);
    const all = policies.flatMap((p) => ((p as { PolicyDocument?: { Statement: { Sid?: string; Resource: Json }[] } }).PolicyDocument?.Statement ?? []));
    expect(all).toContainEqual({
      Sid: 'WeightOwnListener',
      Effect: 'Allow',
      Action: 'elasticloadbalancing:ModifyListener',
      Resource: [{ 'Fn::If': ['CreatePrivateLink', { Ref: 'Listener' }, { Ref: 'AWS::NoValue' }] }],
    });
    expect(all).toContainEqual({
      Sid: 'ReadFailoverCandidates',
      Effect: 'Allow',
      Action: 'rds:DescribeDBClusters',
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:cluster:mycluster' },
    });
    expect(statements.match(/ModifyListener/g)).toHaveLength(1);
    const manage = all.find((st) => st.Sid === 'ManageTargetsOfConfiguredTargetGroups');
    const own = (id: string) => ({ 'Fn::If': ['CreatePrivateLink', { Ref: id }, { Ref: 'AWS::NoValue' }] });
    expect(manage?.Resource).toEqual([own('TargetGroup'), own('WarmSlot2'), own('WarmSlot3')]);
  });

  it('alarms on the NLB\'s own view when no slot has a healthy target: MAX over every slot\'s HealthyHostCount', () => {
    const alarm = get('NlbHealthyHostsAlarm');
    expect(alarm.Condition).toBe('CreatePrivateLink');
    const props = alarm.Properties;
    // The single-metric form is gone; metric math takes its place.
    for (const key of ['Namespace', 'MetricName', 'Dimensions', 'Statistic', 'Period']) expect(props[key], key).toEqual({ Ref: 'AWS::NoValue' });
    expect(props).toMatchObject({ ComparisonOperator: 'LessThanThreshold', Threshold: 1, TreatMissingData: 'breaching', EvaluationPeriods: 11, DatapointsToAlarm: 11 });
    const slot = (id: string, n: number) => ({
      Id: `slot${n}`,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/NetworkELB',
          MetricName: 'HealthyHostCount',
          Dimensions: [
            { Name: 'LoadBalancer', Value: { 'Fn::GetAtt': ['LoadBalancer', 'LoadBalancerFullName'] } },
            { Name: 'TargetGroup', Value: { 'Fn::GetAtt': [id, 'TargetGroupFullName'] } },
          ],
        },
        Period: 60,
        Stat: 'Maximum',
      },
      ReturnData: false,
    });
    expect(props.Metrics).toEqual([
      slot('TargetGroup', 1),
      slot('WarmSlot2', 2),
      slot('WarmSlot3', 3),
      { Id: 'anySlot', Expression: 'MAX([slot1, slot2, slot3])', Label: 'healthy hosts, most of any slot', ReturnData: true },
    ]);
  });

  it('shows each slot\'s NLB health and the weighted slot on the dashboard', () => {
    const [body, vars] = (get('Dashboard').Properties.DashboardBody as { 'Fn::Sub': [string, Record<string, Json>] })['Fn::Sub'];
    const guarded = (id: string, attribute: string) => ({ 'Fn::If': ['CreatePrivateLink', { 'Fn::GetAtt': [id, attribute] }, 'none'] });
    expect(vars).toEqual({
      WarmNlbFullName: guarded('LoadBalancer', 'LoadBalancerFullName'),
      WarmSlot1FullName: guarded('TargetGroup', 'TargetGroupFullName'),
      WarmSlot2FullName: guarded('WarmSlot2', 'TargetGroupFullName'),
      WarmSlot3FullName: guarded('WarmSlot3', 'TargetGroupFullName'),
    });
    // Every ${...} is a variable, a resource of the stack, or a pseudo parameter.
    for (const [, name] of body.matchAll(/\$\{([^!}][^}]*)\}/g)) {
      if (name?.startsWith('AWS::') || (name ?? '') in vars) continue;
      expect(resources[(name ?? '').split('.')[0] ?? ''], name).toBeDefined();
    }
    const widgets = (JSON.parse(body) as { widgets: { type: string; properties: { title: string; metrics?: Json[][]; query?: string } }[] }).widgets;
    const health = widgets.find((w) => w.properties.title === 'Warm standby: healthy hosts per slot (NLB view)');
    expect(health?.properties.metrics).toEqual(
      [1, 2, 3].map((n) => [
        'AWS/NetworkELB', 'HealthyHostCount', 'LoadBalancer', '${WarmNlbFullName}', 'TargetGroup', `\${WarmSlot${n}FullName}`,
        { stat: 'Maximum', label: `slot ${n} (${n === 1 ? 'TargetGroup' : `WarmSlot${n}`})` },
      ]),
    );
    // No CloudWatch metric carries listener weights: the weighted slot is the sync run line's warm field.
    const weighted = widgets.find((w) => w.properties.title === 'Warm standby: weighted slot per sync run');
    expect(weighted?.properties.query).toContain("filter message = 'sync run' and ispresent(mappings.0.warm.reason)");
    expect(weighted?.properties.query).toContain('mappings.0.warm.weightedSlot,');
  });

  it('passes cfn-lint (no errors, no warnings but the framework\'s W3005)', async (ctx) => {
    const findings = await cfnLintFindings(templateFile);
    if (!findings) return ctx.skip();
    expect(findings).toEqual([]);
  }, 90_000);
});


describe('failoverMode deploy parameter', () => {
  const privateLink = {
    rdsEndpoint: 'mycluster.cluster-abc.eu-west-1.rds.amazonaws.com',
    targetPort: '5432',
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
    failoverMode: 'warm',
    warmSlots: 3,
  };

  it('accepts a cluster writer endpoint behind a created NLB', () => {
    expect(failureOf(privateLink)).toBe('');
    expect(deriveDeployConfig(privateLink).failoverMode).toBe('warm');
  });

  it('stays cold by default: one target group, no warm policy', () => {
    const cold = deriveDeployConfig({ ...privateLink, failoverMode: '' });
    expect(cold.listenerDefaultActions).toEqual([{ Type: 'forward', TargetGroupArn: { Ref: 'TargetGroup' } }]);
    expect(JSON.stringify(cold.syncReadPolicy)).not.toContain('ModifyListener');
    expect((cold.syncEnvironment as Record<string, Json>).FAILOVER_MODE).toBeUndefined();
  });

  it.each([
    ['without createPrivateLink', { createPrivateLink: 'false', targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/a/0123456789abcdef', endpointServiceIds: 'vpce-svc-0123456789abcdef0' }, /failoverMode: warm needs createPrivateLink=true/],
    ['for a single instance', { rdsEndpoint: 'mydb.abc.eu-west-1.rds.amazonaws.com' }, /failoverMode: warm needs the cluster writer endpoint .* not a instance endpoint: a single instance or a Multi-AZ instance deployment has no standby/],
    ['for a reader endpoint', { rdsEndpoint: 'mycluster.cluster-ro-abc.eu-west-1.rds.amazonaws.com' }, /not a reader endpoint: reader and custom endpoints are member sets already/],
    ['with one slot', { warmSlots: 1 }, /warmSlots: must be a whole number from 2 to 5/],
    ['with six slots', { warmSlots: 6 }, /warmSlots: must be a whole number from 2 to 5/],
    ['with an unknown mode', { failoverMode: 'hot' }, /failoverMode: must be cold or warm/],
  ])('refuses warm %s, naming why', (_name, change, message) => {
    expect(failureOf({ ...privateLink, ...change })).toMatch(message);
  });
});
