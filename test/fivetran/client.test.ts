// The HTTP client against the fake Fivetran API on 127.0.0.1 (never the real one).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFivetranClient, FivetranAuthError, FivetranForbiddenError, FivetranNotFoundError, FivetranRateLimitError, FivetranTimeoutError, retryAfterMs } from '../../lib/fivetran/client.js';
import { startFakeFivetran, type FakeFivetran } from '../harness/fivetran-api.js';

describe('Fivetran client', () => {
  let fake: FakeFivetran;
  const waits: number[] = [];
  const client = (overrides: Partial<Parameters<typeof createFivetranClient>[0]> = {}) =>
    createFivetranClient({ apiKey: fake.apiKey, apiSecret: fake.apiSecret, baseUrl: fake.url, sleep: async (ms) => void waits.push(ms), ...overrides });

  beforeEach(async () => {
    waits.length = 0;
    fake = await startFakeFivetran({ pageSize: 2 });
  });
  afterEach(() => fake.close());

  it('lists every page by following next_cursor', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) fake.addLink({ name });

    const links = await client().listPrivateLinks();

    expect(links.map((l) => l.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(fake.requests().filter((r) => r.path.startsWith('/v1/private-links?')).length).toBe(3);
  });

  it('sends basic auth and turns 401 into FivetranAuthError without the secret in the message', async () => {
    const wrong = client({ apiSecret: 'not-the-secret-xyz' });

    const error = await wrong.listPrivateLinks().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(FivetranAuthError);
    expect(String((error as Error).message)).not.toContain('not-the-secret-xyz');
    expect(fake.requests()[0]?.authorized).toBe(false);
  });

  it('waits what Retry-After says on 429, then succeeds', async () => {
    fake.rateLimitNext(2, 3);

    await expect(client().listPrivateLinks()).resolves.toEqual([]);

    expect(waits).toEqual([3000, 3000]);
  });

  it('gives up with FivetranRateLimitError after the retries', async () => {
    fake.rateLimitNext(10, 1);
    await expect(client({ maxRateLimitRetries: 2 }).listPrivateLinks()).rejects.toThrow(FivetranRateLimitError);
    expect(waits).toEqual([1000, 1000]);
  });

  it('types 404 and 403', async () => {
    await expect(client().getPrivateLink('nope')).rejects.toThrow(FivetranNotFoundError);
    fake.refuseCreate('Private Links are not enabled for this account');
    await expect(
      client().createPrivateLink({ name: 'x', region: 'AWS_EU_WEST_1', service: 'SOURCE_AWS', config: { connection_service_name: 's' } }),
    ).rejects.toThrow(FivetranForbiddenError);
  });

  it('times out a request that gets no answer', async () => {
    const hang: typeof fetch = (_url, init) => new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    await expect(client({ fetch: hang, timeoutMs: 20 }).listPrivateLinks()).rejects.toThrow(FivetranTimeoutError);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs('7')).toBe(7000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs(null)).toBe(1000);
  });
});
