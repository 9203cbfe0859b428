import { describe, expect, it } from 'vitest';
import { canonicalIp, ipSet } from '../lib/ip.js';

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
