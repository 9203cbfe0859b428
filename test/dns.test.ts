import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/config.js';
import { Resolver } from 'node:dns/promises';
import { compareAddresses, createResolver, DnsError, newResolver, resolveSettled, type ResolveEndpoint } from '../lib/dns.js';
import { startDnsServer, type DnsServer } from './harness/dns-server.js';

const WRITER = 'orders-1.c0ffee.eu-west-1.rds.amazonaws.com';
const CLUSTER = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';

let dns: DnsServer;
let resolve: ResolveEndpoint;

beforeAll(async () => {
  dns = await startDnsServer();
});
afterAll(() => dns.close());
beforeEach(() => {
  for (const name of [WRITER, CLUSTER]) dns.clear(name);
  // Per test, not in beforeAll: a failure in beforeAll skips the tests instead of failing them,
  // and mutation testing would count a broken createResolver as surviving.
  resolve = createResolver({ servers: [dns.address], timeoutMs: 100, tries: 1 });
});

async function failureOf(hostname: string): Promise<DnsError> {
  const err = await resolve(hostname).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DnsError);
  return err as DnsError;
}

describe('resolveEndpoint against a DNS server on 127.0.0.1', () => {
  it('sees an address change at once (no cache)', async () => {
    dns.setA(WRITER, ['10.0.1.5']);
    expect(await resolve(WRITER)).toEqual(['10.0.1.5']);
    dns.setA(WRITER, ['10.0.2.9']);
    expect(await resolve(WRITER)).toEqual(['10.0.2.9']);
  });

  it('follows a CNAME chain from the cluster endpoint to the writer instance', async () => {
    dns.setCname(CLUSTER, WRITER);
    dns.setA(WRITER, ['10.0.1.5']);
    expect(await resolve(CLUSTER)).toEqual(['10.0.1.5']);
  });

  it('returns several A records sorted numerically and without duplicates', async () => {
    dns.setA(WRITER, ['10.0.1.10', '10.0.1.9', '10.0.1.10']);
    expect(await resolve(WRITER)).toEqual(['10.0.1.9', '10.0.1.10']);
  });

  it('resolves AAAA records for an IPv6 target group', async () => {
    dns.setAAAA(WRITER, ['2600:1f18::b', '2600:1f18::a']);
    expect(await resolve(WRITER, 'ipv6')).toEqual(['2600:1f18::a', '2600:1f18::b']);
  });

  it.each([
    ['NXDOMAIN', 'nxdomain'],
    ['SERVFAIL', 'servfail'],
    ['REFUSED', 'refused'],
    ['TIMEOUT', 'timeout'],
    ['EMPTY', 'empty'],
  ] as const)('turns %s into a typed %s failure naming the endpoint', async (failure, kind) => {
    dns.fail(WRITER, failure);
    const err = await failureOf(WRITER);
    expect(err.kind).toBe(kind);
    expect(err.message).toContain(WRITER);
  });

  it('reports an empty answer at the end of a CNAME chain as empty', async () => {
    dns.setCname(CLUSTER, WRITER);
    dns.fail(WRITER, 'EMPTY');
    expect((await failureOf(CLUSTER)).kind).toBe('empty');
  });

  it('reports the name asked for when the chain target does not exist', async () => {
    dns.setCname(CLUSTER, WRITER);
    const err = await failureOf(CLUSTER);
    expect(err.kind).toBe('nxdomain');
    expect(err.hostname).toBe(CLUSTER);
  });
});

describe('createResolver', () => {
  it('refuses a server node would abort on (port 0) instead of handing it to setServers', () => {
    expect(() => createResolver({ servers: ['10.0.0.2:0'], timeoutMs: 100, tries: 1 })).toThrow(ConfigError);
    expect(() => createResolver({ servers: ['10.0.0.2:0'], timeoutMs: 100, tries: 1 })).toThrow(/DNS_SERVERS 10\.0\.0\.2:0: not an IP address/);
  });
});

