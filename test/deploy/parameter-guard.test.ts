// Parameters that persist: what a package records (deploy/recorded-params.cjs), how a deploy
// compares it with the deployed stack's record, and which commands need no parameters at all
// (deploy/params.cjs). The package runs of the guard are in template.test.ts (one build folder).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { motoOrSkip, startMoto, type Moto } from '../harness/index.js';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const serverlessBin = path.join(root, 'node_modules', 'osls', 'bin', 'serverless.js');
const load = createRequire(import.meta.url);

type Parameters = Record<string, string>;
interface Change {
  name: string;
  from: string;
  to: string;
  kind: 'dropped' | 'changed' | 'added';
  gone?: boolean;
}
const recorded = load('../../deploy/recorded-params.cjs') as {
  normalise: (value: unknown) => string;
  recordParameters: (raw: Record<string, unknown>) => Parameters;
  recordedIn: (template: unknown) => { source: 'metadata' | 'stack-parameters'; version?: string; parameters: Parameters };
  parameterChanges: (recorded: Parameters, current: Parameters) => Change[];
  isBlocking: (change: Change) => boolean;
  describeChanges: (changes: Change[]) => string[];
};
const params = load('../../deploy/params.cjs') as { commandOf: (args: string[]) => string; READ_ONLY_COMMANDS: string[] };

const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(root, 'test/deploy/fixtures', name), 'utf8'));

describe('recorded deploy parameters (deploy/recorded-params.cjs)', () => {
  it('records every parameter as text, lists joined and JSON compacted, so YAML and --param values compare equal', () => {
    const fromYaml = recorded.recordParameters({ subnetIds: ['subnet-a', 'subnet-b'], createPrivateLink: true, targetPort: 5432, syncMappings: [{ endpoint: 'db', port: 5432 }] });
    const fromCli = recorded.recordParameters({ subnetIds: 'subnet-a, subnet-b', createPrivateLink: 'true', targetPort: '5432', syncMappings: '[ {"endpoint": "db", "port": 5432} ]' });

    expect(fromYaml).toEqual(fromCli);
    expect(fromCli).toEqual({ createPrivateLink: 'true', subnetIds: 'subnet-a,subnet-b', syncMappings: '[{"endpoint":"db","port":5432}]', targetPort: '5432' });
  });

  it('reads the record from an `aws cloudformation get-template` answer (TemplateBody as a JSON string)', () => {
    const found = recorded.recordedIn(fixture('get-template-privatelink.json'));

    expect(found.source).toBe('metadata');
    expect(found.version).toBe('0.1.0');
    expect(found.parameters).toMatchObject({ dbSecurityGroupId: 'sg-0fedcba9876543210', createApiEndpoints: 'true' });
  });

  it('falls back to the stack parameters of a stack packaged before parameters were recorded', () => {
    const found = recorded.recordedIn({
      Parameters: { DbSecurityGroupId: { Type: 'String', Default: 'sg-0fedcba9876543210' }, ApiEndpoints: { Type: 'String', Default: 'true' }, Unrelated: { Type: 'String', Default: 'x' } },
      Resources: {},
    });

    expect(found).toEqual({ source: 'stack-parameters', version: undefined, parameters: { dbSecurityGroupId: 'sg-0fedcba9876543210', createApiEndpoints: 'true' } });
  });

  it('calls a recorded value left out "dropped", a different one "changed", a new one "added"; only the first two block', () => {
    const changes = recorded.parameterChanges(
      { dbSecurityGroupId: 'sg-1', createApiEndpoints: 'true', alarmEmail: '', logLevel: 'INFO', rdsSourceIds: 'db-1' },
      { dbSecurityGroupId: '', createApiEndpoints: 'false', alarmEmail: 'ops@example.com', logLevel: 'INFO' },
    );

    expect(changes).toEqual([
      { name: 'alarmEmail', from: '', to: 'ops@example.com', kind: 'added' },
      { name: 'createApiEndpoints', from: 'true', to: 'false', kind: 'changed' },
      { name: 'dbSecurityGroupId', from: 'sg-1', to: '', kind: 'dropped' },
      { name: 'rdsSourceIds', from: 'db-1', to: '', kind: 'dropped', gone: true },
    ]);
    expect(changes.filter(recorded.isBlocking).map((c) => c.name)).toEqual(['createApiEndpoints', 'dbSecurityGroupId', 'rdsSourceIds']);
    expect(recorded.describeChanges(changes)).toEqual([
      'alarmEmail: (not set) -> ops@example.com [added]',
      'createApiEndpoints: true -> false [changed]',
      'dbSecurityGroupId: sg-1 -> (not set) [dropped]',
      'rdsSourceIds: db-1 -> (no longer a deploy parameter) [dropped]',
    ]);
  });

  it('finds nothing to say when the same parameters are deployed again', () => {
    const same = recorded.recordedIn(fixture('get-template-privatelink.json')).parameters;

    expect(recorded.parameterChanges(same, { ...same })).toEqual([]);
  });
});

