// One spelling per address. DNS, ELB and people may write the same IPv6 address differently
// (2600:1F18:AAAA:0:0:0:0:5 and 2600:1f18:aaaa::5): comparing text would register one and
// deregister the other, so every comparison of addresses goes through canonicalIp.
import { isIP } from 'node:net';

/** RFC 5952 form for IPv6 (lower case, longest zero run compressed); IPv4 and non-addresses as given. */
export function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  // The WHATWG URL parser serialises IPv6 hosts in the RFC 5952 form.
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** The addresses as a set of canonical forms, for membership tests. */
export const ipSet = (ips: Iterable<string>): Set<string> => new Set([...ips].map(canonicalIp));
