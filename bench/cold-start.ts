// Cold start: in fresh node processes, the time to import a handler and complete its first
// invoke against a fake AWS on 127.0.0.1 (no added latency: this measures our code, the SDK and
// the module loader, not the network). Bundles (bench/bundle.ts) side by side with the same
// code unbundled: lib/ and functions/ transpiled file by file, dependencies from node_modules,
// as a zip of node_modules would run. Runs are interleaved across variants so drift hits all.
import { execFileSync, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { startDnsServer } from '../test/harness/dns-server.js';
import { BUILD_OPTIONS, type FunctionName } from './build-options.js';
import { OUT, ROOT, type BundleResult } from './bundle.js';
import { startFakeAws } from './fake-aws.js';
import { SCHEDULED_EVENT } from './handler.js';
import { progress, summarize, type Summary } from './stats.js';

export const ENDPOINT = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
export const TARGET_GROUP = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/orders/0123456789abcdef';
export const SERVICE_ID = 'vpce-svc-0123456789abcdef0';
const WRITER_IP = '10.0.1.23';


export interface ColdStartVariant {
  fn: FunctionName;
  /** A bundle variant name, or "unbundled". */
  variant: string;
  file: string;
}

export interface ColdStartResult {
  fn: FunctionName;
  variant: string;
  runs: number;
  /** import + first invoke, ms */
  total: Summary;
  import: Summary;
  firstInvoke: Summary;
  /** The whole process, spawn to exit (adds node's own ~40 ms start-up). */
  process: Summary;
  /** AWS calls of one first invoke, per action (the same in every run). */
  calls: Record<string, number>;
}

/** lib/ and functions/ as plain ESM files next to each other, imports left to node. */
async function transpileUnbundled(): Promise<string> {
  const dir = join(OUT, 'unbundled');
  const entryPoints: string[] = [];
  for (const folder of ['lib', 'functions']) {
    // Recursive: lib/ has a folder per capability (lib/sync/, lib/aws/, ...).
    for (const name of await readdir(join(ROOT, folder), { recursive: true })) if (name.endsWith('.ts')) entryPoints.push(join(ROOT, folder, name));
  }
  await build({
    entryPoints,
    outdir: dir,
    outbase: ROOT,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: BUILD_OPTIONS.target,
    logLevel: 'silent',
  });
  return dir;
}

/**
 * The Node the cold starts run on: the Lambda runtime's major (scripts/runtime-node.sh fetches and
 * caches it), or this process's Node with a loud line where that binary cannot run.
 */
function runtimeNode(): string {
  const node = execFileSync('bash', [join(ROOT, 'scripts', 'runtime-node.sh'), '--print'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  if (node) return node;
  console.error(`*** cold starts on this machine's Node ${process.version}, not the Lambda runtime's ***`);
  return process.execPath;
}

let childNode: string | undefined;

/** The Node binary of the Lambda runtime's major (or this process's), for sandbox processes. */
export const lambdaNode = () => (childNode ??= runtimeNode());

/** The version of the Node the cold starts run on, for the results. */
export const coldStartNodeVersion = () => execFileSync((childNode ??= runtimeNode()), ['--version'], { encoding: 'utf8' }).trim();

function runChild(file: string, env: NodeJS.ProcessEnv): Promise<{ importMs: number; invokeMs: number; processMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn((childNode ??= runtimeNode()), [join(ROOT, 'bench', 'cold-start-child.mjs'), file, JSON.stringify(SCHEDULED_EVENT)], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    });
    let report = '';
    let stderr = '';
    child.stdio[3]?.on('data', (chunk: Buffer) => (report += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const processMs = performance.now() - started;
      try {
        const r = JSON.parse(report) as { ok: boolean; importMs: number; invokeMs: number; error?: string };
        if (!r.ok) throw new Error(r.error);
        resolve({ importMs: r.importMs, invokeMs: r.invokeMs, processMs });
      } catch (err) {
        reject(new Error(`cold start of ${file} failed (exit ${code}): ${String(err)}\n${stderr}`));
      }
    });
  });
}

export async function runColdStartBench(bundles: BundleResult[], runs: number, bundleVariants: readonly string[]): Promise<ColdStartResult[]> {
  const unbundled = await transpileUnbundled();
  const variants: ColdStartVariant[] = [];
  for (const fn of ['sync', 'accept'] as const) {
    for (const variant of bundleVariants) {
      const b = bundles.find((r) => r.fn === fn && r.variant === variant);
      if (b) variants.push({ fn, variant, file: join(ROOT, b.file) });
    }
    variants.push({ fn, variant: 'unbundled', file: join(unbundled, 'functions', `${fn}.js`) });
  }

  const aws = await startFakeAws({ latencyMs: 0, pendingConnections: [{ serviceId: SERVICE_ID, endpointId: 'vpce-0fivetran00000001', owner: '834469178297' }] });
  const dns = await startDnsServer();
  try {
    dns.setA(ENDPOINT, [WRITER_IP]);
    aws.setTargets(TARGET_GROUP, [{ ip: WRITER_IP, port: 5432 }]);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AWS_ENDPOINT_URL: aws.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_SESSION_TOKEN: 'bench',
      // The SDK's notice about an old Node is not part of a real cold start.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_SERVICE_NAME: 'rds-nlb-sync',
      RDS_ENDPOINT: ENDPOINT,
      TARGET_GROUP_ARN: TARGET_GROUP,
      TARGET_PORT: '5432',
      DNS_SERVERS: dns.address,
      ENDPOINT_SERVICE_IDS: SERVICE_ID,
    };
    const samples = new Map(variants.map((v) => [v, [] as { importMs: number; invokeMs: number; processMs: number }[]]));
    const calls = new Map<ColdStartVariant, Record<string, number>>();
    const expected = { sync: ['DescribeTargetHealth', 'PutMetricData'], accept: ['AcceptVpcEndpointConnections', 'DescribeVpcEndpointConnections', 'DescribeVpcEndpointServiceConfigurations', 'PutMetricData'] };
    const once = async (v: ColdStartVariant) => {
      aws.resetCounts();
      const sample = await runChild(v.file, env);
      const counts = aws.counts();
      // A handler that did not reach AWS did not do the work being timed.
      if (Object.keys(counts).join() !== expected[v.fn].join()) throw new Error(`${v.fn} (${v.variant}) made calls ${JSON.stringify(counts)}`);
      calls.set(v, counts);
      return sample;
    };
    // One throw-away round: the first process after a build pays for the page cache.
    for (const v of variants) await once(v);
    for (let i = 0; i < runs; i++) {
      for (const v of variants) samples.get(v)?.push(await once(v));
      if ((i + 1) % 5 === 0) progress(`cold start: ${i + 1}/${runs} rounds of ${variants.length} variants`);
    }
    return variants.map((v) => {
      const s = samples.get(v) ?? [];
      return {
        fn: v.fn,
        variant: v.variant,
        runs: s.length,
        total: summarize(s.map((x) => x.importMs + x.invokeMs)),
        import: summarize(s.map((x) => x.importMs)),
        firstInvoke: summarize(s.map((x) => x.invokeMs)),
        process: summarize(s.map((x) => x.processMs)),
        calls: calls.get(v) ?? {},
      };
    });
  } finally {
    await dns.close();
    await aws.close();
  }
}
