// Bundle size of each function: minified bundle and gzip, built with the deployed options
// (BUILD_OPTIONS) and with the alternatives in VARIANTS, plus what each package contributes.
// The deployment zip is measured on what `npm run package` writes (bench/package.ts). Also a "hand-written Lambda" reference: ELBv2 + CloudWatch + middy only.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { BUILD_OPTIONS, FUNCTIONS, VARIANTS, type FunctionName, type VariantName } from './build-options.js';
import { progress } from './stats.js';

export const ROOT = new URL('..', import.meta.url).pathname;
/**
 * Bundles and scratch files: under node_modules, so that a bundle with an external SDK resolves
 * the packages as in Lambda, and so that git, tsc and eslint never see them.
 */
export const OUT = join(ROOT, 'node_modules', '.cache', 'rds-nlb-sync-bench');

/** Node takes no package scope from above a node_modules folder: say that these .js files are ESM. */
export async function prepareOut(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  await writeFile(join(OUT, 'package.json'), '{ "type": "module", "private": true }\n');
}

export interface BundleResult {
  fn: FunctionName | 'reference';
  variant: VariantName;
  /** Repo-relative path of the written bundle (cold-start input). */
  file: string;
  minifiedBytes: number;
  gzipBytes: number;
  /** Bundled bytes per package (top 8) and for our own code. */
  breakdown: Record<string, number>;
  /** The bundle still calls require() (needs the createRequire banner). */
  usesRequire: boolean;
  buildMs: number;
}

// What a hand-written sync Lambda needs at least: the two clients, three commands, middy.
const REFERENCE = `
import middy from '@middy/core';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
const elb = new ElasticLoadBalancingV2Client({});
const cloudwatch = new CloudWatchClient({});
export const handler = middy(async () => {
  const TargetGroupArn = process.env.TARGET_GROUP_ARN;
  const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn }));
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn, Targets: [] }));
  await cloudwatch.send(new PutMetricDataCommand({ Namespace: 'Reference', MetricData: [] }));
  return health;
});
`;

export async function measureBundle(fn: FunctionName | 'reference', variant: VariantName): Promise<BundleResult> {
  const started = performance.now();
  const entry: Pick<BuildOptions, 'entryPoints' | 'stdin'> =
    fn === 'reference' ? { stdin: { contents: REFERENCE, resolveDir: ROOT, sourcefile: 'reference.ts', loader: 'ts' } } : { entryPoints: [join(ROOT, FUNCTIONS[fn])] };
  const result = await build({
    ...BUILD_OPTIONS,
    ...VARIANTS[variant],
    ...entry,
    absWorkingDir: ROOT,
    outdir: join(OUT, 'bundles', variant, 'functions'),
    write: false,
    metafile: true,
    logLevel: 'silent',
  } as BuildOptions);
  const buildMs = performance.now() - started;
  const output = result.outputFiles?.find((f) => f.path.endsWith('.mjs'));
  if (!output) throw new Error(`esbuild wrote no .mjs for ${fn} (${variant})`);
  const path = fn === 'reference' ? join(dirname(output.path), 'reference.mjs') : output.path;
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, output.contents);
  return {
    fn,
    variant,
    file: relative(ROOT, path),
    minifiedBytes: output.contents.length,
    gzipBytes: gzipSync(output.contents).length,
    breakdown: packageBreakdown(result.metafile),
    usesRequire: /\brequire\(/.test(output.text.replace(/^import \{ createRequire[^\n]*\n/, '')),
    buildMs: Math.round(buildMs),
  };
}

/** Bytes in the output per npm package ("our code" for lib/ and functions/), largest first. */
function packageBreakdown(metafile: Metafile | undefined): Record<string, number> {
  const totals = new Map<string, number>();
  for (const output of Object.values(metafile?.outputs ?? {})) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      const name = match?.[1] ?? 'our code';
      totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
    }
  }
  const sorted = [...totals.entries()].sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(sorted.slice(0, 8));
}

export async function runBundleBench(): Promise<BundleResult[]> {
  await prepareOut();
  const results: BundleResult[] = [];
  for (const fn of Object.keys(FUNCTIONS) as FunctionName[]) {
    for (const variant of Object.keys(VARIANTS) as VariantName[]) {
      const r = await measureBundle(fn, variant);
      progress(`bundle ${fn} (${variant}): ${(r.minifiedBytes / 1024).toFixed(1)} KB minified, ${(r.gzipBytes / 1024).toFixed(1)} KB gzip`);
      results.push(r);
    }
  }
  results.push(await measureBundle('reference', 'chosen'));
  return results;
}
