import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { listFailoverMembers, RdsApiError } from '../../lib/aws/rds.js';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({});
const host = (id: string) => `${id}.c0ffee.eu-west-1.rds.amazonaws.com`;

beforeEach(() => rdsMock.reset());

describe('listFailoverMembers', () => {
  it('reads writer, tier, class and endpoint of every member in 2 calls', async () => {
    rdsMock.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'orders' }).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'orders',
          DBClusterMembers: [
            { DBInstanceIdentifier: 'Orders-1', IsClusterWriter: true, PromotionTier: 1 },
            { DBInstanceIdentifier: 'orders-2', IsClusterWriter: false, PromotionTier: 0 },
            { DBInstanceIdentifier: 'orders-3', IsClusterWriter: false },
          ],
        },
      ],
    });
    rdsMock.on(DescribeDBInstancesCommand).resolves({
      DBInstances: [
        { DBInstanceIdentifier: 'orders-1', DBInstanceClass: 'db.r6g.large', Endpoint: { Address: host('orders-1') } },
        { DBInstanceIdentifier: 'orders-2', DBInstanceClass: 'db.r6g.xlarge', Endpoint: { Address: host('orders-2') } },
        { DBInstanceIdentifier: 'orders-3', DBInstanceClass: 'db.r6g.large' },
      ],
    });

    await expect(listFailoverMembers(rds, 'orders')).resolves.toEqual([
      { id: 'orders-1', writer: true, promotionTier: 1, instanceClass: 'db.r6g.large', endpoint: host('orders-1') },
      { id: 'orders-2', writer: false, promotionTier: 0, instanceClass: 'db.r6g.xlarge', endpoint: host('orders-2') },
      { id: 'orders-3', writer: false, promotionTier: 1, instanceClass: 'db.r6g.large', endpoint: null },
    ]);
    expect(rdsMock.calls()).toHaveLength(2);
    expect(rdsMock).toHaveReceivedCommandWith(DescribeDBInstancesCommand, { Filters: [{ Name: 'db-instance-id', Values: ['orders-1', 'orders-2', 'orders-3'] }] });
  });

  it('turns an API failure into RdsApiError (unknown, not empty)', async () => {
    rdsMock.on(DescribeDBClustersCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
    await expect(listFailoverMembers(rds, 'orders')).rejects.toThrow(RdsApiError);
  });

  it('fails when the cluster is not found', async () => {
    rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
    await expect(listFailoverMembers(rds, 'orders')).rejects.toThrow(/cluster orders not found/);
  });
});
