// The environment serverless.yml gives each function for a set of --param values, read with
// `serverless print` (offline, no credentials): the local run and the integration tests use
// exactly what a deploy would set, not a hand-copied imitation.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface DeployedEnv {
  sync: Record<string, string>;
  accept: Record<string, string>;
}

interface PrintedConfig {
  provider: { environment?: Record<string, unknown> };
  functions: Record<string, { environment?: Record<string, unknown> }>;
}

const run = promisify(execFile);

export async function deployedEnv(params: Record<string, string>, stage = 'local'): Promise<DeployedEnv> {
  const args = ['serverless', 'print', '--stage', stage, '--format', 'json', ...Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${v}`])];
  const { stdout } = await run('npx', args, { cwd: new URL('../..', import.meta.url), maxBuffer: 16 * 1024 * 1024 });
  const config = JSON.parse(stdout) as PrintedConfig;
  const envOf = (fn: string) => stringify({ ...config.provider.environment, ...config.functions[fn]?.environment });
  return { sync: envOf('sync'), accept: envOf('accept') };
}

function stringify(env: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}