describe('commands that deploy nothing', () => {
  it('are told apart from the ones that package, as osls parses the command line', () => {
    const command = (line: string) => params.commandOf(line.split(' '));

    expect(command('info --stage prod')).toBe('info');
    expect(command('deploy list functions --stage prod')).toBe('deploy list functions');
    for (const line of ['info --stage prod', 'logs -f sync --stage prod', 'invoke -f sync --stage prod', 'remove --stage prod']) {
      expect(params.READ_ONLY_COMMANDS, line).toContain(command(line));
    }
    for (const line of ['package --stage prod', 'deploy --stage prod', 'deploy function -f sync', 'invoke local -f sync', 'print --stage prod']) {
      expect(params.READ_ONLY_COMMANDS, line).not.toContain(command(line));
    }
  });

  // The real CLI, offline: AWS_ENDPOINT_URL sends every AWS call to a closed port on 127.0.0.1,
  // so a command that got past the variable resolution fails there, on its first AWS call.
  it('info, logs, invoke and remove resolve a stage that has no parameters and go on to AWS; package and deploy still refuse it', async () => {
    const port = await closedPort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'dummy',
      AWS_SECRET_ACCESS_KEY: 'dummy',
      AWS_PROFILE: undefined,
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      SLS_AWS_REQUEST_MAX_RETRIES: '0',
      SLS_TELEMETRY_DISABLED: '1',
    };
    const run = (args: string[]) =>
      exec(process.execPath, [serverlessBin, ...args, '--stage', 'no-params-deployed'], { cwd: root, env, timeout: 180_000 }).then(
        ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
        (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
      );

    const [info, logs, invoke, remove, deploy] = await Promise.all([
      run(['info']),
      run(['logs', '-f', 'sync']),
      run(['invoke', '-f', 'sync', '--data', '{"dryRun":true}']),
      run(['remove']),
      run(['deploy']),
    ]);

    for (const [name, result] of Object.entries({ info, logs, invoke, remove })) {
      expect(result.output, name).not.toContain('Invalid deploy parameters');
      expect(result.output, name).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
      expect(result.code, name).toBe(1);
    }
    expect(deploy.output).toContain('Invalid deploy parameters');
    expect(deploy.output).toContain('- rdsEndpoint: required');
    expect(deploy.output).not.toContain('ECONNREFUSED');
  }, 200_000);
});

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// `serverless deploy` reads the deployed template from CloudFormation itself: here moto's, with a
// stack holding example-privatelink's record. The guard stops the deploy before anything is
// built or uploaded, so the refusal is the whole run.
describe.skipIf(!motoOrSkip())('serverless deploy against a deployed stack (moto CloudFormation)', () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  /** CreateStack through moto's query API (the CloudFormation SDK client is not a dependency here). */
  async function createStack(name: string, template: unknown): Promise<void> {
    const response = await fetch(moto.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/cloudformation/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: new URLSearchParams({ Action: 'CreateStack', Version: '2010-05-15', StackName: name, TemplateBody: JSON.stringify(template) }),
    });
    if (!response.ok) throw new Error(`moto CreateStack failed: HTTP ${response.status} ${await response.text()}`);
  }

  it('stops a deploy that would drop the dbSecurityGroupId recorded with the live stack, naming it', async () => {
    const deployed = JSON.parse((fixture('get-template-privatelink.json') as { TemplateBody: string }).TemplateBody) as { Resources: unknown };
    // moto creates what the template holds: one topic stands in for the stack's resources.
    await createStack('rds-nlb-sync-live', { ...deployed, Parameters: {}, Resources: { Topic: { Type: 'AWS::SNS::Topic' } } });
    const given = {
      createPrivateLink: 'true',
      rdsEndpoint: 'mycluster.cluster-abcdefghijkl.eu-west-1.rds.amazonaws.com',
      targetPort: '5432',
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
      securityGroupIds: 'sg-0123456789abcdef0',
      nlbSubnetIds: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002,subnet-0a1b2c3d4e5f60003',
      createApiEndpoints: 'true',
    };
    const args = ['deploy', '--stage', 'live', '--region', 'eu-west-1', ...Object.entries(given).flatMap(([k, v]) => ['--param', `${k}=${v}`])];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_PROFILE: undefined,
      AWS_ENDPOINT_URL: moto.endpoint,
      SLS_AWS_REQUEST_MAX_RETRIES: '0',
      SLS_TELEMETRY_DISABLED: '1',
    };

    const result = await exec(process.execPath, [serverlessBin, ...args], { cwd: root, env, timeout: 180_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
    );

    expect(result.output).toContain('This deploy would drop or change deploy parameters recorded with stack rds-nlb-sync-live:\n  dbSecurityGroupId: sg-0fedcba9876543210 -> (not set) [dropped]\n');
    expect(result.code).toBe(1);
  }, 200_000);
});

