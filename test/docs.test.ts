// The docs' commands work when copied: every fenced block of README.md and docs/*.md is checked by
// its fence (docs/README.md): `sh runnable` blocks run, other `sh` commands are checked against
// package.json, osls's command schema, serverless.yml's params and the CLI's parser, `json`
// blocks must parse. The extractor's own tests (test/docs/check.test.ts) show it failing.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCommand, checkJson, commandsOf, extractBlocks, type Block } from './docs/check.js';
import { loadRules } from './docs/rules.js';

const ROOT = new URL('../', import.meta.url).pathname;
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const blocks: Block[] = PAGES.flatMap((page) => extractBlocks(readFileSync(join(ROOT, page), 'utf8'), page));
const where = (b: Block, line = b.line) => `${b.file}:${line}`;

describe('the docs', () => {
  it('have runnable, shown and JSON blocks to check (the extractor finds them)', () => {
    expect(blocks.filter((b) => b.lang === 'sh' && b.runnable).length).toBeGreaterThan(0);
    expect(blocks.filter((b) => b.lang === 'sh' && !b.runnable).length).toBeGreaterThan(5);
    expect(blocks.filter((b) => b.lang === 'json').length).toBeGreaterThan(0);
  });

  it('show only commands that parse: npm scripts, serverless commands and flags, --param names, CLI flags', () => {
    const rules = loadRules();
    const problems = blocks
      .filter((b) => b.lang === 'sh' && !b.runnable)
      .flatMap((b) => commandsOf(b).flatMap((c) => checkCommand(c.argv, rules).map((p) => `${where(b, c.line)}: ${c.source}\n  ${p}`)));

    expect(problems).toEqual([]);
  });

  it('show JSON that parses', () => {
    const problems = blocks.filter((b) => b.lang === 'json').flatMap((b) => checkJson(b).map((p) => `${where(b)}: ${p}`));

    expect(problems).toEqual([]);
  });

  describe('runnable blocks', () => {
    // A scratch directory with the repository's files linked in, so files a page writes do not
    // land in the checkout; no AWS credentials, profile or region, so nothing can reach AWS.
    const scratch = mkdtempSync(join(tmpdir(), 'rds-nlb-sync-docs-'));
    for (const entry of readdirSync(ROOT)) if (!entry.startsWith('.')) symlinkSync(join(ROOT, entry), join(scratch, entry));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    Object.assign(env, { AWS_CONFIG_FILE: join(scratch, 'no-aws-config'), AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'no-aws-credentials'), AWS_EC2_METADATA_DISABLED: 'true', NO_COLOR: '1' });

    // `npx rds-nlb-sync` runs package.json's bin; npx itself would first install this project
    // into npm's cache (seconds, and files outside the checkout), so the bin is run directly.
    const bin = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin['rds-nlb-sync'];
    const run = (command: string) =>
      new Promise<{ code: number; output: string }>((resolve) => {
        execFile('bash', ['-c', command.replace(/^npx rds-nlb-sync\b/, `node ${bin}`)], { cwd: scratch, env, timeout: 30_000 }, (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
          resolve({ code, output: `${stdout}${stderr}`.slice(-2000) });
        });
      });

    it('run and end with the exit code their fence says', async () => {
      for (const b of blocks.filter((b) => b.writeTo)) writeFileSync(join(scratch, b.writeTo!), b.text);
      const commands = blocks.filter((b) => b.lang === 'sh' && b.runnable).flatMap((b) => commandsOf(b).map((c) => ({ b, c })));

      // All at once: each is a separate process, and most of the time is node starting up.
      const results = await Promise.all(commands.map(async ({ b, c }) => ({ b, c, ...(await run(c.source)) })));

      const wrong = results.filter((r) => r.code !== r.b.exit).map((r) => `${where(r.b, r.c.line)}: ${r.c.source}\n  exit ${r.code}, expected ${r.b.exit}:\n${r.output}`);
      expect(wrong).toEqual([]);
    }, 60_000);
  });
});
