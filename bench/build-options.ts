// The esbuild options of the deployed bundles, in one place: serverless.yml's `custom.esbuild`
// must say the same (serverless-esbuild passes these through to esbuild). Keep them in sync.
import type { BuildOptions } from 'esbuild';
import esbuildPlugins from '../deploy/esbuild-plugins.cjs';

/**
 * Credential providers the SDK's default chain reaches only through dynamic import() after the
 * environment variables failed: profiles, SSO, credential_process, web identity, console login.
 * In Lambda the role's credentials are always in the environment, so they never load; esbuild
 * still bundles them (and the STS/SSO clients they use). Left external (serverless-esbuild:
 * `exclude`), a run outside Lambda without env credentials would import them from node_modules.
 */
export const PROFILE_CREDENTIAL_PROVIDERS: string[] = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-login',
];

/** serverless-esbuild `custom.esbuild`, as esbuild options (its `outputFileExtension: .mjs` is `outExtension` here). */
export const BUILD_OPTIONS = {
  bundle: true,
  minify: true,
  // Class names survive minification, so third-party errors log as themselves.
  keepNames: true,
  treeShaking: true,
  sourcemap: false,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  // The SDK's package.json has `main` (dist-cjs: one prebuilt file per client, nothing can be
  // shaken out) and `module` (dist-es: one file per command). esbuild's default for platform node
  // is main first; module first is what lets it drop the commands we do not import.
  mainFields: ['module', 'main'],
  // A CommonJS dependency that calls require() on a node builtin fails in an ESM bundle without it.
  banner: { js: "import { createRequire as __rdsNlbSyncCreateRequire } from 'node:module'; const require = __rdsNlbSyncCreateRequire(import.meta.url);" },
  // The Lambda runtime's own SDK copy is not used: the bundle carries the versions we tested.
  // Only the credential providers Lambda never reaches are left out (serverless-esbuild: `exclude`).
  external: PROFILE_CREDENTIAL_PROVIDERS,
  // serverless.yml: `plugins: ./deploy/esbuild-plugins.cjs` (tree-shakeable SDK schema files).
  plugins: esbuildPlugins,
} as const satisfies BuildOptions;

/** The deployed functions: name -> entry, as in serverless.yml's `handler`. */
export const FUNCTIONS = { sync: 'functions/sync.ts', accept: 'functions/accept.ts' } as const;
export type FunctionName = keyof typeof FUNCTIONS;

/** Alternatives measured against BUILD_OPTIONS, to pick with numbers. */
export const VARIANTS = {
  /** BUILD_OPTIONS (= serverless.yml): SDK as tree-shaken ES modules, unused credential providers out, schema files shaken. */
  chosen: {},
  /** esbuild's default field order for platform node: the SDK's prebuilt CommonJS files. */
  'cjs-sdk': { mainFields: ['main', 'module'], external: [], plugins: [] },
  /** The SDK left out of the zip: the Lambda runtime's copy (/var/runtime/node_modules) is loaded. */
  'runtime-sdk': { external: ['@aws-sdk/*', '@smithy/*'], plugins: [] },
  /** chosen, with every credential provider bundled. */
  'all-creds': { external: [] },
  /** chosen, without the schema plugin (deploy/esbuild-plugins.cjs). */
  'unshaken-schemas': { plugins: [] },
  /** chosen, names minified too: what keepNames costs. */
  'no-keep-names': { keepNames: false },
  /** Neither: ES modules and tree-shaking only. */
  plain: { external: [], plugins: [] },
} satisfies Record<string, Partial<BuildOptions>>;
export type VariantName = keyof typeof VARIANTS;

export const SYNC_BUDGET_BYTES = 350 * 1024;
