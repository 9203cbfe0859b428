// One example stage of serverless.yml packaged offline, for the template tests of a single mode
// (warm-template, multi-db-template): the compiled resources, cfn-lint on them, and the deploy
// parameters' refusals (deploy/params.cjs).
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface Resource {
  Type: string;
  Condition?: string;
  Properties: Record<string, Json>;
}

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const serverlessBin = path.join(root, 'node_modules', 'osls', 'bin', 'serverless.js');

export interface Output {
  Condition?: string;
  Description?: string;
  Value: Json;
}

/** `serverless package --stage <stage>` into .serverless-test/<dir>: the compiled template's file, resources and outputs. */
export async function packageStage(stage: string, dir: string): Promise<{ templateFile: string; resources: Record<string, Resource>; outputs: Record<string, Output> }> {
  const outDir = path.join(root, '.serverless-test', dir);
  rmSync(outDir, { recursive: true, force: true });
  const env = { ...process.env, AWS_ACCESS_KEY_ID: 'dummy', AWS_SECRET_ACCESS_KEY: 'dummy', AWS_PROFILE: undefined, SLS_TELEMETRY_DISABLED: '1' };
  await exec(process.execPath, [serverlessBin, 'package', '--stage', stage, '--package', outDir], { cwd: root, env, timeout: 90_000 });
  const templateFile = path.join(outDir, 'cloudformation-template-update-stack.json');
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as { Resources: Record<string, Resource>; Outputs: Record<string, Output> };
  return { templateFile, resources: template.Resources, outputs: template.Outputs };
}

/**
 * cfn-lint's findings on a template, but the framework's W3005; undefined when cfn-lint is not
 * installed (then the caller skips, unless REQUIRE_CFN_LINT=1, which throws here).
 */
export async function cfnLintFindings(templateFile: string): Promise<string[] | undefined> {
  const available = await exec('cfn-lint', ['--version']).then(
    () => true,
    () => false,
  );
  if (!available) {
    if (process.env.REQUIRE_CFN_LINT === '1') throw new Error('cfn-lint is not installed, and REQUIRE_CFN_LINT=1');
    return undefined;
  }
  const { stdout } = await exec('cfn-lint', ['--format', 'parseable', '--', templateFile], { timeout: 60_000 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  return stdout.split('\n').filter((line) => line && !/:W3005:'(Sync|Accept)Role' dependency already enforced/.test(line));
}

const load = createRequire(import.meta.url);
export const { deriveDeployConfig } = load('../../deploy/params.cjs') as { deriveDeployConfig: (raw: Record<string, unknown>) => Record<string, Json> };

/** deriveDeployConfig's refusal message, or '' when it accepts the parameters. */
export function failureOf(raw: Record<string, unknown>): string {
  try {
    deriveDeployConfig(raw);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}
