import {
  DescribeDBClusterEndpointsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  type DBClusterMember,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { customMembers, listMemberInstances, RdsApiError, RdsReads, readerMembers } from '../../lib/aws/rds.js';
import { parseRdsEndpoint } from '../../lib/rds-endpoint.js';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({});

const READER = parseRdsEndpoint('orders.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com');
const CUSTOM = parseRdsEndpoint('analytics.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com');
const host = (id: string) => `${id}.c0ffee.eu-west-1.rds.amazonaws.com`;
const member = (id: string, writer = false): DBClusterMember => ({ DBInstanceIdentifier: id, IsClusterWriter: writer });
const instance = (id: string) => ({ DBInstanceIdentifier: id, Endpoint: { Address: host(id), Port: 5432 } });
const denied = () => Object.assign(new Error('User is not authorized to perform: rds:DescribeDBClusters'), { name: 'AccessDenied' });

function cluster(...members: DBClusterMember[]) {
  rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders' }).resolves({ DBClusters: [{ DBClusterIdentifier: 'orders', DBClusterMembers: members }] });
}
/** DescribeDBInstances answers from a table, honouring the db-instance-id filter as AWS does. */
function instances(...ids: string[]) {
  rdsMock.on(DescribeDBInstancesCommand).callsFake((input: { Filters?: { Name?: string; Values?: string[] }[] }) => {
    const wanted = input.Filters?.find((f) => f.Name === 'db-instance-id')?.Values ?? [];
    return { DBInstances: ids.filter((id) => wanted.includes(id)).map(instance) };
  });
}
function customEndpoint(rule: { type: string; staticMembers?: string[]; excludedMembers?: string[] }) {
  rdsMock.on(DescribeDBClusterEndpointsCommand, { DBClusterEndpointIdentifier: 'analytics' }).resolves({
    DBClusterEndpoints: [
      {
        DBClusterEndpointIdentifier: 'analytics',
        DBClusterIdentifier: 'orders',
        EndpointType: 'CUSTOM',
        CustomEndpointType: rule.type,
        StaticMembers: rule.staticMembers ?? [],
        ExcludedMembers: rule.excludedMembers ?? [],
      },
    ],
  });
}

beforeEach(() => rdsMock.reset());

describe('readerMembers', () => {
  it('lists every reader and leaves the writer out', () => {
    expect(readerMembers([{ id: 'a', writer: true }, { id: 'b', writer: false }, { id: 'c', writer: false }])).toEqual(['b', 'c']);
  });

  it('is the writer when the cluster has no reader, as the reader endpoint then serves it', () => {
    expect(readerMembers([{ id: 'a', writer: true }])).toEqual(['a']);
  });
});

describe('customMembers', () => {
  const members = [
    { id: 'a', writer: true },
    { id: 'b', writer: false },
    { id: 'c', writer: false },
  ];

  it('is exactly the static members when there are any', () => {
    expect(customMembers({ type: 'ANY', staticMembers: ['a', 'c'], excludedMembers: ['c'] }, members)).toEqual(['a', 'c']);
  });

  it('is every member but the excluded ones when the static list is empty', () => {
    expect(customMembers({ type: 'ANY', staticMembers: [], excludedMembers: ['b'] }, members)).toEqual(['a', 'c']);
  });

  it('leaves the writer out of a READER endpoint, even a static member that became the writer', () => {
    expect(customMembers({ type: 'READER', staticMembers: ['a', 'b'], excludedMembers: [] }, members)).toEqual(['b']);
    expect(customMembers({ type: 'READER', staticMembers: [], excludedMembers: [] }, members)).toEqual(['b', 'c']);
  });

  it('drops a static member that is no longer in the cluster', () => {
    expect(customMembers({ type: 'ANY', staticMembers: ['b', 'gone'], excludedMembers: [] }, members)).toEqual(['b']);
  });
});

describe('listMemberInstances', () => {
  it('reads a reader endpoint in two calls: the cluster members, then all their instances at once', async () => {
    cluster(member('orders-1', true), member('orders-2'), member('orders-3'));
    instances('orders-1', 'orders-2', 'orders-3');

    const found = await listMemberInstances(rds, READER);

    expect(found).toEqual([
      { id: 'orders-2', endpoint: host('orders-2') },
      { id: 'orders-3', endpoint: host('orders-3') },
    ]);
    expect(rdsMock.calls()).toHaveLength(2);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { Filters: [{ Name: 'db-instance-id', Values: ['orders-2', 'orders-3'] }] });
  });

  it('reads a custom endpoint in three calls and applies its exclusion list', async () => {
    customEndpoint({ type: 'ANY', excludedMembers: ['orders-3'] });
    cluster(member('orders-1', true), member('orders-2'), member('orders-3'));
    instances('orders-1', 'orders-2', 'orders-3');

    const found = await listMemberInstances(rds, CUSTOM);

    expect(found.map((m) => m.id)).toEqual(['orders-1', 'orders-2']);
    expect(rdsMock.calls()).toHaveLength(3);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders' });
  });

  it('reads a custom endpoint with static members', async () => {
    customEndpoint({ type: 'READER', staticMembers: ['orders-3'] });
    cluster(member('orders-1', true), member('orders-2'), member('orders-3'));
    instances('orders-1', 'orders-2', 'orders-3');

    expect(await listMemberInstances(rds, CUSTOM)).toEqual([{ id: 'orders-3', endpoint: host('orders-3') }]);
  });

  it('follows DescribeDBInstances pages', async () => {
    cluster(member('orders-1', true), member('orders-2'), member('orders-3'));
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [instance('orders-2')], Marker: 'page-2' })
      .resolvesOnce({ DBInstances: [instance('orders-3')] });

    const found = await listMemberInstances(rds, READER);

    expect(found.map((m) => m.endpoint)).toEqual([host('orders-2'), host('orders-3')]);
    // The paginator reuses one input object, so only the last call's Marker can be read back.
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 2);
    expect(rdsMock.commandCalls(DescribeDBInstancesCommand).at(-1)?.args[0].input.Marker).toBe('page-2');
  });

  it('reports a member without an instance endpoint yet (being created) with endpoint null', async () => {
    cluster(member('orders-1', true), member('orders-2'), member('orders-4'));
    instances('orders-1', 'orders-2');

    expect(await listMemberInstances(rds, READER)).toEqual([
      { id: 'orders-2', endpoint: host('orders-2') },
      { id: 'orders-4', endpoint: null },
    ]);
  });

  it('turns access denied into an RdsApiError that names the API and the IAM fix', async () => {
    rdsMock.on(DescribeDBClustersCommand).rejects(denied());

    const read = listMemberInstances(rds, READER);

    await expect(read).rejects.toThrow(RdsApiError);
    await expect(read).rejects.toThrow(/RDS DescribeDBClusters failed for cluster orders: AccessDenied: .*rds:DescribeDBClusters, rds:DescribeDBInstances and rds:DescribeDBClusterEndpoints/);
  });

  it('turns a cluster that is not found into an RdsApiError that says to check the name and region', async () => {
    rdsMock.on(DescribeDBClustersCommand).rejects(Object.assign(new Error('DBCluster orders not found.'), { name: 'DBClusterNotFoundFault' }));
    await expect(listMemberInstances(rds, READER)).rejects.toThrow(/DBClusterNotFoundFault.*Check the endpoint name.*region/);
  });

  it('turns an unknown custom endpoint (an empty answer) into an RdsApiError', async () => {
    rdsMock.on(DescribeDBClusterEndpointsCommand).resolves({ DBClusterEndpoints: [] });
    await expect(listMemberInstances(rds, CUSTOM)).rejects.toThrow(/DescribeDBClusterEndpoints failed for custom endpoint analytics: NotFound/);
  });

  it('says to check NAT or the rds interface endpoint when the API cannot be reached', async () => {
    cluster(member('orders-1', true));
    rdsMock.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' }));
    await expect(listMemberInstances(rds, READER)).rejects.toThrow(/DescribeDBInstances failed.*NAT gateway or an rds interface endpoint \(createApiEndpoints\)/);
  });

  it('says the next run retries when RDS throttles', async () => {
    rdsMock.on(DescribeDBClustersCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(listMemberInstances(rds, READER)).rejects.toThrow(/Throttling: Rate exceeded\. RDS throttled the call.*next run tries again/);
  });
});

