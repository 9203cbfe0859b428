// The link flow against the fake Fivetran API: create or reuse, then wait for OK or FAIL.
import { afterEach, describe, expect, it } from 'vitest';
import { createFivetranClient, FivetranAuthError } from '../../lib/fivetran/client.js';
import { UnsupportedRegionError } from '../../lib/fivetran/decide.js';
import { linkEndpointService, type LinkInput } from '../../lib/fivetran/link.js';
import { startFakeFivetran, type FakeFivetran, type FakeFivetranOptions } from '../harness/fivetran-api.js';

const SERVICE_ID = 'vpce-svc-0123456789abcdef0';
const SERVICE_NAME = `com.amazonaws.vpce.eu-west-1.${SERVICE_ID}`;
const input: LinkInput = { serviceId: SERVICE_ID, region: 'eu-west-1', waitMs: 60_000, pollMs: 1000 };

describe('linkEndpointService', () => {
  let fake: FakeFivetran | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  async function run(options: FakeFivetranOptions = {}, overrides: Partial<LinkInput> = {}, secret?: string) {
    fake ??= await startFakeFivetran(options);
    let clock = 0;
    const lines: string[] = [];
    const fivetran = createFivetranClient({ apiKey: fake.apiKey, apiSecret: secret ?? fake.apiSecret, baseUrl: fake.url, sleep: async (ms) => void (clock += ms) });
    const result = await linkEndpointService(
      { ...input, ...overrides },
      { fivetran, progress: (l) => lines.push(l), sleep: async (ms) => void (clock += ms), now: () => clock, connectionState: async () => 'our endpoint: pendingAcceptance' },
    );
    return { result, lines };
  }

  it('creates the link for our endpoint service in the mapped region and waits until OK', async () => {
    let reads = 0;
    const { result, lines } = await run({ settle: () => (++reads >= 3 ? { state: 'OK' } : undefined) });

    expect(result).toMatchObject({ outcome: 'connected', created: true, fivetranRegion: 'AWS_EU_WEST_1', polls: 3 });
    expect(fake?.links()).toEqual([expect.objectContaining({ name: 'rds_0123456789abcdef0', region: 'AWS_EU_WEST_1', service: 'SOURCE_AWS', config: { connection_service_name: SERVICE_NAME }, state: 'OK' })]);
    expect(lines[0]).toMatch(/^Created Private Link .* in AWS_EU_WEST_1 for com\.amazonaws\.vpce\.eu-west-1\.vpce-svc-0123456789abcdef0: CREATING$/);
    expect(lines[1]).toMatch(/waiting \(0 s\): Fivetran: CREATING; our endpoint: pendingAcceptance/);
  });

  it('reuses the link that already names our service instead of creating a second', async () => {
    fake = await startFakeFivetran();
    fake.addLink({ name: 'other', config: { connection_service_name: 'com.amazonaws.vpce.eu-west-1.vpce-svc-0ffffffffffffffff' } });
    const existing = fake.addLink({ name: 'made_by_hand', state: 'OK', config: { connection_service_name: SERVICE_NAME } });

    const { result } = await run();

    expect(result).toMatchObject({ outcome: 'connected', created: false, link: { id: existing.id } });
    expect(fake.links()).toHaveLength(2);
    expect(fake.requests().filter((r) => r.method === 'POST')).toEqual([]);
  });

  it("stops on FAIL with Fivetran's state_summary and what to check", async () => {
    const { result } = await run({ settle: () => ({ state: 'FAIL', summary: 'VPC endpoint connection was rejected' }) });

    expect(result.outcome).toBe('failed');
    expect(result.why).toBe('Fivetran says: VPC endpoint connection was rejected');
    expect(result.checklist?.join(' ')).toMatch(/834469178297/);
  });

  it('refuses wrong credentials with FivetranAuthError before creating anything', async () => {
    await expect(run({}, {}, 'wrong')).rejects.toThrow(FivetranAuthError);
    expect(fake?.links()).toEqual([]);
  });

  it('rides out a rate limit on the first call and still creates exactly one link', async () => {
    fake = await startFakeFivetran();
    fake.rateLimitNext(2, 5);

    const { result } = await run();

    expect(result.outcome).toBe('connected');
    expect(fake.links()).toHaveLength(1);
    expect(fake.requests().slice(0, 3).map((r) => r.path.split('?')[0])).toEqual(['/v1/private-links', '/v1/private-links', '/v1/private-links']);
  });

  it('refuses a region Fivetran does not serve before calling the API', async () => {
    await expect(run({}, { region: 'sa-east-1' })).rejects.toThrow(UnsupportedRegionError);
    expect(fake?.requests()).toEqual([]);
  });

  it('gives up after the wait with a timeout, the link still CREATING', async () => {
    const { result } = await run({ settle: () => undefined }, { waitMs: 5000 });
    expect(result).toMatchObject({ outcome: 'timeout', link: { state: 'CREATING' } });
  });

  it('rides out a 503, no answer and a reset connection while polling, and still connects', async () => {
    let reads = 0;
    fake = await startFakeFivetran({ settle: () => (++reads >= 2 ? { state: 'OK' } : undefined) });
    // Three failures in a row outlast the client's two GET retries: the wait itself goes on.
    fake.injectFault({ count: 3, method: 'GET', path: /^\/v1\/private-links\/[^?]+$/, fault: { status: 503 } });
    fake.injectFault({ count: 1, method: 'GET', path: /^\/v1\/private-links\/[^?]+$/, fault: 'reset' });

    const { result, lines } = await run();

    expect(result.outcome).toBe('connected');
    expect(lines.some((l) => /Fivetran did not answer this poll \(.*HTTP 503.*\); polling again/.test(l))).toBe(true);
    expect(fake.requests().filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('polls no more than once a second, whatever pollMs says', async () => {
    const { result } = await run({ settle: () => undefined }, { pollMs: 0, waitMs: 5000 });

    expect(result).toMatchObject({ outcome: 'timeout', polls: 5 });
    expect(fake?.requests().filter((r) => /^\/v1\/private-links\/[^?]+$/.test(r.path))).toHaveLength(5);
  });
});
