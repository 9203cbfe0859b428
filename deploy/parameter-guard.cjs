'use strict';
// The parameter guard: before `serverless deploy` (or `deploy function`) changes anything, the
// parameters this package records (Metadata.RdsNlbSync, see deploy/recorded-params.cjs) are
// compared with those recorded in the deployed stack's template. A recorded value this deploy
// would drop or change stops it, naming each, unless the operator confirms with
// --confirm-parameter-changes. Values given where none was recorded go through (and are listed).
//
// Where the deployed template comes from:
// - RDS_NLB_SYNC_DEPLOYED_TEMPLATE=<file>: a saved template or `aws cloudformation get-template`
//   answer (tests; or a check against a saved copy). With it, `serverless package` checks too.
// - otherwise, for deploy only, CloudFormation GetTemplate on the stage's stack (osls's own
//   client and credentials). `serverless package` stays offline: without the file it checks nothing.
// A stack that does not exist yet has nothing recorded. A read that fails stops the deploy
// (unknown is not "nothing recorded"), unless confirmed.
const fs = require('node:fs');
const path = require('node:path');
const process = require('node:process');
const { recordedIn, parameterChanges, isBlocking, describeChanges, METADATA_KEY } = require('./recorded-params.cjs');

const TEMPLATE_FILE_ENV = 'RDS_NLB_SYNC_DEPLOYED_TEMPLATE';
const CONFIRM_OPTION = 'confirm-parameter-changes';
const confirmOption = { usage: 'Deploy even where recorded deploy parameters would be dropped or changed (rds-nlb-sync)', type: 'boolean' };

class ParameterGuard {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.options = options;
    this.log = log ?? { notice: (text) => process.stderr.write(`${text}\n`), warning: (text) => process.stderr.write(`Warning: ${text}\n`) };
    this.commands = {
      deploy: { options: { [CONFIRM_OPTION]: confirmOption }, commands: { function: { options: { [CONFIRM_OPTION]: confirmOption } } } },
      package: { options: { [CONFIRM_OPTION]: confirmOption } },
    };
    this.checked = false;
    this.hooks = {
      // Before the build, so a refused deploy costs seconds; `deploy --package <dir>` skips the
      // package lifecycle and is checked on the template it is about to deploy.
      'before:package:initialize': () => this.check(this.ownParameters()),
      'before:deploy:deploy': () => (this.options.package ? this.check(this.packagedParameters(this.options.package)) : undefined),
      'before:deploy:function:initialize': () => this.check(this.ownParameters()),
    };
  }

  command() {
    return (this.serverless.processedInput?.commands ?? []).join(' ');
  }

  ownParameters() {
    return this.serverless.service.custom?.deploy?.stackMetadata?.[METADATA_KEY]?.Parameters;
  }

  packagedParameters(dir) {
    const file = path.resolve(this.serverless.serviceDir ?? '.', dir, 'cloudformation-template-update-stack.json');
    return JSON.parse(fs.readFileSync(file, 'utf8')).Metadata?.[METADATA_KEY]?.Parameters;
  }

  stackName() {
    return this.serverless.getProvider('aws').naming.getStackName();
  }

  /** The deployed template: from the file, from CloudFormation, or null (no stack yet). */
  async deployedTemplate() {
    const file = process.env[TEMPLATE_FILE_ENV];
    if (file) return JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!this.command().startsWith('deploy') && this.command() !== 'preview') return undefined; // package: offline
    const provider = this.serverless.getProvider('aws');
    const client = await provider.getCloudFormationClient();
    const { GetTemplateCommand } = require(require.resolve('@aws-sdk/client-cloudformation', { paths: [path.dirname(require.resolve('osls/package.json'))] }));
    try {
      return await client.send(new GetTemplateCommand({ StackName: this.stackName(), TemplateStage: 'Original' }));
    } catch (error) {
      if (/does not exist/.test(String(error?.message))) return null;
      throw error;
    }
  }

  async check(parameters) {
    if (this.checked) return;
    this.checked = true;
    const confirmed = Boolean(this.options[CONFIRM_OPTION]);
    let template;
    try {
      template = await this.deployedTemplate();
    } catch (error) {
      if (confirmed) {
        this.log.warning(`could not read the deployed stack's recorded parameters (${error.message}); going on: --${CONFIRM_OPTION}`);
        return;
      }
      throw new this.serverless.classes.Error(
        `Cannot read the parameters recorded with stack ${this.stackName()} (${error.message}), so this deploy cannot tell which it would drop or change. ` +
          `Retry, or deploy with --${CONFIRM_OPTION} to go on without the check.`,
      );
    }
    if (template === undefined) return;
    if (template === null) {
      this.log.notice(`rds-nlb-sync: stack ${this.stackName()} does not exist yet: no recorded parameters to compare.`);
      return;
    }
    if (!parameters) throw new this.serverless.classes.Error(`rds-nlb-sync: this package records no parameters (custom.deploy.stackMetadata is missing)`);
    const recorded = recordedIn(template);
    const changes = parameterChanges(recorded.parameters, parameters);
    // A stack packaged before parameters were recorded holds only its stack parameters: compare those.
    const relevant = recorded.source === 'metadata' ? changes : changes.filter((c) => c.name in recorded.parameters);
    const blocking = relevant.filter(isBlocking);
    const from = recorded.source === 'metadata' ? `recorded with stack ${this.stackName()}` : `of stack ${this.stackName()} (its stack parameters; deployed before parameters were recorded)`;
    if (relevant.length > 0) this.log.notice(`rds-nlb-sync: deploy parameters ${from} -> this deploy:\n  ${describeChanges(relevant).join('\n  ')}`);
    if (blocking.length === 0) return;
    if (confirmed) {
      this.log.warning(`deploying with ${blocking.length} recorded parameter(s) dropped or changed (--${CONFIRM_OPTION}): ${blocking.map((c) => c.name).join(', ')}`);
      return;
    }
    throw new this.serverless.classes.Error(
      `This deploy would drop or change deploy parameters ${from}:\n  ${describeChanges(blocking).join('\n  ')}\n` +
        `Give them again (a params.${this.serverless.getProvider('aws').getStage()} block in serverless.yml, or --param name=value), ` +
        `or confirm the change with --${CONFIRM_OPTION}. docs/deploy.md: "Parameters that persist".`,
    );
  }
}

module.exports = ParameterGuard;
module.exports.TEMPLATE_FILE_ENV = TEMPLATE_FILE_ENV;
