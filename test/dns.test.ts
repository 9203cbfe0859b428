import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/config.js';
import { createResolver, DnsError, type ResolveEndpoint } from '../lib/dns.js';
import { startDnsServer, type DnsServer } from './harness/dns-server.js';

const WRITER = 'orders-1.c0ffee.eu-west-1.rds.amazonaws.com';
const CLUSTER = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';

let dns: DnsServer;
let resolve: ResolveEndpoint;

beforeAll(async () => {
  dns = await startDnsServer();
  resolve = createResolver({ servers: [dns.address], timeoutMs: 100, tries: 1 });
});
afterAll(() => dns.close());
beforeEach(() => {
  for (const name of [WRITER, CLUSTER]) dns.clear(name);
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
