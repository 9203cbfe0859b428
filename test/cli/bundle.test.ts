// The one-file CLI (`npm run build` -> dist/rds-nlb-sync.mjs): built, copied alone into an empty
// directory (no node_modules, no checkout above it) and run with plain node, as an operator would.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build-cli.js';

const run = promisify(execFile);
const buildDir = mkdtempSync(path.join(tmpdir(), 'cli-build-'));
const operatorDir = mkdtempSync(path.join(tmpdir(), 'cli-operator-'));
const cli = path.join(operatorDir, 'rds-nlb-sync.mjs');
// No AWS settings, profile files or region, and no NODE_PATH to find packages by.
const env = {
  PATH: process.env.PATH ?? '',
  AWS_CONFIG_FILE: path.join(operatorDir, 'none'),
  AWS_SHARED_CREDENTIALS_FILE: path.join(operatorDir, 'none'),
  AWS_EC2_METADATA_DISABLED: 'true',
};

async function node(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], { cwd: operatorDir, env, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  await buildCli(path.join(buildDir, 'rds-nlb-sync.mjs'));
  copyFileSync(path.join(buildDir, 'rds-nlb-sync.mjs'), cli);
}, 60_000);
afterAll(() => {
  rmSync(buildDir, { recursive: true, force: true });
  rmSync(operatorDir, { recursive: true, force: true });
});

describe('the one-file CLI', () => {
  it('is run from a directory with no node_modules to import from', () => {
    const dirs = [operatorDir, ...Array.from({ length: 4 }, (_, i) => path.resolve(operatorDir, ...Array<string>(i + 1).fill('..')))];

    expect(dirs.filter((d) => existsSync(path.join(d, 'node_modules')))).toEqual([]);
  });

  it('prints the help with plain node and exits 0', async () => {
    const { code, stdout, stderr } = await node('--help');

    expect(code).toBe(0);
    expect(stdout).toContain('Usage: rds-nlb-sync <command> [options]');
    expect(stderr).toBe('');
  });

  it('loads the SDK and lib/ for a real command and fails fast, before any AWS call, without a region', async () => {
    const started = Date.now();
    const { code, stderr } = await node(
      'plan',
      '--endpoint',
      'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com',
      '--target-group-arn',
      'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/fivetran-orders/0123456789abcdef',
      '--port',
      '5432',
    );

    expect({ code, stderr }).toEqual({ code: 2, stderr: 'rds-nlb-sync: no AWS region: pass --region, or set AWS_REGION or a region in your AWS profile\n' });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('names a bad setting with the name of its flag and variable', async () => {
    const { code, stderr } = await node('plan', '--endpoint', 'db.example.com', '--target-group-arn', 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/x/0123456789abcdef', '--port', '0');

    expect(code).toBe(2);
    expect(stderr).toContain('TARGET_PORT (--port)');
  });
});
