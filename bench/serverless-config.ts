// What the bench needs from serverless.yml, as the framework resolves it (`serverless print` of
// the example stage, the same reader the local run and the tests use): the sync function's
// memory, its schedule, its timeout and SCHEDULE_INTERVAL_SECONDS, the architecture, and whether `custom.esbuild` says what BUILD_OPTIONS says.
import { printServerless } from '../test/harness/deployed-env.js';
import { BUILD_OPTIONS } from './build-options.js';

/** Lambda's own default when neither the function nor the provider sets one. */
const LAMBDA_DEFAULT_MEMORY_MB = 128;

export interface ServerlessFacts {
  memoryMb: number;
  /** Where memoryMb came from. */
  memorySource: string;
  syncSchedule: string;
  /** functions.sync.timeout, seconds (deploy/params.cjs sizes it): the deadline of each run. */
  syncTimeoutSeconds: number;
  /** The SCHEDULE_INTERVAL_SECONDS the sync function gets (derived from its schedule). */
  scheduleIntervalSeconds: number;
  /** provider.architecture (Lambda's default: x86_64); it sets the price per GB-second. */
  architecture: 'arm64' | 'x86_64';
  /** custom.esbuild keys that differ from BUILD_OPTIONS ([] = in sync). */
  esbuildDrift: string[];
}

export async function readServerlessFacts(): Promise<ServerlessFacts> {
  const config = await printServerless({}, 'example');
  const sync = config.functions.sync;
  const [memoryMb, memorySource] =
    sync?.memorySize !== undefined
      ? [sync.memorySize, 'serverless.yml functions.sync.memorySize']
      : config.provider.memorySize !== undefined
        ? [config.provider.memorySize, 'serverless.yml provider.memorySize']
        : [LAMBDA_DEFAULT_MEMORY_MB, `Lambda's default ${LAMBDA_DEFAULT_MEMORY_MB} MB (serverless.yml sets none)`];
  const rate = sync?.events?.find((e) => e.schedule)?.schedule?.rate;
  const { timeout } = (sync ?? {}) as { timeout?: number };
  const env = { ...config.provider.environment, ...sync?.environment };
  if (typeof timeout !== 'number') throw new Error('serverless print: functions.sync.timeout is not a number');
  return {
    memoryMb,
    memorySource,
    syncSchedule: (Array.isArray(rate) ? rate[0] : rate) ?? 'rate(1 minute)',
    syncTimeoutSeconds: timeout,
    scheduleIntervalSeconds: Number(env.SCHEDULE_INTERVAL_SECONDS ?? 60),
    architecture: config.provider.architecture === 'arm64' ? 'arm64' : 'x86_64',
    esbuildDrift: esbuildDrift(config.custom?.esbuild ?? {}),
  };
}

function esbuildDrift(esbuild: Record<string, unknown>): string[] {
  const sorted = (v: unknown) => (Array.isArray(v) ? [...(v as string[])].sort().join(',') : '');
  const expected: Record<string, unknown> = {
    bundle: BUILD_OPTIONS.bundle,
    minify: BUILD_OPTIONS.minify,
    treeShaking: BUILD_OPTIONS.treeShaking,
    sourcemap: BUILD_OPTIONS.sourcemap,
    platform: BUILD_OPTIONS.platform,
    target: BUILD_OPTIONS.target,
    format: BUILD_OPTIONS.format,
    outputFileExtension: BUILD_OPTIONS.outExtension['.js'],
    mainFields: BUILD_OPTIONS.mainFields.join(','),
    'external + exclude': sorted(BUILD_OPTIONS.external),
    'banner.js': BUILD_OPTIONS.banner.js,
    plugins: BUILD_OPTIONS.plugins.length > 0,
  };
  const actual: Record<string, unknown> = {
    ...Object.fromEntries(Object.keys(expected).map((k) => [k, esbuild[k]])),
    mainFields: (esbuild.mainFields as string[] | undefined)?.join(','),
    'external + exclude': sorted([...((esbuild.external as string[] | undefined) ?? []), ...((esbuild.exclude as string[] | undefined) ?? [])]),
    'banner.js': (esbuild.banner as { js?: string } | undefined)?.js,
    plugins: Boolean(esbuild.plugins),
  };
  return Object.keys(expected).filter((k) => expected[k] !== actual[k]);
}
