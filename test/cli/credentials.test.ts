// Missing credentials, through the real SDK chain (no client mocks in this file): every command
// ends with one line that says what to do, not an error class name and SDK text.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main, type CliIo } from '../../cli/main.js';
import { ORDERS, TG_A } from '../fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rds-nlb-sync-creds-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(() => vi.unstubAllEnvs());

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { env: {}, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), color: false };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const mapping = ['--endpoint', ORDERS, '--target-group-arn', TG_A, '--port', '5432'];

describe('missing AWS credentials', () => {
  it.each([
    ['plan', mapping],
    ['sync', ['--local', ...mapping]],
    ['accept', ['--service-id', 'vpce-svc-0123456789abcdef0']],
    ['doctor', mapping],
  ])('%s prints one line saying what to do', async (command, flags) => {
    // The SDK's own chain with nothing to find: no env keys, no files, no instance metadata (no network).
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    vi.stubEnv('AWS_PROFILE', '');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'no-credentials'));
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'no-config'));
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');

    const { code, stderr, stdout } = await cli([command, '--region', 'eu-west-1', ...flags]);

    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /^rds-nlb-sync: Could not load credentials from any providers\. No usable AWS credentials: run "aws configure" or "aws sso login", set AWS_PROFILE, or pass --profile <name>\.\n$/,
    );
  });
});
