import { describe, expect, it } from 'vitest';
import { RdsApiError } from '../../lib/aws/rds.js';
import { DnsError } from '../../lib/dns.js';
import { isTargetable, planTargets, type RegisteredTarget, type Resolution } from '../../lib/sync/plan.js';

const resolved = (...addresses: string[]): Resolution => ({ ok: true, addresses });
const target = (ip: string, state = 'healthy', port = 5432): RegisteredTarget => ({ ip, port, state });
const options = { port: 5432, force: false };

describe('planTargets', () => {
  it('does nothing when the registered targets match the answer', () => {
    const plan = planTargets(resolved('10.0.1.5'), [target('10.0.1.5')], options);
    expect(plan).toEqual({ add: [], remove: [], keep: ['10.0.1.5'], refused: [], reason: 'in-sync' });
  });

  it('adds the new address and removes the old one when the answer changes', () => {
    const plan = planTargets(resolved('10.0.2.9'), [target('10.0.1.5')], options);
    expect(plan.add).toEqual(['10.0.2.9']);
    expect(plan.remove).toEqual([target('10.0.1.5')]);
    expect(plan.keep).toEqual([]);
    expect(plan.reason).toBe('address-changed');
  });

  it('registers every address of a multi-address answer into an empty group', () => {
    const plan = planTargets(resolved('10.0.1.5', '10.0.2.9'), [], options);
    expect(plan.add).toEqual(['10.0.1.5', '10.0.2.9']);
    expect(plan.reason).toBe('address-changed');
  });

  it.each([
    ['a DNS failure', { ok: false, error: new Error('timeout') } as Resolution],
    ['an empty answer', resolved()],
  ])('never removes anything on %s (unknown is not empty)', (_, resolution) => {
    const plan = planTargets(resolution, [target('10.0.1.5'), target('10.0.1.6', 'unhealthy')], options);
    expect(plan).toEqual({ add: [], remove: [], keep: ['10.0.1.5', '10.0.1.6'], refused: [], reason: 'dns-failed' });
  });

  it('refuses the whole answer when any address is public, and changes nothing', () => {
    const plan = planTargets(resolved('10.0.1.5', '54.23.1.9'), [target('10.0.9.9')], options);
    expect(plan).toEqual({ add: [], remove: [], keep: ['10.0.9.9'], refused: ['54.23.1.9'], reason: 'address-refused' });
  });

  it('counts a draining target as absent and registers it again', () => {
    const plan = planTargets(resolved('10.0.1.5'), [target('10.0.1.5', 'draining')], options);
    expect(plan.add).toEqual(['10.0.1.5']);
    expect(plan.remove).toEqual([]);
    expect(plan.reason).toBe('address-changed');
  });

  it('does not deregister a stale target that is already draining', () => {
    const plan = planTargets(resolved('10.0.1.5'), [target('10.0.1.5'), target('10.0.3.3', 'unhealthy.draining')], options);
    expect(plan.remove).toEqual([]);
    expect(plan.reason).toBe('in-sync');
  });

  it('leaves targets on other ports untouched', () => {
    const plan = planTargets(resolved('10.0.2.9'), [target('10.0.1.5', 'healthy', 3306), target('10.0.1.7')], options);
    expect(plan.remove).toEqual([target('10.0.1.7')]);
    expect(plan.add).toEqual(['10.0.2.9']);
  });

  it('keeps nothing aside when forced: every resolved address is in add', () => {
    const plan = planTargets(resolved('10.0.1.5'), [target('10.0.1.5')], { ...options, force: true });
    expect(plan).toEqual({ add: ['10.0.1.5'], remove: [], keep: [], refused: [], reason: 'forced' });
  });

  it('registers every resolved address again when forced', () => {
    const plan = planTargets(resolved('10.0.1.5', '10.0.1.6'), [target('10.0.1.5'), target('10.0.4.4')], { ...options, force: true });
    expect(plan.add).toEqual(['10.0.1.5', '10.0.1.6']);
    expect(plan.remove).toEqual([target('10.0.4.4')]);
    expect(plan.reason).toBe('forced');
  });

  it('never removes anything when the RDS API could not list the members (unknown is not empty)', () => {
    const unknown: Resolution = { ok: false, error: new RdsApiError('DescribeDBClusters', 'cluster orders', { cause: new Error('denied') }) };
    const plan = planTargets(unknown, [target('10.0.1.5')], options);
    expect(plan).toEqual({ add: [], remove: [], keep: ['10.0.1.5'], refused: [], reason: 'members-unknown' });
  });

  it('adds the members that resolved and removes nothing when a member did not resolve', () => {
    const partial = { ...resolved('10.0.1.5', '10.0.2.9'), incomplete: new DnsError('timeout', 'orders-3.c0ffee.eu-west-1.rds.amazonaws.com') };
    const plan = planTargets(partial, [target('10.0.1.5'), target('10.0.3.3')], options);
    expect(plan).toEqual({ add: ['10.0.2.9'], remove: [], keep: ['10.0.1.5'], refused: [], reason: 'members-partial' });
  });

  it('treats two spellings of one IPv6 address as the same target', () => {
    const plan = planTargets(resolved('2600:1f18:aaaa::5'), [target('2600:1F18:AAAA:0:0:0:0:5')], options);
    expect(plan).toMatchObject({ add: [], remove: [], keep: ['2600:1f18:aaaa::5'], reason: 'in-sync' });
  });

  it('deregisters a stale IPv6 target with the spelling ELB reported', () => {
    const plan = planTargets(resolved('2600:1f18:aaaa::6'), [target('2600:1F18:AAAA:0:0:0:0:5')], options);
    expect(plan.remove).toEqual([target('2600:1F18:AAAA:0:0:0:0:5')]);
    expect(plan.add).toEqual(['2600:1f18:aaaa::6']);
  });

  it('keeps a registered unhealthy target that DNS still names', () => {
    const plan = planTargets(resolved('10.0.1.5'), [target('10.0.1.5', 'unhealthy')], options);
    expect(plan.reason).toBe('in-sync');
  });
});

describe('isTargetable', () => {
  it.each(['10.0.0.1', '172.16.0.1', '172.31.255.254', '192.168.1.1', '100.64.0.1', 'fd00::1', '2600:1f18::5'])('accepts %s', (ip) => {
    expect(isTargetable(ip)).toBe(true);
  });
  it.each(['54.1.2.3', '172.32.0.1', '8.8.8.8', '127.0.0.1', '169.254.1.1', '::1', 'fe80::1', 'ff02::1', '::ffff:10.0.0.1', 'not-an-ip'])(
    'refuses %s',
    (ip) => {
      expect(isTargetable(ip)).toBe(false);
    },
  );
});
