// The HTTP client against the fake Fivetran API on 127.0.0.1 (never the real one).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config.js';
import {
  checkApiUrl,
  createFivetranClient,
  FivetranAnswerError,
  FivetranAuthError,
  FivetranError,
  FivetranForbiddenError,
  FivetranNotFoundError,
  FivetranRateLimitError,
  FivetranTimeoutError,
  retryAfterMs,
} from '../../lib/fivetran/client.js';
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

  describe('answers the API reference does not describe', () => {
    const LIST = /^\/v1\/private-links\?/;
    const page = (next: string | null) => ({ code: 'Success', data: { items: [], next_cursor: next } });

    it('stops when next_cursor repeats, instead of listing forever', async () => {
      fake.injectFault({ count: 1000, path: LIST, fault: { body: page('same') } });

      await expect(client().listPrivateLinks()).rejects.toThrow(/next_cursor "same" came back after 2 pages: the listing loops; stopped/);
      expect(fake.requests()).toHaveLength(2);
    });

    it('stops when two cursors alternate', async () => {
      fake.injectFault({ count: 1000, path: /cursor=a/, fault: { body: page('b') } });
      fake.injectFault({ count: 1000, path: LIST, fault: { body: page('a') } });

      await expect(client().listPrivateLinks()).rejects.toThrow(FivetranAnswerError);
      expect(fake.requests().map((r) => r.path)).toEqual(['/v1/private-links?limit=100', '/v1/private-links?limit=100&cursor=a', '/v1/private-links?limit=100&cursor=b']);
    });

    it('stops after the page cap', async () => {
      for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) fake.addLink({ name });
      await expect(client({ maxPages: 3 }).listPrivateLinks()).rejects.toThrow(/more than 3 pages; stopped \(links listed so far: 6\)/);
    });

    it.each([
      ['{"data":null}', { code: 'Success', data: null }, /unexpected shape: data: /],
      ['items as an object', { code: 'Success', data: { items: { a: 1 }, next_cursor: null } }, /unexpected shape: data\.items: /],
      ['a link without an id', { code: 'Success', data: { items: [{ name: 'x', region: 'AWS_EU_WEST_1', service: 'SOURCE_AWS', state: 'OK' }] } }, /data\.items\.0\.id: /],
    ])('names the field when a list answers %s', async (_what, body, message) => {
      fake.injectFault({ count: 1, path: LIST, fault: { body } });

      const error = await client().listPrivateLinks().catch((e: unknown) => e);

      expect(error).toBeInstanceOf(FivetranAnswerError);
      expect((error as Error).message).toMatch(message);
    });

    it('refuses a created link answered as data:"OK", so nothing polls /private-links/undefined', async () => {
      fake.injectFault({ count: 1, method: 'POST', fault: { body: { code: 'Success', data: 'OK' } } });

      const create = client().createPrivateLink({ name: 'x', region: 'AWS_EU_WEST_1', service: 'SOURCE_AWS', config: { connection_service_name: 's' } });

      await expect(create).rejects.toThrow(/POST \/private-links answered HTTP 200 with an unexpected shape: data: /);
    });

    it('calls a body that stalls after the headers a timeout, not "no data"', async () => {
      fake.injectFault({ count: 10, fault: 'stall' });
      await expect(client({ timeoutMs: 200, maxGetRetries: 0 }).listPrivateLinks()).rejects.toThrow(FivetranTimeoutError);
    });
  });

  describe('retries', () => {
    it.each([
      ['a 503', { status: 503 } as const],
      ['no answer', 'hang' as const],
      ['a reset connection', 'reset' as const],
    ])('retries a GET after %s, and succeeds', async (_what, fault) => {
      const link = fake.addLink({ name: 'a' });
      fake.injectFault({ count: 1, method: 'GET', fault });

      await expect(client({ timeoutMs: 200 }).getPrivateLink(link.id)).resolves.toMatchObject({ id: link.id });
      expect(waits).toEqual([1000]);
    });

    it('never sends a POST twice, whatever the failure', async () => {
      fake.injectFault({ count: 1, method: 'POST', fault: { status: 503 } });
      const input = { name: 'x', region: 'AWS_EU_WEST_1', service: 'SOURCE_AWS', config: { connection_service_name: 's' } };

      await expect(client().createPrivateLink(input)).rejects.toThrow(FivetranError);
      expect(fake.requests().filter((r) => r.method === 'POST')).toHaveLength(1);
      expect(fake.links()).toEqual([]);
    });

    it('deletes a link (DESTROYING) and says so; an unknown one is FivetranNotFoundError', async () => {
      const link = fake.addLink({ name: 'a', state: 'OK' });

      await expect(client().deletePrivateLink(link.id)).resolves.toEqual({ message: `Private link with id '${link.id}' is marked for deletion` });
      expect(fake.links()[0]?.state).toBe('DESTROYING');
      await expect(client().deletePrivateLink('nope')).rejects.toThrow(FivetranNotFoundError);
    });
  });

  it('refuses FIVETRAN_API_URL over http unless it is a loopback address', () => {
    expect(() => checkApiUrl('http://api.fivetran.example/v1')).toThrow(ConfigError);
    expect(() => checkApiUrl('http://api.fivetran.example/v1')).toThrow(/must be an https URL .*clear text/);
    expect(() => createFivetranClient({ apiKey: 'k', apiSecret: 's', baseUrl: 'http://10.0.0.5/v1' })).toThrow(ConfigError);
    expect(checkApiUrl('https://api.fivetran.com/v1')).toBe('https://api.fivetran.com/v1');
    expect(checkApiUrl('http://127.0.0.1:4000/v1')).toBe('http://127.0.0.1:4000/v1');
    expect(checkApiUrl('http://localhost:4000/v1')).toBe('http://localhost:4000/v1');
  });
});