describe('listMemberInstances within one run (RdsReads)', () => {
  it('asks only DescribeDBClusters again for a reader endpoint: the members instance endpoints are read once', async () => {
    cluster(member('orders-1', true), member('orders-2'), member('orders-3'));
    instances('orders-1', 'orders-2', 'orders-3');
    const reads = new RdsReads();
    for (let poll = 0; poll < 5; poll++) await listMemberInstances(rds, READER, reads);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBClustersCommand, 5);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 1);
  });

  it('sees a failover at once: the writer and reader roles come from a fresh DescribeDBClusters each time', async () => {
    cluster(member('orders-1', true), member('orders-2'));
    instances('orders-1', 'orders-2');
    const reads = new RdsReads();
    expect((await listMemberInstances(rds, READER, reads)).map((m) => m.id)).toEqual(['orders-2']);
    cluster(member('orders-1'), member('orders-2', true));
    expect(await listMemberInstances(rds, READER, reads)).toEqual([{ id: 'orders-1', endpoint: host('orders-1') }]);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 2);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { Filters: [{ Name: 'db-instance-id', Values: ['orders-1'] }] });
  });

  it('reads a custom endpoint rule once per run: one call per poll instead of three', async () => {
    customEndpoint({ type: 'ANY', staticMembers: ['orders-2', 'orders-3'] });
    cluster(member('orders-1', true), member('orders-2'), member('orders-3'));
    instances('orders-1', 'orders-2', 'orders-3');
    const reads = new RdsReads();
    for (let poll = 0; poll < 4; poll++) await listMemberInstances(rds, CUSTOM, reads);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBClusterEndpointsCommand, 1);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBClustersCommand, 4);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 1);
  });

  it('shares one DescribeDBClusters between mappings of the same endpoint read at the same time (one endpoint, two target groups)', async () => {
    cluster(member('orders-1', true), member('orders-2'));
    instances('orders-1', 'orders-2');
    const reads = new RdsReads();
    await Promise.all([listMemberInstances(rds, READER, reads), listMemberInstances(rds, READER, reads)]);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBClustersCommand, 1);
    // Not kept once answered: the next poll reads the cluster afresh.
    await listMemberInstances(rds, READER, reads);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBClustersCommand, 2);
  });

  it('does not remember a failed read: the next poll asks again', async () => {
    let calls = 0;
    rdsMock.on(DescribeDBClusterEndpointsCommand).callsFake(() => {
      if (calls++ === 0) throw denied();
      return { DBClusterEndpoints: [{ DBClusterEndpointIdentifier: 'analytics', DBClusterIdentifier: 'orders', CustomEndpointType: 'ANY', StaticMembers: [], ExcludedMembers: [] }] };
    });
    cluster(member('orders-1', true));
    instances('orders-1');
    const reads = new RdsReads();
    await expect(listMemberInstances(rds, CUSTOM, reads)).rejects.toThrow(RdsApiError);
    await expect(listMemberInstances(rds, CUSTOM, reads)).resolves.toEqual([{ id: 'orders-1', endpoint: host('orders-1') }]);
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBClusterEndpointsCommand, 2);
  });

  it('asks again for an instance that had no endpoint yet (being created)', async () => {
    cluster(member('orders-1', true), member('orders-2'));
    rdsMock.on(DescribeDBInstancesCommand).resolvesOnce({ DBInstances: [{ DBInstanceIdentifier: 'orders-2' }] });
    const reads = new RdsReads();
    expect(await listMemberInstances(rds, READER, reads)).toEqual([{ id: 'orders-2', endpoint: null }]);
    instances('orders-2');
    expect(await listMemberInstances(rds, READER, reads)).toEqual([{ id: 'orders-2', endpoint: host('orders-2') }]);
  });
});
