import { DescribeDBClusterEndpointsCommand, DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { FILTER_VALUES_MAX, listMemberInstances, RdsApiError, RdsReads, readMemberSets } from '../../lib/aws/rds.js';
import { parseRdsEndpoint, type RdsEndpoint } from '../../lib/rds-endpoint.js';
import { fakeHost, fakeRds, type FakeCluster } from './fake-rds.js';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({});

const reader = (cluster: string) => parseRdsEndpoint(`${cluster}.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com`);
const custom = (id: string) => parseRdsEndpoint(`${id}.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com`);
/** A cluster of a writer and two readers, with a custom endpoint that excludes its last reader. */
const cluster = (id: string): FakeCluster => ({ id, members: [`${id}-1`, `${id}-2`, `${id}-3`], custom: [{ id: `${id}-analytics`, type: 'ANY', excludedMembers: [`${id}-3`] }] });
const calls = () => ({
  DescribeDBClusterEndpoints: rdsMock.commandCalls(DescribeDBClusterEndpointsCommand).length,
  DescribeDBClusters: rdsMock.commandCalls(DescribeDBClustersCommand).length,
  DescribeDBInstances: rdsMock.commandCalls(DescribeDBInstancesCommand).length,
});
const ids = (members: { id: string }[]) => members.map((m) => m.id);

beforeEach(() => rdsMock.reset());

describe('readMemberSets: the member sets of a pass in one batched read', () => {
  it('reads 3 clusters x (reader + custom) endpoints in one call per API, and each endpoint then makes none', async () => {
    fakeRds(rdsMock, ['orders', 'billing', 'events'].map(cluster));
    const endpoints = ['orders', 'billing', 'events'].flatMap((c) => [reader(c), custom(`${c}-analytics`)]);

    const primed = await readMemberSets(rds, endpoints);
    const members = await Promise.all(endpoints.map((e) => listMemberInstances(rds, e, undefined, primed)));

    expect(calls()).toEqual({ DescribeDBClusterEndpoints: 1, DescribeDBClusters: 1, DescribeDBInstances: 1 });
    expect(members[0]).toEqual([
      { id: 'orders-2', endpoint: fakeHost('orders-2') },
      { id: 'orders-3', endpoint: fakeHost('orders-3') },
    ]);
    expect(ids(members[1] ?? [])).toEqual(['orders-1', 'orders-2']);
    expect(ids(members[5] ?? [])).toEqual(['events-1', 'events-2']);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBClusterEndpointsCommand, {
      Filters: [{ Name: 'db-cluster-endpoint-id', Values: ['orders-analytics', 'billing-analytics', 'events-analytics'] }],
    });
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBClustersCommand, { Filters: [{ Name: 'db-cluster-id', Values: ['orders', 'billing', 'events'] }] });
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { Filters: [{ Name: 'db-cluster-id', Values: ['orders', 'billing', 'events'] }] });
  });

  it('asks for a cluster once when several endpoints name it', async () => {
    fakeRds(rdsMock, [cluster('orders')]);
    await readMemberSets(rds, [reader('orders'), reader('orders'), custom('orders-analytics')]);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBClustersCommand, { Filters: [{ Name: 'db-cluster-id', Values: ['orders'] }] });
  });

  it('makes a cluster missing from the answer NotFound for the endpoints that name it alone', async () => {
    fakeRds(rdsMock, [cluster('orders')]);
    const primed = await readMemberSets(rds, [reader('orders'), reader('gone')]);

    expect(() => primed.members(reader('gone'))).toThrow(RdsApiError);
    expect(() => primed.members(reader('gone'))).toThrow(/RDS DescribeDBClusters failed for cluster gone: NotFound: cluster gone not found\. Check the endpoint name/);
    expect(ids(primed.members(reader('orders')))).toEqual(['orders-2', 'orders-3']);
  });

  it('makes a custom endpoint missing from the answer NotFound for it alone, and does not ask for clusters it cannot name', async () => {
    fakeRds(rdsMock, [cluster('orders')]);
    const primed = await readMemberSets(rds, [custom('orders-analytics'), custom('nope')]);

    await expect(listMemberInstances(rds, custom('nope'), undefined, primed)).rejects.toThrow(/DescribeDBClusterEndpoints failed for custom endpoint nope: NotFound/);
    expect(ids(primed.members(custom('orders-analytics')))).toEqual(['orders-1', 'orders-2']);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBClustersCommand, { Filters: [{ Name: 'db-cluster-id', Values: ['orders'] }] });
  });

  it('makes a failed DescribeDBClusters unknown (an RdsApiError, never no members) for every endpoint that needed it', async () => {
    fakeRds(rdsMock, [cluster('orders'), cluster('billing')]);
    rdsMock.on(DescribeDBClustersCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    const endpoints = [reader('orders'), custom('billing-analytics')];

    const primed = await readMemberSets(rds, endpoints);

    for (const e of endpoints) await expect(listMemberInstances(rds, e, undefined, primed)).rejects.toThrow(RdsApiError);
    await expect(listMemberInstances(rds, reader('orders'), undefined, primed)).rejects.toThrow(/DescribeDBClusters failed for cluster orders: Throttling: Rate exceeded\. RDS throttled/);
  });

  it('fails only the custom endpoints when DescribeDBClusterEndpoints fails: the reader endpoints are served', async () => {
    fakeRds(rdsMock, [cluster('orders')]);
    rdsMock.on(DescribeDBClusterEndpointsCommand).rejects(Object.assign(new Error('User is not authorized to perform: rds:DescribeDBClusterEndpoints'), { name: 'AccessDenied' }));

    const primed = await readMemberSets(rds, [reader('orders'), custom('orders-analytics')]);

    expect(() => primed.members(custom('orders-analytics'))).toThrow(/DescribeDBClusterEndpoints failed for custom endpoint orders-analytics: AccessDenied.*rds:DescribeDBClusterEndpoints/);
    expect(ids(primed.members(reader('orders')))).toEqual(['orders-2', 'orders-3']);
  });

  it('makes a failed DescribeDBInstances unknown for the clusters it was asked about', async () => {
    fakeRds(rdsMock, [cluster('orders')]);
    rdsMock.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));
    const primed = await readMemberSets(rds, [reader('orders')]);
    expect(() => primed.members(reader('orders'))).toThrow(/DescribeDBInstances failed for instances of cluster orders: TimeoutError.*NAT gateway/);
  });

  it('asks 100 identifiers per filter at most: 250 clusters are 3 calls per API', async () => {
    const names = Array.from({ length: 250 }, (_, i) => `db${i}`);
    fakeRds(rdsMock, names.map(cluster), 1000);
    const endpoints = names.flatMap((c) => [reader(c), custom(`${c}-analytics`)]);

    const primed = await readMemberSets(rds, endpoints);

    expect(calls()).toEqual({ DescribeDBClusterEndpoints: 3, DescribeDBClusters: 3, DescribeDBInstances: 3 });
    const sizes = rdsMock.calls().map((c) => (c.args[0].input as { Filters: { Values: string[] }[] }).Filters[0]?.Values.length);
    expect(Math.max(...(sizes as number[]))).toBe(FILTER_VALUES_MAX);
    // Every endpoint answered (the fake refuses a filter of more than 100, as AWS does).
    for (const e of endpoints) expect(primed.members(e)).toHaveLength(2);
  });

  it('follows every page (100 records each) of each call', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `db${i}`);
    fakeRds(rdsMock, names.map(cluster), 100);
    const endpoints = names.map(reader);

    const primed = await readMemberSets(rds, endpoints);

    // 40 clusters in one page; their 120 instances in two.
    expect(calls()).toEqual({ DescribeDBClusterEndpoints: 0, DescribeDBClusters: 1, DescribeDBInstances: 2 });
    expect(primed.members(reader('db39'))).toEqual([
      { id: 'db39-2', endpoint: fakeHost('db39-2') },
      { id: 'db39-3', endpoint: fakeHost('db39-3') },
    ]);
  });

  it('keeps the rules and instance endpoints for the run: a later poll asks only DescribeDBClusters', async () => {
    fakeRds(rdsMock, [cluster('orders')]);
    const reads = new RdsReads();
    await readMemberSets(rds, [custom('orders-analytics'), reader('orders')], reads);
    rdsMock.resetHistory();

    // A watch's poll: no primed read, so the cluster is read afresh, and only it.
    expect(ids(await listMemberInstances(rds, custom('orders-analytics'), reads))).toEqual(['orders-1', 'orders-2']);
    expect(calls()).toEqual({ DescribeDBClusterEndpoints: 0, DescribeDBClusters: 1, DescribeDBInstances: 0 });
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders' });
  });

  it('does not answer for an endpoint it did not read: that one reads on its own', async () => {
    fakeRds(rdsMock, [cluster('orders'), cluster('billing')]);
    const primed = await readMemberSets(rds, [reader('orders')]);
    rdsMock.resetHistory();
    const other: RdsEndpoint = reader('billing');

    expect(primed.has(other)).toBe(false);
    expect(ids(await listMemberInstances(rds, other, undefined, primed))).toEqual(['billing-2', 'billing-3']);
    expect(calls()).toEqual({ DescribeDBClusterEndpoints: 0, DescribeDBClusters: 1, DescribeDBInstances: 1 });
  });

  it('makes no call when there is nothing to read', async () => {
    await readMemberSets(rds, []);
    expect(rdsMock.calls()).toHaveLength(0);
  });
});
