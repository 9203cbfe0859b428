import { DescribeDBClustersCommand, DescribeDBInstancesCommand, DescribeEventsCommand, FailoverDBClusterCommand, RDSClient, RebootDBInstanceCommand } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DatabaseNotFoundError, describeDatabase, listEvents, requestFailover } from '../../lib/aws/failover.js';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({});
beforeEach(() => rdsMock.reset());

describe('describeDatabase', () => {
  it('reads a cluster: writer endpoint, port and members with the writer', async () => {
    rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders' }).resolves({
      DBClusters: [{ Status: 'available', Endpoint: 'Orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com', Port: 5432, DBClusterMembers: [{ DBInstanceIdentifier: 'Orders-1', IsClusterWriter: true }, { DBInstanceIdentifier: 'orders-2', IsClusterWriter: false }] }],
    });

    expect(await describeDatabase(rds, { kind: 'cluster', id: 'orders' })).toEqual({
      kind: 'cluster',
      id: 'orders',
      status: 'available',
      endpoint: 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com',
      port: 5432,
      members: [
        { id: 'orders-1', writer: true },
        { id: 'orders-2', writer: false },
      ],
    });
  });

  it('reads an instance: Multi-AZ and the cluster it belongs to', async () => {
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'billing' }).resolves({
      DBInstances: [{ DBInstanceStatus: 'available', MultiAZ: false, Endpoint: { Address: 'billing.c0ffee.eu-west-1.rds.amazonaws.com', Port: 3306 } }],
    });

    expect(await describeDatabase(rds, { kind: 'instance', id: 'billing' })).toEqual({
      kind: 'instance',
      id: 'billing',
      status: 'available',
      endpoint: 'billing.c0ffee.eu-west-1.rds.amazonaws.com',
      port: 3306,
      multiAz: false,
    });
  });

  it('says which database does not exist', async () => {
    rdsMock.on(DescribeDBClustersCommand).rejects(Object.assign(new Error('DBCluster nope not found.'), { name: 'DBClusterNotFoundFault' }));

    await expect(describeDatabase(rds, { kind: 'cluster', id: 'nope' })).rejects.toThrow(new DatabaseNotFoundError('no DB cluster nope in this region and account (DBClusterNotFoundFault)'));
  });
});

describe('requestFailover', () => {
  it('fails a cluster over to the named instance with FailoverDBCluster', async () => {
    rdsMock.on(FailoverDBClusterCommand).resolves({});

    expect(await requestFailover(rds, { kind: 'cluster', id: 'orders' }, 'orders-2')).toBe('FailoverDBCluster');
    expect(rdsMock).toHaveReceivedCommandWith(FailoverDBClusterCommand, { DBClusterIdentifier: 'orders', TargetDBInstanceIdentifier: 'orders-2' });
  });

  it('fails an instance over with RebootDBInstance ForceFailover, once, never retried by us', async () => {
    rdsMock.on(RebootDBInstanceCommand).rejects(Object.assign(new Error('not Multi-AZ'), { name: 'InvalidParameterCombination' }));

    await expect(requestFailover(rds, { kind: 'instance', id: 'billing' })).rejects.toThrow('not Multi-AZ');
    expect(rdsMock).toHaveReceivedCommandTimes(RebootDBInstanceCommand, 1);
    expect(rdsMock).toHaveReceivedCommandWith(RebootDBInstanceCommand, { DBInstanceIdentifier: 'billing', ForceFailover: true });
  });
});

describe('listEvents', () => {
  it("lists the source's events since the request, every page, oldest first", async () => {
    const since = new Date('2026-12-07T10:00:00Z');
    rdsMock
      .on(DescribeEventsCommand)
      .resolvesOnce({ Events: [{ Message: 'Completed failover', Date: new Date('2026-12-07T10:00:40Z'), EventCategories: ['failover'] }], Marker: 'm' })
      .resolvesOnce({ Events: [{ Message: 'Started failover', Date: new Date('2026-12-07T10:00:05Z'), EventCategories: ['failover'] }, { Message: 'old', Date: new Date('2026-12-07T09:59:00Z') }] });

    expect(await listEvents(rds, { kind: 'cluster', id: 'orders' }, since)).toEqual([
      { message: 'Started failover', time: '2026-12-07T10:00:05.000Z', categories: ['failover'] },
      { message: 'Completed failover', time: '2026-12-07T10:00:40.000Z', categories: ['failover'] },
    ]);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeEventsCommand, { SourceIdentifier: 'orders', SourceType: 'db-cluster', StartTime: since });
  });
});