// A server that answers a CNAME alone (an authoritative server for the alias's zone, or a
// forwarder that does not chase it): the resolver follows the chain itself, hop by hop.
describe('resolveEndpoint against a server that answers a CNAME alone', () => {
  let alone: DnsServer;
  let resolveAlone: ResolveEndpoint;
  const hop = (i: number) => `hop-${i}.example.internal`;

  beforeAll(async () => {
    alone = await startDnsServer({ cnameAlone: true });
  });
  afterAll(() => alone.close());
  beforeEach(() => {
    for (let i = 0; i <= 12; i++) alone.clear(hop(i));
    for (const name of [WRITER, CLUSTER]) alone.clear(name);
    resolveAlone = createResolver({ servers: [alone.address], timeoutMs: 200, tries: 1 });
  });

  it('follows the cluster endpoint to the writer, asking for each name', async () => {
    alone.setCname(CLUSTER, WRITER);
    alone.setA(WRITER, ['10.0.1.5']);
    expect(await resolveAlone(CLUSTER)).toEqual(['10.0.1.5']);
    expect(alone.queries(WRITER)).toBe(1);
  });

  it('follows an IPv6 chain the same way', async () => {
    alone.setCname(CLUSTER, WRITER);
    alone.setAAAA(WRITER, ['2600:1f18::5']);
    expect(await resolveAlone(CLUSTER, 'ipv6')).toEqual(['2600:1f18::5']);
  });

  it('follows eight CNAME hops, the most it takes', async () => {
    for (let i = 0; i < 8; i++) alone.setCname(hop(i), hop(i + 1));
    alone.setA(hop(8), ['10.0.1.8']);
    expect(await resolveAlone(hop(0))).toEqual(['10.0.1.8']);
  });

  it('gives up on a ninth hop with a DnsError naming the hop limit', async () => {
    for (let i = 0; i < 9; i++) alone.setCname(hop(i), hop(i + 1));
    alone.setA(hop(9), ['10.0.1.9']);
    const err = await resolveAlone(hop(0)).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DnsError);
    expect(err).toMatchObject({ kind: 'error', hostname: hop(0), message: `DNS error for ${hop(0)}` });
    expect(((err as DnsError).cause as Error).message).toBe('more than 8 CNAME hops');
  });

  it('ends a CNAME loop in a DnsError after the hop limit, not in an endless loop', async () => {
    alone.setCname(hop(0), hop(1));
    alone.setCname(hop(1), hop(0));
    const before = alone.queries(hop(0)) + alone.queries(hop(1));
    await expect(resolveAlone(hop(0))).rejects.toThrow(`DNS error for ${hop(0)}`);
    // Nine address queries and nine CNAME queries, alternating between the two names.
    expect(alone.queries(hop(0)) + alone.queries(hop(1)) - before).toBe(18);
  });

  it('reports an alias whose target has no address as empty', async () => {
    alone.setCname(CLUSTER, WRITER);
    alone.fail(WRITER, 'EMPTY');
    await expect(resolveAlone(CLUSTER)).rejects.toThrow(`DNS empty for ${CLUSTER} (ENODATA)`);
  });
});

describe('DnsError messages', () => {
  it.each([
    ['TIMEOUT', `DNS timeout for ${WRITER} (ETIMEOUT)`],
    ['NXDOMAIN', `DNS nxdomain for ${WRITER} (ENOTFOUND)`],
    ['EMPTY', `DNS empty for ${WRITER} (ENODATA)`],
  ] as const)('names the kind, the endpoint and the resolver code for %s', async (failure, message) => {
    dns.fail(WRITER, failure);
    await expect(resolve(WRITER)).rejects.toThrow(message);
  });

  it('keeps the resolver error as the cause', async () => {
    dns.fail(WRITER, 'SERVFAIL');
    expect((await failureOf(WRITER)).cause).toMatchObject({ code: 'ESERVFAIL' });
  });

  it('calls a code it does not know an error', async () => {
    const err = await failureOf('not..a.name');
    expect(err.kind).toBe('error');
    expect(err.message).toMatch(/^DNS error for not\.\.a\.name \(E[A-Z]+\)$/);
  });
});

