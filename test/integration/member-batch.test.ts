// The batched member-set read (lib/aws/rds.ts readMemberSets) against moto: moto 5.2.1 honours
// the db-cluster-id filter of DescribeDBClusters and DescribeDBInstances, so this checks the
// filters and the answers' shape against it. moto has no DescribeDBClusterEndpoints (custom
// endpoints) and does not refuse a filter of more than 100 values as AWS does: those are covered
// by the aws-sdk-client-mock tests (test/aws/rds-batch.test.ts, test/aws/fake-rds.ts).
import { RDSClient } from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMemberSets } from '../../lib/aws/rds.js';
import { parseRdsEndpoint } from '../../lib/rds-endpoint.js';
import { emulatorClientConfig, motoOrSkip, seedAuroraCluster, startMoto, type Moto, type SeededCluster } from '../harness/index.js';

describe.skipIf(!motoOrSkip())('readMemberSets against moto', () => {
  let moto: Moto;
  const clusters: Record<string, SeededCluster> = {};

  beforeAll(async () => {
    moto = await startMoto();
    for (const id of ['orders', 'billing', 'events']) clusters[id] = await seedAuroraCluster(moto.endpoint, id, [`${id}-1`, `${id}-2`, `${id}-3`]);
  });
  afterAll(() => moto?.stop());

  it('reads two clusters reader endpoints in one DescribeDBClusters and one DescribeDBInstances, filtered to them', async () => {
    const rds = new RDSClient(emulatorClientConfig(moto.endpoint));
    const answered: Record<string, { calls: number; items: number }> = {};
    // What each call returned: the filter must leave the third cluster out.
    rds.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        const items = Object.values(out.output as object).find(Array.isArray) as unknown[] | undefined;
        const seen = (answered[context.commandName ?? ''] ??= { calls: 0, items: 0 });
        seen.calls++;
        seen.items += items?.length ?? 0;
        return out;
      },
      { step: 'initialize', name: 'countItems' },
    );
    const reader = (id: string) => parseRdsEndpoint(clusters[id]?.readerEndpoint ?? `${id}.cluster-ro-c0ffee.us-east-1.rds.amazonaws.com`);

    const primed = await readMemberSets(rds, [reader('orders'), reader('billing'), parseRdsEndpoint('gone.cluster-ro-c0ffee.us-east-1.rds.amazonaws.com')]);

    expect(primed.members(reader('orders'))).toEqual([
      { id: 'orders-2', endpoint: clusters.orders?.instanceEndpoints['orders-2'] },
      { id: 'orders-3', endpoint: clusters.orders?.instanceEndpoints['orders-3'] },
    ]);
    expect(primed.members(reader('billing')).map((m) => m.id)).toEqual(['billing-2', 'billing-3']);
    expect(() => primed.members(parseRdsEndpoint('gone.cluster-ro-c0ffee.us-east-1.rds.amazonaws.com'))).toThrow(/DescribeDBClusters failed for cluster gone: NotFound/);
    expect(answered).toEqual({ DescribeDBClustersCommand: { calls: 1, items: 2 }, DescribeDBInstancesCommand: { calls: 1, items: 6 } });
    rds.destroy();
  });
});
