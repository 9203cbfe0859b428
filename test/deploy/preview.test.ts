// `serverless preview` (deploy/preview.cjs): its offline part, the change set's changes as the
// operator reads them. Creating the change set needs AWS credentials: never in tests.
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

interface Row {
  action: string;
  logicalId: string;
  type: string;
  replacement: string;
  details: string[];
}
interface Command {
  constructor: { name: string };
  input: Record<string, unknown>;
}
interface PreviewPlugin {
  pollMs: number;
  write: (text: string) => void;
  clients: (provider: unknown) => Promise<unknown>;
  hooks: Record<string, () => Promise<void>>;
}
const load = createRequire(import.meta.url);
const Preview = load('../../deploy/preview.cjs') as (new (serverless: unknown, options: unknown) => PreviewPlugin) & {
  changeRows: (changes: unknown[]) => Row[];
  renderChanges: (stackName: string, rows: Row[]) => string;
};
const { changeRows, renderChanges } = Preview;
// The command classes of the SDK copy osls's clients come from (what the plugin uses).
const fromOsls = (name: string) => load(load.resolve(name, { paths: [path.dirname(load.resolve('osls/package.json'))] })) as Record<string, unknown>;

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

describe('serverless preview, its AWS conversation (fake clients; no AWS in tests)', () => {
  /** A fake osls around the plugin: the package step yields `template`; CloudFormation answers from `answers`. */
  function setUp(template: object, answers: Record<string, unknown>[]) {
    const sent: Command[] = [];
    const fake = (failOn?: string) => ({
      send: async (command: Command) => {
        sent.push(command);
        if (command.constructor.name === failOn) throw new Error('AccessDenied');
        if (command.constructor.name === 'DescribeChangeSetCommand') return answers.shift();
        return {};
      },
      destroy: () => undefined,
    });
    const provider = {
      naming: { getStackName: () => 'rds-nlb-sync-prod' },
      getStage: () => 'prod',
      getRegion: () => 'eu-west-1',
      getServerlessDeploymentBucketName: async () => 'rds-nlb-sync-prod-serverlessdeploymentbucket-1a2b3c',
    };
    const spawned: string[] = [];
    const guard = { constructor: { name: 'ParameterGuard' }, options: {} as Record<string, unknown> };
    const serverless = {
      getProvider: () => provider,
      service: { service: 'rds-nlb-sync', provider: { compiledCloudFormationTemplate: template } },
      pluginManager: { plugins: [guard], spawn: async (name: string) => void spawned.push(name) },
      classes: { Error },
    };
    const preview = new Preview(serverless, {});
    const out: string[] = [];
    preview.pollMs = 0;
    preview.write = (text) => void out.push(text);
    const clients = (failOn?: string) => {
      preview.clients = async () => ({ cloudFormation: fake(failOn), s3: fake(), cfn: fromOsls('@aws-sdk/client-cloudformation'), s3sdk: fromOsls('@aws-sdk/client-s3') });
    };
    clients();
    return { preview, sent, out, spawned, guard, clients, names: () => sent.map((c) => c.constructor.name) };
  }
  const big = { Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: { DisplayName: 'x'.repeat(60_000) } } } };

  it('packages, uploads a template over 51,200 bytes, waits for the change set, prints it, then deletes the change set and the upload', async () => {
    const t = setUp(big, [
      { Status: 'CREATE_PENDING' },
      { Status: 'CREATE_COMPLETE', Changes: [change('Add', 'ProbeAlarm', 'AWS::CloudWatch::Alarm')], NextToken: 'page-2' },
      { Status: 'CREATE_COMPLETE', Changes: [change('Remove', 'DbIngressFromNlb', 'AWS::EC2::SecurityGroupIngress')] },
    ]);

    await t.preview.hooks['preview:run']!();

    expect(t.spawned).toEqual(['package']);
    expect(t.guard.options['confirm-parameter-changes']).toBe(true); // the guard reports, it does not stop a preview
    expect(t.names()).toEqual([
      'PutObjectCommand',
      'CreateChangeSetCommand',
      'DescribeChangeSetCommand',
      'DescribeChangeSetCommand',
      'DescribeChangeSetCommand',
      'DeleteChangeSetCommand',
      'DeleteObjectCommand',
    ]);
    const create = t.sent[1]!.input;
    expect(create).toMatchObject({ StackName: 'rds-nlb-sync-prod', ChangeSetType: 'UPDATE', Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'] });
    expect(create.TemplateURL).toMatch(/^https:\/\/rds-nlb-sync-prod-serverlessdeploymentbucket-1a2b3c\.s3\.eu-west-1\.amazonaws\.com\/serverless\/rds-nlb-sync\/prod\/preview\/rds-nlb-sync-preview-\d+\.json$/);
    expect(create.TemplateBody).toBeUndefined();
    expect(t.sent[6]!.input.Key).toBe(t.sent[0]!.input.Key);
    expect(t.out.join('')).toContain('2 resource change(s) in stack rds-nlb-sync-prod (nothing deployed):\n  Remove  DbIngressFromNlb');
  });

  it('says "would not change" when CloudFormation finds no changes, sending a small template inline', async () => {
    const t = setUp({ Resources: {} }, [{ Status: 'FAILED', StatusReason: "The submitted information didn't contain changes. Submit different information to create a change set." }]);

    await t.preview.hooks['preview:run']!();

    expect(t.names()).toEqual(['CreateChangeSetCommand', 'DescribeChangeSetCommand', 'DeleteChangeSetCommand']);
    expect(t.sent[0]!.input.TemplateBody).toBe('{"Resources":{}}');
    expect(t.out.join('')).toBe('serverless preview: stack rds-nlb-sync-prod would not change.\n');
  });

  it('fails with CloudFormation\'s reason, and still deletes the change set and the upload', async () => {
    const t = setUp(big, [{ Status: 'FAILED', StatusReason: 'Parameters: [VpcId] must have values' }]);

    await expect(t.preview.hooks['preview:run']!()).rejects.toThrow('CloudFormation could not build the change set: Parameters: [VpcId] must have values');
    expect(t.names().slice(-2)).toEqual(['DeleteChangeSetCommand', 'DeleteObjectCommand']);
  });

  it('deletes nothing it did not create when the change set is refused', async () => {
    const t = setUp({ Resources: {} }, []);
    t.clients('CreateChangeSetCommand');

    await expect(t.preview.hooks['preview:run']!()).rejects.toThrow('AccessDenied');
    expect(t.names()).toEqual(['CreateChangeSetCommand']);
  });
});