describe('resolver options', () => {
  it('asks DNS_TRIES times, DNS_TIMEOUT_MS apart, before it reports a timeout', async () => {
    dns.fail(WRITER, 'TIMEOUT');
    const before = dns.queries(WRITER);
    const started = Date.now();
    const tries3 = createResolver({ servers: [dns.address], timeoutMs: 100, tries: 3 });
    await expect(tries3(WRITER)).rejects.toThrow('DNS timeout');
    // c-ares doubles the timeout per try: 100 + 200 + 400 ms. Its defaults would take 4 tries from 5 s.
    expect(dns.queries(WRITER) - before).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('waits DNS_TIMEOUT_MS, not the default, for one try', async () => {
    dns.fail(WRITER, 'TIMEOUT');
    const before = dns.queries(WRITER);
    const started = Date.now();
    await expect(createResolver({ servers: [dns.address], timeoutMs: 300, tries: 1 })(WRITER)).rejects.toThrow('DNS timeout');
    expect(dns.queries(WRITER) - before).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('keeps the system resolver\'s servers when DNS_SERVERS is empty', () => {
    expect(newResolver({ servers: [], timeoutMs: 100, tries: 1 }).getServers()).toEqual(new Resolver().getServers());
  });

  it('uses exactly the DNS_SERVERS given', () => {
    expect(newResolver({ servers: ['10.0.0.2', '10.0.0.3:5353'], timeoutMs: 100, tries: 1 }).getServers()).toEqual(['10.0.0.2', '10.0.0.3:5353']);
  });

  it('builds a resolver from valid servers without complaint', async () => {
    dns.setA(WRITER, ['10.0.1.5']);
    expect(await createResolver({ servers: [dns.address, '10.0.0.2'], timeoutMs: 100, tries: 1 })(WRITER)).toEqual(['10.0.1.5']);
  });

  it('names only the bad servers in its ConfigError', () => {
    const err = (() => {
      try {
        createResolver({ servers: ['10.0.0.2', '10.0.0.2:0', '[fd00::2]:0'], timeoutMs: 100, tries: 1 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual(['DNS_SERVERS 10.0.0.2:0, [fd00::2]:0: not an IP address with an optional port (1-65535)']);
  });
});

describe('compareAddresses', () => {
  it('orders IPv4 numerically, octet by octet', () => {
    const sorted = ['10.0.1.0', '10.0.0.200', '9.255.255.255', '10.0.0.9', '10.0.0.10', '10.1.0.0'].sort(compareAddresses);
    expect(sorted).toEqual(['9.255.255.255', '10.0.0.9', '10.0.0.10', '10.0.0.200', '10.0.1.0', '10.1.0.0']);
  });

  it.each([
    ['10.0.0.5', '10.0.0.5', 0],
    ['fd00::2', 'fd00::2', 0],
    ['fd00::1', 'fd00::2', -1],
    ['fd00::2', 'fd00::1', 1],
    ['10.0.0.1', 'fd00::1', -1],
    ['fd00::1', '10.0.0.1', 1],
  ])('compares %s with %s as %d', (a, b, sign) => {
    expect(Math.sign(compareAddresses(a, b))).toBe(sign);
  });
});

describe('resolveSettled', () => {
  it('returns the answer as ok', async () => {
    expect(await resolveSettled(async () => ['10.0.0.5'], WRITER)).toEqual({ ok: true, addresses: ['10.0.0.5'] });
  });

  it('returns a failure as a value, keeping the error', async () => {
    const error = new DnsError('timeout', WRITER);
    expect(await resolveSettled(() => Promise.reject(error), WRITER)).toEqual({ ok: false, error });
  });

  it('wraps a thrown non-error in an Error', async () => {
    const settled = await resolveSettled(() => Promise.reject('gone'), WRITER);
    expect(settled.ok).toBe(false);
    expect(!settled.ok && settled.error).toBeInstanceOf(Error);
    expect(!settled.ok && settled.error.message).toBe('gone');
  });

  it('passes the IP version on', async () => {
    const asked: unknown[] = [];
    await resolveSettled(async (_, v) => (asked.push(v), ['fd00::1']), WRITER, 'ipv6');
    expect(asked).toEqual(['ipv6']);
  });
});
