// One spelling per address. DNS, ELB and people may write the same IPv6 address differently
// (2600:1F18:AAAA:0:0:0:0:5 and 2600:1f18:aaaa::5): comparing text would register one and
// deregister the other, so every comparison of addresses goes through canonicalIp.
import { BlockList, isIP } from 'node:net';

/** RFC 5952 form for IPv6 (lower case, longest zero run compressed); IPv4 and non-addresses as given. */
export function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  // The WHATWG URL parser serialises IPv6 hosts in the RFC 5952 form.
  return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** The addresses as a set of canonical forms, for membership tests. */
export const ipSet = (ips: Iterable<string>): Set<string> => new Set([...ips].map(canonicalIp));

// NLB IP targets must be private: RFC 1918 and RFC 6598 (shared address space) for IPv4.
// IPv6 targets are the VPC's own addresses: global unicast (Amazon's or BYOIP) or unique local
// (IPAM private ranges). Everything else is refused: loopback, link-local (fe80::/10),
// multicast (ff00::/8), IPv4-mapped, and NAT64 (64:ff9b::/96, RFC 6052; 64:ff9b:1::/48,
// RFC 8215): a DNS64 resolver's answer for an IPv4-only name, reachable only through a NAT
// gateway, never a target in the VPC.
// Built on each call (microseconds), not at module load, so that mutation testing can change them.
function targetableRanges(family: 'ipv4' | 'ipv6'): BlockList {
  const ranges = new BlockList();
  if (family === 'ipv4') {
    ranges.addSubnet('10.0.0.0', 8, 'ipv4');
    ranges.addSubnet('172.16.0.0', 12, 'ipv4');
    ranges.addSubnet('192.168.0.0', 16, 'ipv4');
    ranges.addSubnet('100.64.0.0', 10, 'ipv4');
  } else {
    // Separate from the IPv4 list: a BlockList's IPv4 rules also match IPv4-mapped addresses.
    ranges.addSubnet('2000::', 3, 'ipv6'); // global unicast
    ranges.addSubnet('fc00::', 7, 'ipv6'); // unique local
  }
  return ranges;
}

/** Whether an address can be an NLB IP target (DESIGN rule 2): private IPv4, or IPv6 that a VPC can hold. */
export function isTargetable(ip: string): boolean {
  // Not an address: checked as IPv6, which BlockList answers false for.
  const type = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
  return targetableRanges(type).check(ip, type);
}
