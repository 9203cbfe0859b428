import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DnsError } from '../../lib/dns.js';
import { combineMembers, primeMemberSets, resolveDesired } from '../../lib/sync/members.js';
import { RdsReads } from '../../lib/aws/rds.js';

const READER = 'orders.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com';
const WRITER = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const host = (id: string) => `${id}.c0ffee.eu-west-1.rds.amazonaws.com`;
const rdsMock = mockClient(RDSClient);

const answers: Record<string, string[]> = { [WRITER]: ['10.0.1.5'], [host('orders-2')]: ['10.0.2.9'], [host('orders-3')]: ['10.0.3.3'] };
const resolve = async (hostname: string) => {
  const answer = answers[hostname];
  if (!answer) throw new DnsError('nxdomain', hostname);
  return answer;
};

beforeEach(() => {
  rdsMock.reset();
  rdsMock.on(DescribeDBClustersCommand).resolves({
    DBClusters: [{ DBClusterMembers: ['orders-1', 'orders-2', 'orders-3'].map((id, i) => ({ DBInstanceIdentifier: id, IsClusterWriter: i === 0 })) }],
  });
  rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: ['orders-2', 'orders-3'].map((id) => ({ DBInstanceIdentifier: id, Endpoint: { Address: host(id) } })) });
});

describe('resolveDesired', () => {
  it('resolves a writer endpoint through DNS alone, without an RDS call', async () => {
    const desired = await resolveDesired({ endpoint: WRITER, ipAddressType: 'ipv4' }, { resolve, rds: new RDSClient({}) });
    expect(desired).toEqual({ ok: true, addresses: ['10.0.1.5'] });
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('is the union of every reader instance endpoint for a reader endpoint', async () => {
    const desired = await resolveDesired({ endpoint: READER, ipAddressType: 'ipv4' }, { resolve, rds: new RDSClient({}) });
    expect(desired).toEqual({
      ok: true,
      addresses: ['10.0.2.9', '10.0.3.3'],
      members: [
        { id: 'orders-2', endpoint: host('orders-2'), addresses: ['10.0.2.9'] },
        { id: 'orders-3', endpoint: host('orders-3'), addresses: ['10.0.3.3'] },
      ],
    });
  });

  it('is unknown, not empty, when the RDS API fails', async () => {
    rdsMock.on(DescribeDBClustersCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const desired = await resolveDesired({ endpoint: READER, ipAddressType: 'ipv4' }, { resolve, rds: new RDSClient({}) });
    expect(desired).toMatchObject({ ok: false, error: { name: 'RdsApiError' } });
  });

  it('fails a reader endpoint when no RDS client was given, rather than falling back to a DNS sample', async () => {
    const desired = await resolveDesired({ endpoint: READER, ipAddressType: 'ipv4' }, { resolve });
    expect(desired).toMatchObject({ ok: false, error: { message: expect.stringMatching(/needs an RDS client/) } });
  });
});

describe('combineMembers', () => {
  const failure = new DnsError('timeout', host('orders-3'));

  it('marks the set incomplete when one member does not resolve, and keeps what resolved', () => {
    const desired = combineMembers(READER, [
      { id: 'orders-2', endpoint: host('orders-2'), resolution: { ok: true, addresses: ['10.0.2.9'] } },
      { id: 'orders-3', endpoint: host('orders-3'), resolution: { ok: false, error: failure } },
    ]);
    expect(desired).toEqual({
      ok: true,
      addresses: ['10.0.2.9'],
      incomplete: failure,
      members: [
        { id: 'orders-2', endpoint: host('orders-2'), addresses: ['10.0.2.9'] },
        { id: 'orders-3', endpoint: host('orders-3'), error: { name: 'DnsError', message: `DNS timeout for ${host('orders-3')}`, kind: 'timeout' } },
      ],
    });
  });

  it('fails when no member resolved', () => {
    const desired = combineMembers(READER, [{ id: 'orders-3', endpoint: host('orders-3'), resolution: { ok: false, error: failure } }]);
    expect(desired).toMatchObject({ ok: false, error: failure });
  });

  it('skips a member that has no instance endpoint yet, and fails when that leaves nothing', () => {
    expect(combineMembers(READER, [{ id: 'orders-4', endpoint: null }])).toMatchObject({ ok: false, error: { name: 'NoMembersError' }, members: [{ id: 'orders-4', endpoint: null, addresses: [] }] });
    expect(combineMembers(READER, [{ id: 'orders-4', endpoint: null }])).toMatchObject({
      error: { message: `${READER}: the cluster has no member with an instance endpoint (RDS API), so there is nothing to point at` },
    });
  });

  it('de-duplicates and sorts the union numerically', () => {
    const desired = combineMembers(READER, [
      { id: 'a', endpoint: 'a', resolution: { ok: true, addresses: ['10.0.0.10'] } },
      { id: 'b', endpoint: 'b', resolution: { ok: true, addresses: ['10.0.0.9', '10.0.0.10'] } },
    ]);
    expect(desired).toMatchObject({ ok: true, addresses: ['10.0.0.9', '10.0.0.10'] });
  });
});

describe('primeMemberSets', () => {
  it('makes no RDS call when no mapping is a reader or custom endpoint, or there is no RDS client', async () => {
    expect(await primeMemberSets([{ endpoint: WRITER }], { resolve, rds: new RDSClient({}) }, 1000)).toBeUndefined();
    expect(await primeMemberSets([{ endpoint: READER }], { resolve }, 1000)).toBeUndefined();
    expect(rdsMock.calls()).toHaveLength(0);
  });

  it('gives up at its bound (no batched read): each pass then reads on its own', async () => {
    rdsMock.on(DescribeDBClustersCommand).callsFake(() => new Promise(() => undefined));
    expect(await primeMemberSets([{ endpoint: READER }], { resolve, rds: new RDSClient({}) }, 20)).toBeUndefined();
  });

  it('serves the pass from the batched read and fills the run reads', async () => {
    rdsMock.on(DescribeDBClustersCommand).resolves({
      DBClusters: [{ DBClusterIdentifier: 'orders', DBClusterMembers: ['orders-1', 'orders-2'].map((id, i) => ({ DBInstanceIdentifier: id, IsClusterWriter: i === 0 })) }],
    });
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: ['orders-1', 'orders-2'].map((id) => ({ DBInstanceIdentifier: id, DBClusterIdentifier: 'orders', Endpoint: { Address: host(id) } })) });
    const deps = { resolve, rds: new RDSClient({}), rdsReads: new RdsReads() };

    const primed = await primeMemberSets([{ endpoint: READER }, { endpoint: WRITER }], deps, 1000);
    rdsMock.resetHistory();
    const desired = await resolveDesired({ endpoint: READER, ipAddressType: 'ipv4' }, { ...deps, ...(primed ? { rdsPrimed: primed } : {}) });

    expect(desired).toMatchObject({ ok: true, addresses: ['10.0.2.9'] });
    expect(rdsMock.calls()).toHaveLength(0);
    expect(deps.rdsReads.instanceEndpoints.get('orders-2')).toBe(host('orders-2'));
  });
});
