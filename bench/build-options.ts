// The esbuild options of the deployed bundles, in one place: serverless.yml's `custom.esbuild`
// must say the same (serverless-esbuild passes these through to esbuild). Keep them in sync.
import type { BuildOptions } from 'esbuild';
import { inlineSchemaKeys } from './inline-schema-keys.js';

/** serverless-esbuild `custom.esbuild`, as esbuild options (its `outputFileExtension: .mjs` is `outExtension` here). */
export const BUILD_OPTIONS = {
  bundle: true,
  minify: true,
  treeShaking: true,
  sourcemap: false,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  outExtension: { '.js': '.mjs' },
  // The SDK's package.json has `main` (dist-cjs: one prebuilt file per client, nothing can be
  // shaken out) and `module` (dist-es: one file per command). esbuild's default for platform node
  // is main first; module first is what lets it drop the commands we do not import.
  mainFields: ['module', 'main'],
  // A CommonJS dependency that calls require() on a node builtin fails in an ESM bundle without it.
  banner: { js: "import { createRequire as __rdsNlbSyncCreateRequire } from 'node:module'; const require = __rdsNlbSyncCreateRequire(import.meta.url);" },
  // The Lambda runtime's own SDK copy is not used: the bundle carries the versions we tested.
  external: [],
} as const satisfies BuildOptions;

/** The deployed functions: name -> entry, as in serverless.yml's `handler`. */
export const FUNCTIONS = { sync: 'functions/sync.ts', accept: 'functions/accept.ts' } as const;
export type FunctionName = keyof typeof FUNCTIONS;

/**
 * Credential providers the SDK's default chain reaches only through dynamic import() after the
 * environment variables failed: profiles, SSO, credential_process, web identity, console login.
 * In Lambda the role's credentials are always in the environment, so they never load; esbuild
 * still bundles them (and the STS/SSO clients they use). Left external (serverless-esbuild:
 * `exclude`), a run outside Lambda without env credentials would import them from node_modules.
 */
export const PROFILE_CREDENTIAL_PROVIDERS = [
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-login',
];

/** Alternatives measured against BUILD_OPTIONS, to pick with numbers. */
export const VARIANTS = {
  /** BUILD_OPTIONS (= serverless.yml): SDK as ES modules, tree-shaken, everything bundled. */
  chosen: {},
  /** esbuild's default field order for platform node: the SDK's prebuilt CommonJS files. */
  'cjs-sdk': { mainFields: ['main', 'module'] },
  /** The SDK left out of the zip: the Lambda runtime's copy (/var/runtime/node_modules) is loaded. */
  'runtime-sdk': { external: ['@aws-sdk/*', '@smithy/*'] },
  /** chosen, without the credential providers Lambda never uses. */
  'no-profile-creds': { external: PROFILE_CREDENTIAL_PROVIDERS },
  /** chosen, with the schema files made tree-shakeable (bench/inline-schema-keys.ts). */
  'shaken-schemas': { plugins: [inlineSchemaKeys] },
  /** Both: the leanest fully bundled build. */
  lean: { external: PROFILE_CREDENTIAL_PROVIDERS, plugins: [inlineSchemaKeys] },
} satisfies Record<string, Partial<BuildOptions>>;
export type VariantName = keyof typeof VARIANTS;

export const SYNC_BUDGET_BYTES = 350 * 1024;
