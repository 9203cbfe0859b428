// The installed entry point, as `npx rds-nlb-sync` runs it: a real Node process on
// bin/rds-nlb-sync.mjs (TypeScript through tsx), with real exit codes.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SETTING_NAMES } from '../../cli/options.js';
import pkg from '../../package.json' with { type: 'json' };

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
// The developer's own settings (RDS_ENDPOINT, ...) must not leak into these runs.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !SETTING_NAMES.includes(key)));

async function bin(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [pkg.bin['rds-nlb-sync'], ...args], { cwd: root, env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('bin/rds-nlb-sync.mjs', () => {
  it('prints the help and exits 0', async () => {
    const { code, stdout, stderr } = await bin('--help');

    expect(code).toBe(0);
    expect(stdout).toContain('Usage: rds-nlb-sync <command> [options]');
    expect(stderr).toBe('');
  });

  it('exits 2 for a bad command line', async () => {
    const { code, stderr } = await bin('doctor', '--no-such-flag');

    expect(code).toBe(2);
    expect(stderr).toContain("Unknown option '--no-such-flag'");
  });

  it('exits 2 for missing settings, before any AWS call', async () => {
    const { code, stderr } = await bin('plan', '--region', 'eu-west-1');

    expect(code).toBe(2);
    expect(stderr).toContain('RDS_ENDPOINT (--endpoint) is required');
  });
});
