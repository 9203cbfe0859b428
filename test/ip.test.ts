import { describe, expect, it } from 'vitest';
import { canonicalIp, ipSet, isTargetable } from '../lib/ip.js';

describe('canonicalIp', () => {
  it.each([
    ['2600:1F18:AAAA:0:0:0:0:5', '2600:1f18:aaaa::5'],
    ['2600:1f18:aaaa::5', '2600:1f18:aaaa::5'],
    ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
    ['10.0.1.5', '10.0.1.5'],
  ])('writes %s as %s', (given, canonical) => {
    expect(canonicalIp(given)).toBe(canonical);
  });

  it('leaves a non-address alone', () => {
    expect(canonicalIp('not-an-ip')).toBe('not-an-ip');
  });

  it('builds sets that find either spelling', () => {
    expect(ipSet(['2600:1F18:AAAA:0:0:0:0:5']).has(canonicalIp('2600:1f18:aaaa::5'))).toBe(true);
  });
});

// Both edges of every range: a range narrowed or widened by one bit (10/8 to /7, fe80::/10 to
// /16, ...) must fail here. Each row: the first and last address inside, and the first outside
// on each side that exists.
describe('isTargetable: the edges of every range', () => {
  const v4 = [
    { range: '10.0.0.0/8', first: '10.0.0.0', last: '10.255.255.255', below: '9.255.255.255', above: '11.0.0.0' },
    { range: '172.16.0.0/12', first: '172.16.0.0', last: '172.31.255.255', below: '172.15.255.255', above: '172.32.0.0' },
    { range: '192.168.0.0/16', first: '192.168.0.0', last: '192.168.255.255', below: '192.167.255.255', above: '192.169.0.0' },
    { range: '100.64.0.0/10', first: '100.64.0.0', last: '100.127.255.255', below: '100.63.255.255', above: '100.128.0.0' },
  ];
  it.each(v4)('accepts the first and last address of $range and refuses its neighbours', ({ first, last, below, above }) => {
    expect([first, last].map(isTargetable)).toEqual([true, true]);
    expect([below, above].map(isTargetable)).toEqual([false, false]);
  });

  const v6 = [
    { range: '2000::/3 (global unicast)', first: '2000::', last: '3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', below: '1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', above: '4000::' },
    { range: 'fc00::/7 (unique local)', first: 'fc00::', last: 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', below: 'fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', above: 'fe00::' },
  ];
  it.each(v6)('accepts the first and last address of $range and refuses its neighbours', ({ first, last, below, above }) => {
    expect([first, last].map(isTargetable)).toEqual([true, true]);
    expect([below, above].map(isTargetable)).toEqual([false, false]);
  });

  // The refused IPv6 ranges, edge to edge: none may creep into a target group.
  const refusedV6 = [
    { range: '::/127 (unspecified, loopback)', first: '::', last: '::1' },
    { range: 'fe80::/10 (link-local)', first: 'fe80::', last: 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff' },
    { range: 'ff00::/8 (multicast)', first: 'ff00::', last: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' },
    { range: '::ffff:0:0/96 (IPv4-mapped)', first: '::ffff:0.0.0.0', last: '::ffff:255.255.255.255' },
    { range: '64:ff9b::/96 (NAT64, RFC 6052)', first: '64:ff9b::', last: '64:ff9b::ffff:ffff' },
    { range: '64:ff9b:1::/48 (NAT64 local use, RFC 8215)', first: '64:ff9b:1::', last: '64:ff9b:1:ffff:ffff:ffff:ffff:ffff' },
  ];
  it.each(refusedV6)('refuses the first and last address of $range', ({ first, last }) => {
    expect([first, last].map(isTargetable)).toEqual([false, false]);
  });

  it.each(['64:ff9b::a00:5', '64:ff9b::10.0.0.5', '64:ff9b:1::a00:5', 'febf::1', 'ff3e::1', 'fec0::1'])('refuses %s', (ip) => {
    expect(isTargetable(ip)).toBe(false);
  });

  it.each(['', '10.0.0', '10.0.0.256', 'mydb.example.com', '[fd00::1]'])('refuses %j, which is not an address', (ip) => {
    expect(isTargetable(ip)).toBe(false);
  });
});
