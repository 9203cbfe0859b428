// deploy/invoke-local.cjs, the plugin that lets `serverless invoke local` load the .mjs bundles
// and exit at once on failure. A fake serverless here: the real command builds both bundles and
// then needs AWS credentials (docs/deploy.md shows it failing fast without them).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

interface Plugin {
  hooks: Record<string, () => Promise<void>>;
}
const InvokeLocalEsm = createRequire(import.meta.url)('../../deploy/invoke-local.cjs') as new (serverless: unknown, options: unknown) => Plugin;

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fakeServerless(files: Record<string, string>) {
  dir = mkdtempSync(path.join(tmpdir(), 'invoke-local-'));
  mkdirSync(path.join(dir, 'functions'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const esbuild = { buildDirPath: dir, disposeContexts: vi.fn(async () => {}) };
  const serverless = {
    serviceDir: dir,
    pluginManager: { plugins: [{}, esbuild] },
    service: { getFunction: (name: string) => ({ handler: `functions/${name}.handler` }) },
    classes: { Error },
  };
  return { serverless, esbuild };
}

describe('invoke local plugin', () => {
  it('puts a .cjs shim beside the .mjs bundle, which loads the handler through require()', async () => {
    const { serverless } = fakeServerless({ 'functions/sync.mjs': 'export const handler = async () => "ran";\n' });

    await new InvokeLocalEsm(serverless, { function: 'sync' }).hooks['before:invoke:local:invoke']!();

    const shim = path.join(dir, 'functions/sync.cjs');
    const loaded = createRequire(import.meta.url)(shim) as { handler: () => Promise<string> };
    await expect(loaded.handler()).resolves.toBe('ran');
  });

  it("stops serverless-esbuild's esbuild contexts first, so a failing invoke cannot hang", async () => {
    const { serverless, esbuild } = fakeServerless({ 'functions/sync.mjs': 'export const handler = 1;\n' });

    await new InvokeLocalEsm(serverless, { function: 'sync' }).hooks['before:invoke:local:invoke']!();

    expect(esbuild.disposeContexts).toHaveBeenCalledTimes(1);
  });

  it('leaves a handler alone that osls can load itself', async () => {
    const { serverless } = fakeServerless({ 'functions/sync.mjs': '', 'functions/sync.js': 'module.exports = {};\n' });

    await new InvokeLocalEsm(serverless, { function: 'sync' }).hooks['before:invoke:local:invoke']!();

    expect(existsSync(path.join(dir, 'functions/sync.cjs'))).toBe(false);
    expect(readFileSync(path.join(dir, 'functions/sync.js'), 'utf8')).toBe('module.exports = {};\n');
  });

  it('removes a shim left over by a killed run before the next package, so no zip ships it', async () => {
    const { serverless } = fakeServerless({ 'functions/sync.mjs': 'export const handler = 1;\n', 'functions/own.cjs': 'module.exports = {};\n' });
    const plugin = new InvokeLocalEsm(serverless, { function: 'sync' });
    await plugin.hooks['before:invoke:local:invoke']!();

    await plugin.hooks['before:package:cleanup']!();

    expect(existsSync(path.join(dir, 'functions/sync.cjs'))).toBe(false);
    expect(existsSync(path.join(dir, 'functions/own.cjs'))).toBe(true);
  });
});
