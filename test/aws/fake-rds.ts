// An RDS account as a table, behind aws-sdk-client-mock: DescribeDBClusterEndpoints,
// DescribeDBClusters and DescribeDBInstances answer with the filters AWS documents
// (db-cluster-endpoint-id, db-cluster-id, db-instance-id) or the identifier parameter, refuse more
// than 100 values in one filter as AWS does (InvalidParameterCombination), and page `pageSize`
// records at a time with a Marker.
import {
  DescribeDBClusterEndpointsCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  type DBCluster,
  type DBClusterEndpoint,
  type DBInstance,
  type Filter,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { AwsClientStub } from 'aws-sdk-client-mock';

export interface FakeCluster {
  id: string;
  /** The first is the writer. */
  members: string[];
  custom?: { id: string; type: 'ANY' | 'READER'; staticMembers?: string[]; excludedMembers?: string[] }[];
}

export const fakeHost = (id: string) => `${id}.c0ffee.eu-west-1.rds.amazonaws.com`;

type Input = { Filters?: Filter[]; Marker?: string; DBClusterIdentifier?: string; DBClusterEndpointIdentifier?: string; DBInstanceIdentifier?: string };

function wanted(input: Input, name: string, single?: string): string[] | undefined {
  const values = input.Filters?.find((f) => f.Name === name)?.Values;
  if (values && new Set(values).size > 100) {
    throw Object.assign(new Error(`Only up to 100 unique filter values may be specified per filter (${name}).`), { name: 'InvalidParameterCombination' });
  }
  return values ?? (single ? [single] : undefined);
}

function page<T>(items: T[], input: Input, pageSize: number) {
  const from = Number(input.Marker ?? 0);
  const next = from + pageSize;
  return { items: items.slice(from, next), ...(next < items.length ? { Marker: String(next) } : {}) };
}

export function fakeRds(mock: AwsClientStub<RDSClient>, clusters: FakeCluster[], pageSize = 100) {
  const endpoints: DBClusterEndpoint[] = clusters.flatMap((c) =>
    (c.custom ?? []).map((e) => ({
      DBClusterEndpointIdentifier: e.id,
      DBClusterIdentifier: c.id,
      EndpointType: 'CUSTOM',
      CustomEndpointType: e.type,
      StaticMembers: e.staticMembers ?? [],
      ExcludedMembers: e.excludedMembers ?? [],
    })),
  );
  const dbClusters: DBCluster[] = clusters.map((c) => ({ DBClusterIdentifier: c.id, DBClusterMembers: c.members.map((id, i) => ({ DBInstanceIdentifier: id, IsClusterWriter: i === 0 })) }));
  const instances: DBInstance[] = clusters.flatMap((c) => c.members.map((id) => ({ DBInstanceIdentifier: id, DBClusterIdentifier: c.id, Endpoint: { Address: fakeHost(id), Port: 5432 } })));
  const match = <T>(items: T[], ids: string[] | undefined, key: (item: T) => string | undefined) => (ids ? items.filter((i) => ids.includes(key(i) ?? '')) : items);

  mock.on(DescribeDBClusterEndpointsCommand).callsFake((input: Input) => {
    const found = match(endpoints, wanted(input, 'db-cluster-endpoint-id', input.DBClusterEndpointIdentifier), (e) => e.DBClusterEndpointIdentifier);
    const { items, ...marker } = page(found, input, pageSize);
    return { DBClusterEndpoints: items, ...marker };
  });
  mock.on(DescribeDBClustersCommand).callsFake((input: Input) => {
    const found = match(dbClusters, wanted(input, 'db-cluster-id', input.DBClusterIdentifier), (c) => c.DBClusterIdentifier);
    if (input.DBClusterIdentifier && found.length === 0) throw Object.assign(new Error(`DBCluster ${input.DBClusterIdentifier} not found.`), { name: 'DBClusterNotFoundFault' });
    const { items, ...marker } = page(found, input, pageSize);
    return { DBClusters: items, ...marker };
  });
  mock.on(DescribeDBInstancesCommand).callsFake((input: Input) => {
    let found = match(instances, wanted(input, 'db-instance-id', input.DBInstanceIdentifier), (i) => i.DBInstanceIdentifier);
    found = match(found, wanted(input, 'db-cluster-id'), (i) => i.DBClusterIdentifier);
    const { items, ...marker } = page(found, input, pageSize);
    return { DBInstances: items, ...marker };
  });
}
