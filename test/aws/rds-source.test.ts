import { DBInstanceNotFoundFault, DescribeBlueGreenDeploymentsCommand, DescribeDBClusterEndpointsCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { blueGreenMembers, clusterOfCustomEndpoint, clusterOfInstance } from '../../lib/aws/rds-source.js';

const rds = new RDSClient({ region: 'eu-west-1' });
const rdsMock = mockClient(rds);

beforeEach(() => rdsMock.reset());

describe('RDS source reads', () => {
  it("reads an Aurora instance's cluster with one DescribeDBInstances", async () => {
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'orders-writer-az2' }).resolves({ DBInstances: [{ DBClusterIdentifier: 'Orders' }] });

    expect(await clusterOfInstance(rds, 'orders-writer-az2')).toBe('orders');
    expect(rdsMock).toHaveReceivedCommandTimes(DescribeDBInstancesCommand, 1);
  });

  it('answers undefined for an instance RDS does not know, and for a standalone instance', async () => {
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'gone' }).rejects(new DBInstanceNotFoundFault({ message: 'DBInstance gone not found.', $metadata: {} }));
    rdsMock.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: 'billing' }).resolves({ DBInstances: [{ DBInstanceIdentifier: 'billing' }] });

    expect(await clusterOfInstance(rds, 'gone')).toBeUndefined();
    expect(await clusterOfInstance(rds, 'billing')).toBeUndefined();
  });

  it('passes any other failure on (unknown is not "no cluster")', async () => {
    rdsMock.on(DescribeDBInstancesCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));

    await expect(clusterOfInstance(rds, 'orders-writer-az2')).rejects.toThrow('Rate exceeded');
  });

  it("reads a custom endpoint's cluster by the endpoint's name", async () => {
    rdsMock.on(DescribeDBClusterEndpointsCommand, { DBClusterEndpointIdentifier: 'analytics' }).resolves({ DBClusterEndpoints: [{ DBClusterIdentifier: 'orders' }] });

    expect(await clusterOfCustomEndpoint(rds, 'analytics')).toBe('orders');
  });

  it("lists a blue/green deployment's source, target and switchover members", async () => {
    const arn = (kind: string, id: string) => `arn:aws:rds:eu-west-1:123456789012:${kind}:${id}`;
    rdsMock.on(DescribeBlueGreenDeploymentsCommand).resolves({
      BlueGreenDeployments: [{ Source: arn('cluster', 'orders'), Target: arn('cluster', 'orders-green'), SwitchoverDetails: [{ SourceMember: arn('db', 'orders-1'), TargetMember: arn('db', 'orders-1-green') }] }],
    });

    expect(await blueGreenMembers(rds, 'bgd-1234567890abcdef')).toEqual([arn('cluster', 'orders'), arn('cluster', 'orders-green'), arn('db', 'orders-1'), arn('db', 'orders-1-green')]);
  });
});
