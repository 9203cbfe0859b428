'use strict';
// `serverless preview --stage <stage>`: what `serverless deploy` would change in the stage's live
// stack, before anything changes. It packages (the parameter guard runs, reporting instead of
// stopping), uploads the template to the stage's deployment bucket, creates a CloudFormation
// change set from it, prints each change (replacements first), then deletes the change set and
// the uploaded template. Nothing is deployed. Needs AWS credentials that may read the stack,
// create and delete change sets, and write the deployment bucket.
// Pure parts (the change list and its text) are exported for the tests.
const { Buffer } = require('node:buffer');
const path = require('node:path');
const process = require('node:process');
const { setTimeout: sleep } = require('node:timers/promises');

// The template is larger than CreateChangeSet's TemplateBody limit (51,200 bytes): TemplateURL.
const TEMPLATE_BODY_LIMIT = 51200;
const POLL_MS = 3000;
const WAIT_MS = 5 * 60 * 1000;

/** DescribeChangeSet's Changes -> one row per resource, the replacements first. */
function changeRows(changes) {
  const rows = (changes ?? [])
    .map((c) => c.ResourceChange)
    .filter(Boolean)
    .map((rc) => ({
      action: rc.Action,
      logicalId: rc.LogicalResourceId,
      type: rc.ResourceType,
      replacement: rc.Replacement ?? '',
      // What changes: property names (Properties), or the attribute (Tags, Metadata, ...).
      details: [...new Set((rc.Details ?? []).map((d) => d.Target?.Name ?? d.Target?.Attribute).filter(Boolean))],
    }));
  const rank = (r) => (r.action === 'Remove' ? 0 : r.replacement === 'True' ? 1 : r.replacement === 'Conditional' ? 2 : r.action === 'Add' ? 3 : 4);
  return rows.sort((a, b) => rank(a) - rank(b) || a.logicalId.localeCompare(b.logicalId));
}

/** The rows as text for the terminal. */
function renderChanges(stackName, rows) {
  if (rows.length === 0) return `serverless preview: stack ${stackName} would not change.`;
  const lines = [`serverless preview: ${rows.length} resource change(s) in stack ${stackName} (nothing deployed):`];
  for (const r of rows) {
    const replace = r.replacement === 'True' ? ' REPLACED (new physical resource)' : r.replacement === 'Conditional' ? ' may be REPLACED' : '';
    lines.push(`  ${r.action.padEnd(7)} ${r.logicalId} (${r.type})${replace}${r.details.length > 0 ? `: ${r.details.join(', ')}` : ''}`);
  }
  if (rows.some((r) => r.type === 'AWS::ElasticLoadBalancingV2::LoadBalancer' && (r.replacement !== 'False' || r.action === 'Remove'))) {
    lines.push('  ! the NLB would be replaced or removed: the endpoint service and the service name Fivetran holds go with it.');
  }
  lines.push('Lambda functions show as Modify on every deploy that uploads new code (a new S3 key).');
  return lines.join('\n');
}

class Preview {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options;
    this.commands = {
      preview: {
        usage: 'Show what `serverless deploy` would change in the stage\'s stack (a CloudFormation change set, deleted afterwards)',
        lifecycleEvents: ['run'],
        options: {
          stage: { usage: 'Stage of the stack', shortcut: 's', type: 'string' },
          region: { usage: 'Region of the stack', shortcut: 'r', type: 'string' },
          'aws-profile': { usage: 'AWS profile', type: 'string' },
          param: { usage: 'Deploy parameter (name=value), as for deploy', type: 'multiple' },
        },
      },
    };
    this.hooks = { 'preview:run': () => this.run() };
    // Seams for the tests: the poll interval and where the result goes.
    this.pollMs = POLL_MS;
    this.write = (text) => process.stdout.write(text);
  }

  /** osls's own CloudFormation client and an S3 client with its credentials, and the SDK's command classes. */
  async clients(provider) {
    const sdk = (name) => require(require.resolve(name, { paths: [path.dirname(require.resolve('osls/package.json'))] }));
    const cfn = sdk('@aws-sdk/client-cloudformation');
    const s3sdk = sdk('@aws-sdk/client-s3');
    return { cloudFormation: await provider.getCloudFormationClient(), s3: new s3sdk.S3Client(await provider.getAwsSdkV3Config()), cfn, s3sdk };
  }

  async run() {
    const provider = this.serverless.getProvider('aws');
    const stackName = provider.naming.getStackName();
    // The guard reports what the package would do to the recorded parameters; it does not stop a preview.
    const guard = this.serverless.pluginManager.plugins.find((p) => p.constructor?.name === 'ParameterGuard');
    if (guard) guard.options['confirm-parameter-changes'] = true;
    await this.serverless.pluginManager.spawn('package');
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const body = JSON.stringify(template);

    const { cloudFormation: client, s3, cfn, s3sdk } = await this.clients(provider);
    const changeSetName = `rds-nlb-sync-preview-${Date.now()}`;
    let uploaded;
    let created = false;
    try {
      let templateSource = { TemplateBody: body };
      if (Buffer.byteLength(body) > TEMPLATE_BODY_LIMIT) {
        const bucket = await provider.getServerlessDeploymentBucketName();
        uploaded = { Bucket: bucket, Key: `serverless/${this.serverless.service.service}/${provider.getStage()}/preview/${changeSetName}.json` };
        await s3.send(new s3sdk.PutObjectCommand({ ...uploaded, Body: body, ContentType: 'application/json' }));
        templateSource = { TemplateURL: `https://${bucket}.s3.${provider.getRegion()}.amazonaws.com/${uploaded.Key}` };
      }
      await client.send(
        new cfn.CreateChangeSetCommand({
          StackName: stackName,
          ChangeSetName: changeSetName,
          ChangeSetType: 'UPDATE',
          Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
          ...templateSource,
        }),
      );
      created = true;
      const changes = [];
      let answer;
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        answer = await client.send(new cfn.DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
        if (!['CREATE_PENDING', 'CREATE_IN_PROGRESS'].includes(answer.Status)) break;
        if (Date.now() > deadline) throw new this.serverless.classes.Error(`change set ${changeSetName} still ${answer.Status} after ${WAIT_MS / 1000} s`);
        await sleep(this.pollMs);
      }
      // "The submitted information didn't contain changes": nothing to deploy.
      if (answer.Status === 'FAILED' && !/didn't contain changes|No updates/i.test(answer.StatusReason ?? '')) {
        throw new this.serverless.classes.Error(`CloudFormation could not build the change set: ${answer.StatusReason}`);
      }
      changes.push(...(answer.Changes ?? []));
      let token = answer.NextToken;
      while (token) {
        const page = await client.send(new cfn.DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName, NextToken: token }));
        changes.push(...(page.Changes ?? []));
        token = page.NextToken;
      }
      this.write(`${renderChanges(stackName, changeRows(changes))}\n`);
    } finally {
      // Cleanup that fails is said, not hidden: the operator can delete what is left by hand.
      const leftOver = (what) => (error) => process.stderr.write(`Warning: could not delete ${what} (${error.message}); delete it by hand\n`);
      if (created) await client.send(new cfn.DeleteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName })).catch(leftOver(`change set ${changeSetName}`));
      if (uploaded) await s3.send(new s3sdk.DeleteObjectCommand(uploaded)).catch(leftOver(`s3://${uploaded.Bucket}/${uploaded.Key}`));
      s3.destroy();
    }
  }
}

module.exports = Preview;
module.exports.changeRows = changeRows;
module.exports.renderChanges = renderChanges;
