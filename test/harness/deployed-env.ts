// serverless.yml as the framework resolves it for a stage and a set of --param values, read with
// `serverless print` (offline, no credentials): the local run, the integration tests and the
// benchmark use exactly what a deploy would, not a hand-copied imitation.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

interface PrintedFunction {
  environment?: Record<string, unknown>;
  memorySize?: number;
  events?: { schedule?: { rate?: string | string[] } }[];
}

export interface PrintedConfig {
  provider: { environment?: Record<string, unknown>; memorySize?: number; architecture?: string };
  custom?: { esbuild?: Record<string, unknown> };
  functions: Record<string, PrintedFunction>;
}

export interface DeployedEnv {
  sync: Record<string, string>;
  accept: Record<string, string>;
}

const run = promisify(execFile);

export async function printServerless(params: Record<string, string>, stage = 'local'): Promise<PrintedConfig> {
  const args = ['serverless', 'print', '--stage', stage, '--format', 'json', ...Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${v}`])];
  const { stdout } = await run('npx', args, { cwd: new URL('../..', import.meta.url), maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as PrintedConfig;
}

/** The environment each function gets. */
export async function deployedEnv(params: Record<string, string>, stage = 'local'): Promise<DeployedEnv> {
  const config = await printServerless(params, stage);
  const envOf = (fn: string) => stringify({ ...config.provider.environment, ...config.functions[fn]?.environment });
  return { sync: envOf('sync'), accept: envOf('accept') };
}

function stringify(env: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}
