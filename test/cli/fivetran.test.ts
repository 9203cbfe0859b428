// `rds-nlb-sync fivetran` in-process against the AWS emulator (moto + the endpoint-connections
// front) and the fake Fivetran API: the whole link story, the support request, status, --json.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, type CliIo } from '../../cli/main.js';
import { FIVETRAN_ACCOUNT_ID } from '../../lib/config.js';
import { emulatorEnv, motoOrSkip, startEmulators, startFakeFivetran, type Emulators, type FakeFivetran } from '../harness/index.js';

describe.skipIf(!motoOrSkip())('rds-nlb-sync fivetran', () => {
  let emulators: Emulators;
  let fake: FakeFivetran;

  beforeAll(async () => {
    emulators = await startEmulators();
  });
  afterAll(() => emulators?.stop());
  beforeEach(async () => {
    emulators.connections.reset();
    for (const [k, v] of Object.entries(emulatorEnv(emulators))) vi.stubEnv(k, v);
    // Fivetran, on creation, makes its interface endpoint to our service (pendingAcceptance);
    // the link turns OK once that connection is available, FAIL never here.
    fake = await startFakeFivetran({
      onCreate: async () => void (await emulators.connections.createConsumerEndpoint({ serviceId: emulators.aws.serviceId, owner: FIVETRAN_ACCOUNT_ID })),
      settle: () => (emulators.connections.connections().some((c) => c.owner === FIVETRAN_ACCOUNT_ID && c.state === 'available') ? { state: 'OK' } : undefined),
    });
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await fake.close();
  });

  async function cli(args: string[], env: Record<string, string> = {}, command: string[] = ['fivetran']) {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { env, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), color: false };
    const code = await main([...command, ...args], io);
    return { code, stdout: out.join(''), stderr: err.join('') };
  }
  const creds = () => ({ FIVETRAN_API_KEY: fake.apiKey, FIVETRAN_API_SECRET: fake.apiSecret, FIVETRAN_API_URL: fake.url });
  const service = () => ['--service-id', emulators.aws.serviceId];

  it('links, accepts in-process and waits until Fivetran says OK', async () => {
    const { code, stdout, stderr } = await cli(['link', ...service(), '--accept', '--poll-seconds', '0.05'], creds());

    expect(code).toBe(0);
    expect(stdout).toContain(`created for ${emulators.aws.serviceName} in AWS_EU_WEST_1`);
    expect(stdout).toMatch(/from 834469178297: available/);
    expect(stderr).toMatch(/waiting .*Fivetran: CREATING; our side: vpce-\w+ from 834469178297: pendingAcceptance/);
    expect(fake.links()).toHaveLength(1);
  });

  it('reuses the existing link on a second run', async () => {
    await cli(['link', ...service(), '--accept', '--poll-seconds', '0.05'], creds());

    const again = await cli(['link', ...service(), '--json'], creds());

    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ outcome: 'connected', created: false });
    expect(fake.links()).toHaveLength(1);
    expect(again.stdout).not.toContain(fake.apiSecret);
  });

  it('prints the support request, with service name, region and account, without credentials', async () => {
    const { code, stdout } = await cli(['link', ...service()]);

    expect(code).toBe(1);
    expect(stdout).toContain(`VPC endpoint service name: ${emulators.aws.serviceName}`);
    expect(stdout).toContain('AWS region: eu-west-1');
    expect(stdout).toMatch(/AWS account: \d{12}/);
    expect(fake.requests()).toEqual([]);
  });

  it('prints the support request when Fivetran refuses to create the link', async () => {
    fake.refuseCreate('Private Link self-service is not enabled for this account');
    const { code, stdout } = await cli(['link', ...service(), '--json'], creds());

    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ outcome: 'support-request', serviceName: emulators.aws.serviceName });
    expect(stdout).toContain('self-service is not enabled');
  });

  it('refuses a region Fivetran does not serve, listing the ones it does', async () => {
    const { code, stderr } = await cli(['link', ...service(), '--region', 'sa-east-1'], creds());
    expect(code).toBe(1);
    expect(stderr).toMatch(/UnsupportedRegionError: .*sa-east-1.*eu-west-1/);
  });

  it('reports wrong credentials as such', async () => {
    const { code, stderr } = await cli(['link', ...service()], { ...creds(), FIVETRAN_API_SECRET: 'wrong-secret' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/FivetranAuthError: .*HTTP 401/);
    expect(stderr).not.toContain('wrong-secret');
  });

  it("status shows Fivetran's link state beside our endpoint connection", async () => {
    await cli(['link', ...service(), '--accept', '--poll-seconds', '0.05'], creds());

    const { code, stdout } = await cli(['status', ...service()], creds());

    expect(code).toBe(0);
    expect(stdout).toMatch(/Fivetran: {2}Private Link \S+ \(rds_\w+, AWS_EU_WEST_1\): OK/);
    expect(stdout).toMatch(/AWS side: {2}vpce-\w+ from 834469178297: available/);
  });

  it("the CLI's accept accepts Fivetran's pending endpoint through the emulator", async () => {
    const id = await emulators.connections.createConsumerEndpoint({ serviceId: emulators.aws.serviceId, owner: FIVETRAN_ACCOUNT_ID });

    const { code, stdout } = await cli(['--load-balancer-arn', emulators.aws.loadBalancerArn, '--json'], {}, ['accept']);

    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ outcome: 'success', totals: { accepted: 1 } });
    expect(emulators.connections.state(id)).toBe('available');
  });
});
