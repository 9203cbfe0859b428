// `npm run build`: the operator CLI as one ES module, dist/rds-nlb-sync.mjs, with lib/, the AWS
// SDK and every other dependency bundled in: it runs with plain `node` (>= 20.19), without a
// checkout or node_modules, so a release can hand it to operators.
import { chmod } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import esbuildPlugins from '../deploy/esbuild-plugins.cjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI_OUTFILE = 'dist/rds-nlb-sync.mjs';

/** Builds the CLI into `outfile` (repo-relative or absolute); resolves to its size in bytes. */
export async function buildCli(outfile = CLI_OUTFILE): Promise<number> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: ['cli/run.ts'],
    outfile,
    bundle: true,
    minify: true,
    // Error names reach the operator ("UsageError: ...") and stack traces: keep them readable.
    keepNames: true,
    platform: 'node',
    target: 'node20.19',
    format: 'esm',
    // As for the Lambda bundles: the SDK's ES module builds tree-shake, its schema files too.
    mainFields: ['module', 'main'],
    plugins: esbuildPlugins,
    // Unlike the Lambdas, every credential provider stays in: operators use profiles and SSO.
    // A CommonJS dependency that calls require() on a node builtin fails in an ESM bundle without it.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __rdsNlbSyncCreateRequire } from 'node:module'; const require = __rdsNlbSyncCreateRequire(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
  await chmod(new URL(outfile, `file://${ROOT}/`), 0o755);
  return Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await buildCli();
  console.log(`${CLI_OUTFILE}: ${(bytes / 1024).toFixed(0)} KiB, runs with plain node`);
}
