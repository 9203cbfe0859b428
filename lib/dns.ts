// Resolves an RDS endpoint to its current addresses, straight from the DNS servers
// (node's Resolver talks to them directly: no OS cache, no stale answer after a failover).
import { Resolver } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { ConfigError, isDnsServer, type DnsConfig } from './config.js';

/** What DNS said: the sorted addresses, or that it could not tell. */
export type Resolution = { ok: true; addresses: string[] } | { ok: false; error: Error };

export type DnsFailureKind = 'timeout' | 'nxdomain' | 'servfail' | 'refused' | 'empty' | 'error';

export class DnsError extends Error {
  override name = 'DnsError';
  constructor(
    readonly kind: DnsFailureKind,
    readonly hostname: string,
    options?: { cause?: unknown },
  ) {
    super(`DNS ${kind} for ${hostname}${causeCode(options?.cause)}`, options);
  }
}

/** node's c-ares error codes -> what an operator needs to know. */
const KINDS: Record<string, DnsFailureKind> = {
  ETIMEOUT: 'timeout',
  ENOTFOUND: 'nxdomain',
  ESERVFAIL: 'servfail',
  EREFUSED: 'refused',
  ENODATA: 'empty',
};

/** A CNAME chain longer than this is a loop or a misconfiguration. */
const MAX_CNAME_HOPS = 8;

export type IpVersion = 'ipv4' | 'ipv6';
export type ResolveEndpoint = (hostname: string, ipVersion?: IpVersion) => Promise<string[]>;

export function createResolver(config: DnsConfig): ResolveEndpoint {
  // Checked again here, whoever built the config: setServers aborts the process on port 0.
  const bad = config.servers.filter((server) => !isDnsServer(server));
  if (bad.length > 0) {
    const problem = `DNS_SERVERS ${bad.join(', ')}: not an IP address with an optional port (1-65535)`;
    throw new ConfigError(`Invalid configuration:\n- ${problem}`, [problem]);
  }
  const resolver = newResolver(config);
  return (hostname, ipVersion) => resolveEndpoint(resolver, hostname, ipVersion);
}

/** node's Resolver with the configured timeout and tries; the system's servers when none are given. */
export function newResolver(config: DnsConfig): Resolver {
  const resolver = new Resolver({ timeout: config.timeoutMs, tries: config.tries });
  if (config.servers.length > 0) resolver.setServers(config.servers);
  return resolver;
}

/**
 * The endpoint's addresses, sorted and de-duplicated. A recursive resolver answers the whole
 * CNAME chain (Aurora cluster endpoint -> writer instance) in one response; when a server
 * answers the CNAME alone, the chain is followed here.
 * Throws DnsError for every failure: an empty answer is a failure, not "no targets".
 */
export async function resolveEndpoint(resolver: Resolver, hostname: string, ipVersion?: IpVersion): Promise<string[]> {
  let name = hostname;
  for (let hop = 0; hop <= MAX_CNAME_HOPS; hop++) {
    try {
      const addresses = ipVersion === 'ipv6' ? await resolver.resolve6(name) : await resolver.resolve4(name);
      if (addresses.length > 0) return [...new Set(addresses)].sort(compareAddresses);
      // NOERROR with no address: a server that answered the CNAME alone. Follow it; a name with
      // no CNAME either fails here as empty (ENODATA), a timeout as a timeout. A CNAME answer
      // holds one name; an empty one would fail the next query.
      name = (await resolver.resolveCname(name))[0] ?? '';
    } catch (err) {
      // ENODATA (no record at all) included: a name with a CNAME answers the CNAME, not nothing.
      throw new DnsError(KINDS[String((err as NodeJS.ErrnoException).code)] ?? 'error', hostname, { cause: err });
    }
  }
  throw new DnsError('error', hostname, { cause: new Error(`more than ${MAX_CNAME_HOPS} CNAME hops`) });
}

/** The answer, or the failure as a value: for the planner a DNS failure is an input, not an exception. */
export async function resolveSettled(resolve: ResolveEndpoint, hostname: string, ipVersion?: IpVersion): Promise<Resolution> {
  try {
    return { ok: true, addresses: await resolve(hostname, ipVersion) };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
  }
}

/** Numeric order for IPv4 (10.0.0.9 before 10.0.0.10); plain string order otherwise. */
export function compareAddresses(a: string, b: string): number {
  if (isIPv4(a) && isIPv4(b)) return ipv4Number(a) - ipv4Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

const ipv4Number = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);

function causeCode(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return code ? ` (${code})` : '';
}
