// A loopback DNS server (UDP, dns2) that answers like a recursive resolver would, for names
// the test controls: point node's Resolver at `address` and change the answers mid-test.
//
// What node:dns/promises `new Resolver({ timeout, tries })` + `setServers([address])` makes of
// each answer (node 20.20, c-ares 1.34; asserted in test/harness.test.ts):
//   setA / setAAAA, also through a CNAME chain -> resolve4 / resolve6 return the addresses
//   NXDOMAIN, unknown name, dangling CNAME    -> ENOTFOUND
//   SERVFAIL, CNAME loop                      -> ESERVFAIL (asked once, whatever `tries` says)
//   REFUSED                                   -> EREFUSED
//   TIMEOUT (never answers)                   -> ETIMEOUT, after more than timeout * tries:
//                                                c-ares doubles the timeout on each retry
//   EMPTY (NOERROR, no answer)                -> ENODATA
// Beware: NOERROR with only a CNAME in the answer (EMPTY at the chain's end, or resolve6 on a
// name with only A records) resolves to [] with no error. Node's Resolver does not cache.
import { createServer, Packet } from 'dns2';
import type DNS from 'dns2';

export type DnsFailure = 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'TIMEOUT' | 'EMPTY';

export interface DnsServer {
  /** "127.0.0.1:PORT", as node's `resolver.setServers([...])` and DNS_SERVERS take it. */
  readonly address: string;
  readonly port: number;
  /** Replaces the A records of `name` (keeps its AAAA records; drops a CNAME or failure). */
  setA(name: string, ips: readonly string[]): void;
  /** Replaces the AAAA records of `name` (keeps its A records; drops a CNAME or failure). */
  setAAAA(name: string, ips: readonly string[]): void;
  /** Makes `name` an alias of `target`, like an Aurora cluster endpoint for its writer. */
  setCname(name: string, target: string): void;
  /**
   * Makes `name` an alias of the next of `targets` on each query, in turn, like an Aurora reader
   * or custom endpoint, which answers one member per query.
   */
  setCnameRotation(name: string, targets: readonly string[]): void;
  /** Makes every query for `name` (or through it, in a CNAME chain) fail this way. */
  fail(name: string, kind: DnsFailure): void;
  /** Forgets `name`: it answers NXDOMAIN again. */
  clear(name: string): void;
  /** How many queries arrived, for `name` or in total. */
  queries(name?: string): number;
  close(): Promise<void>;
}

export interface DnsServerOptions {
  /** TTL of every record, seconds. Default 5, as RDS uses. */
  readonly ttl?: number;
  /**
   * Answer a CNAME alone, without following the chain (NOERROR, the one CNAME record), as an
   * authoritative server for the alias's zone does: the client follows the chain itself.
   * Default false: the whole chain in one answer, as a recursive resolver does.
   */
  readonly cnameAlone?: boolean;
}

type Entry =
  | { kind: 'addresses'; a: readonly string[]; aaaa: readonly string[] }
  | { kind: 'cname'; target: string }
  | { kind: 'rotation'; targets: readonly string[]; next: number }
  | { kind: 'failure'; failure: DnsFailure };

type Answer = { rcode: number; answers: DNS.Packet.Resource[] };

// Packet.RCODE exists at runtime but is missing from dns2's type declarations.
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
const { A, AAAA, CNAME } = Packet.TYPE;

const normalize = (name: string) => name.toLowerCase().replace(/\.$/, '');

export async function startDnsServer(options: DnsServerOptions = {}): Promise<DnsServer> {
  const ttl = options.ttl ?? 5;
  const zone = new Map<string, Entry>();
  const queryLog: string[] = [];

  const setAddresses = (name: string, family: 'a' | 'aaaa', ips: readonly string[]) => {
    const key = normalize(name);
    const current = zone.get(key);
    const base = current?.kind === 'addresses' ? current : { kind: 'addresses' as const, a: [], aaaa: [] };
    zone.set(key, { ...base, [family]: [...ips] });
  };

  const record = (name: string, type: number, data: Partial<DNS.Packet.Resource>) =>
    ({ name, type, class: Packet.CLASS.IN, ttl, ...data }) as DNS.Packet.Resource;

  // What a recursive resolver answers: every CNAME of the chain, then the addresses or an
  // error. undefined: no answer at all.
  const lookup = ({ name, type }: DNS.Packet.Question): Answer | undefined => {
    const answers: DNS.Packet.Resource[] = [];
    const seen = new Set<string>();
    for (let owner = name; ; ) {
      const key = normalize(owner);
      const entry = zone.get(key);
      if (entry === undefined) return { rcode: RCODE.NXDOMAIN, answers };
      if (seen.has(key)) return { rcode: RCODE.SERVFAIL, answers: [] }; // a CNAME loop
      seen.add(key);
      switch (entry.kind) {
        case 'cname':
          answers.push(record(owner, CNAME, { domain: entry.target }));
          if (options.cnameAlone) return { rcode: RCODE.NOERROR, answers };
          owner = entry.target;
          continue;
        case 'rotation': {
          const target = entry.targets[entry.next++ % entry.targets.length] ?? '';
          answers.push(record(owner, CNAME, { domain: target }));
          if (options.cnameAlone) return { rcode: RCODE.NOERROR, answers };
          owner = target;
          continue;
        }
        case 'addresses': {
          const ips = type === A ? entry.a : type === AAAA ? entry.aaaa : [];
          return { rcode: RCODE.NOERROR, answers: [...answers, ...ips.map((address) => record(owner, type, { address }))] };
        }
        case 'failure':
          switch (entry.failure) {
            case 'TIMEOUT':
              return undefined;
            case 'EMPTY':
              return { rcode: RCODE.NOERROR, answers };
            case 'NXDOMAIN':
              return { rcode: RCODE.NXDOMAIN, answers };
            default:
              return { rcode: RCODE[entry.failure], answers: [] };
          }
      }
    }
  };

  const handle = (request: DNS.Packet, send: (response: DNS.Packet) => Promise<Buffer>) => {
    const [question] = request.questions;
    if (question) queryLog.push(normalize(question.name));
    const answer = question ? lookup(question) : { rcode: RCODE.FORMERR, answers: [] };
    if (answer === undefined) return; // TIMEOUT: the client waits in vain
    const response = Packet.createResponseFromRequest(request);
    response.header.ra = 1; // recursion available: we play the VPC's resolver
    response.header.rcode = answer.rcode;
    response.answers = answer.answers;
    send(response).catch(() => undefined); // fails only while the socket closes: nobody to tell
  };

  const server = createServer({ udp: true, handle });
  const failed = new Promise<never>((_, reject) => server.once('error', reject));
  const addresses = await Promise.race([server.listen({ udp: { port: 0, address: '127.0.0.1' } }), failed]);
  const port = addresses.udp?.port;
  if (port === undefined) throw new Error('dns2 did not report its UDP port');

  return {
    address: `127.0.0.1:${port}`,
    port,
    setA: (name, ips) => setAddresses(name, 'a', ips),
    setAAAA: (name, ips) => setAddresses(name, 'aaaa', ips),
    setCname: (name, target) => void zone.set(normalize(name), { kind: 'cname', target: normalize(target) }),
    setCnameRotation: (name, targets) => void zone.set(normalize(name), { kind: 'rotation', targets: targets.map(normalize), next: 0 }),
    fail: (name, failure) => void zone.set(normalize(name), { kind: 'failure', failure }),
    clear: (name) => void zone.delete(normalize(name)),
    queries: (name) => (name === undefined ? queryLog.length : queryLog.filter((q) => q === normalize(name)).length),
    close: () => server.close(),
  };
}
