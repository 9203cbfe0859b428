// `serverless preview` (deploy/preview.cjs): its offline part, the change set's changes as the
// operator reads them. Creating the change set needs AWS credentials: never in tests.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

interface Row {
  action: string;
  logicalId: string;
  type: string;
  replacement: string;
  details: string[];
}
const { changeRows, renderChanges } = createRequire(import.meta.url)('../../deploy/preview.cjs') as {
  changeRows: (changes: unknown[]) => Row[];
  renderChanges: (stackName: string, rows: Row[]) => string;
};

// Shaped like DescribeChangeSet's Changes (CloudFormation API reference, ResourceChange).
const change = (Action: string, LogicalResourceId: string, ResourceType: string, Replacement?: string, names: string[] = []) => ({
  Type: 'Resource',
  ResourceChange: {
    Action,
    LogicalResourceId,
    ResourceType,
    ...(Replacement ? { Replacement } : {}),
    Details: names.map((Name) => ({ Target: { Attribute: 'Properties', Name, RequiresRecreation: 'Never' }, Evaluation: 'Static', ChangeSource: 'DirectModification' })),
  },
});

describe('serverless preview', () => {
  it('lists removals and replacements first, then additions and modifications, naming the properties', () => {
    const rows = changeRows([
      change('Modify', 'SyncLambdaFunction', 'AWS::Lambda::Function', 'False', ['Code', 'Environment']),
      change('Add', 'ProbeAlarm', 'AWS::CloudWatch::Alarm'),
      change('Remove', 'DbIngressFromNlb', 'AWS::EC2::SecurityGroupIngress'),
      change('Modify', 'LoadBalancer', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'True', ['SecurityGroups']),
    ]);

    expect(rows.map((r) => r.logicalId)).toEqual(['DbIngressFromNlb', 'LoadBalancer', 'ProbeAlarm', 'SyncLambdaFunction']);
    expect(rows[3]?.details).toEqual(['Code', 'Environment']);
  });

  it('says loudly when the NLB would be replaced, and says when nothing would change', () => {
    const text = renderChanges('rds-nlb-sync-prod', changeRows([change('Modify', 'LoadBalancer', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'True', ['SecurityGroups'])]));

    expect(text).toContain('Modify  LoadBalancer (AWS::ElasticLoadBalancingV2::LoadBalancer) REPLACED (new physical resource): SecurityGroups');
    expect(text).toContain('the service name Fivetran holds go with it');
    expect(renderChanges('rds-nlb-sync-prod', changeRows([]))).toBe('serverless preview: stack rds-nlb-sync-prod would not change.');
  });
});
