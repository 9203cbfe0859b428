import { describe, expect, it } from 'vitest';
import { RdsApiError } from '../../lib/aws/rds.js';
import { DnsError } from '../../lib/dns.js';
import { decideMembers, memberChecks } from '../../lib/doctor/members.js';
import type { DesiredSet } from '../../lib/sync/members.js';
import type { RegisteredTarget } from '../../lib/sync/plan.js';
import { TG_A } from '../fixtures.js';

const host = (id: string) => `${id}.c0ffee.eu-west-1.rds.amazonaws.com`;
const target = (ip: string, state = 'healthy', port = 5432): RegisteredTarget => ({ ip, port, state });
const both: DesiredSet = {
  ok: true,
  addresses: ['10.0.2.9', '10.0.3.3'],
  members: [
    { id: 'orders-2', endpoint: host('orders-2'), addresses: ['10.0.2.9'] },
    { id: 'orders-3', endpoint: host('orders-3'), addresses: ['10.0.3.3'] },
  ],
};

describe('members.targets', () => {
  it('runs for reader and custom endpoints only', () => {
    const mapping = (endpoint: string) => ({ endpoint, targetGroupArn: TG_A, port: 5432, ipAddressType: 'ipv4' as const });
    expect(memberChecks(mapping('orders.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com')).map((c) => c.id)).toEqual(['members.targets']);
    expect(memberChecks(mapping('analytics.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com')).map((c) => c.id)).toEqual(['members.targets']);
    expect(memberChecks(mapping('orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com'))).toEqual([]);
  });

  it('passes and prints each member with its target state when every member is a live target', () => {
    expect(decideMembers(both, [target('10.0.2.9'), target('10.0.3.3', 'initial')], 5432)).toEqual({
      status: 'pass',
      message: '2 members: orders-2 10.0.2.9 healthy; orders-3 10.0.3.3 initial',
    });
  });

  it('fails naming the member that is not registered, with the fix', () => {
    const verdict = decideMembers(both, [target('10.0.2.9'), target('10.0.3.3', 'draining')], 5432);
    expect(verdict).toMatchObject({ status: 'fail', message: '2 members: orders-2 10.0.2.9 healthy; orders-3 10.0.3.3 draining. Not a live target: 10.0.3.3' });
    expect(verdict.fix).toMatch(/rds-nlb-sync sync.*RdsApiFailures/);
  });

  it('fails when a member does not resolve, saying its target is kept', () => {
    const error = new DnsError('timeout', host('orders-3'));
    const partial: DesiredSet = {
      ...both,
      incomplete: error,
      members: [both.members?.[0] ?? { id: '', endpoint: null }, { id: 'orders-3', endpoint: host('orders-3'), error: { name: 'DnsError', message: error.message, kind: 'timeout' } }],
    };
    expect(decideMembers(partial, [target('10.0.2.9'), target('10.0.3.3')], 5432)).toMatchObject({
      status: 'fail',
      message: `2 members: orders-2 10.0.2.9 healthy; orders-3: DNS timeout for ${host('orders-3')}. orders-3 did not resolve: sync keeps their targets and fails the mapping`,
    });
  });

  it('warns about a registered target that is no member\'s', () => {
    expect(decideMembers(both, [target('10.0.2.9'), target('10.0.3.3'), target('10.0.1.5')], 5432)).toMatchObject({ status: 'warn', message: expect.stringMatching(/no member's: 10\.0\.1\.5 \(sync removes them/) });
  });

  it('cannot tell when the RDS API refuses doctor, and says which permission', () => {
    const error = new RdsApiError('DescribeDBClusters', 'cluster orders', { cause: Object.assign(new Error('not authorized'), { name: 'AccessDenied' }) });
    expect(decideMembers({ ok: false, error }, [], 5432)).toMatchObject({ status: 'warn', message: expect.stringMatching(/^could not tell: RdsApiError/) });
  });
});