describe('the guard plugin (deploy/parameter-guard.cjs) with a fake osls', () => {
  interface Guard {
    hooks: Record<string, () => Promise<void> | undefined>;
  }
  const ParameterGuard = load('../../deploy/parameter-guard.cjs') as new (serverless: unknown, options: Record<string, unknown>, utils: unknown) => Guard;
  const recordedParameters = () => recorded.recordedIn(fixture('get-template-privatelink.json')).parameters;
  const notices: string[] = [];
  const log = { notice: (t: string) => void notices.push(t), warning: (t: string) => void notices.push(`Warning: ${t}`) };
  afterEach(() => {
    notices.length = 0;
  });

  /** osls as the plugin sees it: the command, this package's record, and CloudFormation's answer to GetTemplate. */
  function guardFor(command: string[], parameters: Parameters, options: Record<string, unknown>, getTemplate: () => Promise<unknown>) {
    const sent: string[] = [];
    const provider = {
      naming: { getStackName: () => 'rds-nlb-sync-prod' },
      getStage: () => 'prod',
      getCloudFormationClient: async () => ({
        send: async (c: { constructor: { name: string }; input: { StackName: string } }) => {
          sent.push(`${c.constructor.name} ${c.input.StackName}`);
          return getTemplate();
        },
      }),
    };
    const serverless = {
      processedInput: { commands: command },
      service: { custom: { deploy: { stackMetadata: { RdsNlbSync: { Version: '0.1.0', Parameters: parameters } } } } },
      serviceDir: root,
      getProvider: () => provider,
      classes: { Error },
    };
    return { guard: new ParameterGuard(serverless, options, { log }), sent };
  }
  const answer = { TemplateBody: (fixture('get-template-privatelink.json') as { TemplateBody: string }).TemplateBody };

  it('reads the live template before a deploy, and lets the same parameters through', async () => {
    const { guard, sent } = guardFor(['deploy'], recordedParameters(), {}, async () => answer);

    await guard.hooks['before:package:initialize']!();

    expect(sent).toEqual(['GetTemplateCommand rds-nlb-sync-prod']);
    expect(notices).toEqual([]);
  });

  it('lets the first deploy of a stage through (no stack yet), saying so', async () => {
    const { guard } = guardFor(['deploy'], { dbSecurityGroupId: '' }, {}, async () => {
      throw Object.assign(new Error('Stack with id rds-nlb-sync-prod does not exist'), { name: 'ValidationError' });
    });

    await guard.hooks['before:package:initialize']!();

    expect(notices).toEqual(['rds-nlb-sync: stack rds-nlb-sync-prod does not exist yet: no recorded parameters to compare.']);
  });

  it('stops a deploy when the stack cannot be read (unknown is not "nothing recorded"), unless confirmed', async () => {
    const denied = async () => {
      throw Object.assign(new Error('User is not authorized to perform: cloudformation:GetTemplate'), { name: 'AccessDenied' });
    };

    await expect(guardFor(['deploy'], recordedParameters(), {}, denied).guard.hooks['before:package:initialize']!()).rejects.toThrow(
      'Cannot read the parameters recorded with stack rds-nlb-sync-prod (User is not authorized to perform: cloudformation:GetTemplate)',
    );
    await expect(guardFor(['deploy'], recordedParameters(), { 'confirm-parameter-changes': true }, denied).guard.hooks['before:package:initialize']!()).resolves.toBeUndefined();
    expect(notices[0]).toMatch(/^Warning: could not read the deployed stack's recorded parameters/);
  });

  it('keeps `serverless package` offline: no CloudFormation call without a saved template', async () => {
    const { guard, sent } = guardFor(['package'], {}, {}, async () => answer);

    await guard.hooks['before:package:initialize']!();

    expect(sent).toEqual([]);
  });

  it('checks `deploy --package <dir>` on the template in that folder', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'guard-'));
    try {
      const parameters = { ...recordedParameters(), createApiEndpoints: 'false' };
      writeFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), JSON.stringify({ Metadata: { RdsNlbSync: { Parameters: parameters } } }));
      const { guard } = guardFor(['deploy'], recordedParameters(), { package: dir }, async () => answer);

      await expect(guard.hooks['before:deploy:deploy']!()).rejects.toThrow('createApiEndpoints: true -> false [changed]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
