// `rds-nlb-sync fivetran` in-process against the AWS emulator (moto + the endpoint-connections
// front) and the fake Fivetran API: the whole link story, the support request, status, --json.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startSilentServer } from '../harness/silent-server.js';
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
    const { code, stdout, stderr } = await cli(['link', ...service(), '--accept', '--poll-seconds', '1'], creds());

    expect(code).toBe(0);
    expect(stdout).toContain(`created for ${emulators.aws.serviceName} in AWS_EU_WEST_1`);
    expect(stdout).toMatch(/from 834469178297: available/);
    expect(stderr).toMatch(/waiting .*Fivetran: CREATING; our side: vpce-\w+ from 834469178297: pendingAcceptance/);
    expect(fake.links()).toHaveLength(1);
  });

  it('reuses the existing link on a second run', async () => {
    await cli(['link', ...service(), '--accept', '--poll-seconds', '1'], creds());

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
    await cli(['link', ...service(), '--accept', '--poll-seconds', '1'], creds());

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

  it('status stops on a next_cursor that repeats, and says why', async () => {
    fake.injectFault({ count: 1000, path: /^\/v1\/private-links\?/, fault: { body: { code: 'Success', data: { items: [], next_cursor: 'again' } } } });

    const { code, stderr } = await cli(['status', ...service()], creds());

    expect(code).toBe(1);
    expect(stderr).toMatch(/FivetranAnswerError: .*next_cursor "again" came back after 2 pages/);
    expect(fake.requests()).toHaveLength(2);
  });

  describe('unlink', () => {
    const linked = () => fake.addLink({ name: 'rds_ours', state: 'OK', config: { connection_service_name: emulators.aws.serviceName } });

    it('shows the link and deletes nothing without --yes (exit 2)', async () => {
      const link = linked();

      const { code, stdout } = await cli(['unlink', ...service()], creds());

      expect(code).toBe(2);
      expect(stdout).toContain(`Would delete Private Link ${link.id} (rds_ours, AWS_EU_WEST_1, OK) for ${emulators.aws.serviceName}.`);
      expect(stdout).toContain('run again with --yes to delete it');
      expect(fake.requests().filter((r) => r.method === 'DELETE')).toEqual([]);
    });

    it('deletes our Private Link with --yes, and only ours', async () => {
      const other = fake.addLink({ name: 'theirs', state: 'OK', config: { connection_service_name: 'com.amazonaws.vpce.eu-west-1.vpce-svc-0ffffffffffffffff' } });
      const link = linked();

      const { code, stdout } = await cli(['unlink', ...service(), '--yes', '--json'], creds());

      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ outcome: 'deleted', link: { id: link.id }, message: `Private link with id '${link.id}' is marked for deletion`, serviceName: emulators.aws.serviceName });
      expect(fake.requests().filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([`/v1/private-links/${link.id}`]);
      expect(fake.links().map((l) => [l.id, l.state])).toEqual([[other.id, 'OK'], [link.id, 'DESTROYING']]);
      expect(stdout).not.toContain(fake.apiSecret);
    });

    it('says so, exit 0, when the link is being deleted or absent', async () => {
      const absent = await cli(['unlink', ...service(), '--yes'], creds());
      linked();
      await cli(['unlink', ...service(), '--yes'], creds());
      const again = await cli(['unlink', ...service(), '--yes'], creds());

      expect(absent).toMatchObject({ code: 0, stdout: expect.stringContaining('No Private Link at Fivetran for') });
      expect(again).toMatchObject({ code: 0, stdout: expect.stringContaining('is being deleted at Fivetran already: nothing to do.') });
      expect(fake.requests().filter((r) => r.method === 'DELETE')).toHaveLength(1);
    });

    it('deletes nothing without API credentials, and says what to do (exit 1)', async () => {
      linked();

      const { code, stdout } = await cli(['unlink', ...service(), '--yes', '--json']);

      expect(code).toBe(1);
      expect(JSON.parse(stdout)).toMatchObject({ outcome: 'not-deleted', reason: expect.stringContaining('FIVETRAN_API_KEY and FIVETRAN_API_SECRET are not set') });
      expect(fake.requests()).toEqual([]);
    });
  });
});

describe('rds-nlb-sync fivetran: command-line and settings checks before any call', () => {
  // AWS and Fivetran both point at a server that never answers: a call to either would hang
  // until the timeouts and exit 1, not 2.
  async function refused(args: string[], env: Record<string, string> = {}) {
    const silent = await startSilentServer();
    vi.stubEnv('AWS_ENDPOINT_URL', silent.url);
    try {
      const err: string[] = [];
      const io: CliIo = { env: { FIVETRAN_API_KEY: 'k', FIVETRAN_API_SECRET: 's', FIVETRAN_API_URL: silent.url, ...env }, stdout: () => undefined, stderr: (t) => void err.push(t), color: false };
      const code = await main(['fivetran', ...args, '--service-id', 'vpce-svc-0123456789abcdef0'], io);
      return { code, stderr: err.join(''), connections: silent.connections() };
    } finally {
      vi.unstubAllEnvs();
      await silent.close();
    }
  }

  it.each([
    [['link', '--name', '1 bad name!'], /--name "1 bad name!": Fivetran takes up to 23 letters, digits or underscores, starting with a letter or an underscore/],
    [['link', '--name', 'a_name_of_24_characters_'], /--name "a_name_of_24_characters_"/],
    [['link', '--poll-seconds', '0'], /--poll-seconds must be a number of seconds, at least 1/],
  ])('refuses %j with exit 2', async (args, message) => {
    const { code, stderr, connections } = await refused(args);

    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(connections).toBe(0);
  });

  it('refuses FIVETRAN_API_URL over http to another host: Basic credentials would travel in clear text', async () => {
    const { code, stderr, connections } = await refused(['status'], { FIVETRAN_API_URL: 'http://fivetran.example.com/v1' });

    expect(code).toBe(2);
    expect(stderr).toMatch(/FIVETRAN_API_URL must be an https URL .*clear text/);
    expect(connections).toBe(0);
  });
});
