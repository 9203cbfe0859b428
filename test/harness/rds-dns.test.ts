// followClusterWriter against moto's FailoverDBCluster and the loopback DNS server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../lib/dns.js';
import { failoverCluster, followClusterWriter, motoOrSkip, seedAuroraCluster, startEmulators, type Emulators } from './index.js';

describe.skipIf(!motoOrSkip())("RDS's DNS following the cluster writer", () => {
  let emulators: Emulators;
  beforeAll(async () => {
    emulators = await startEmulators();
  });
  afterAll(() => emulators?.stop());

  it('points the cluster endpoint at the writer at once, and at the new writer delayMs after FailoverDBCluster', async () => {
    const cluster = await seedAuroraCluster(emulators.moto.endpoint, 'orders', ['orders-1', 'orders-2']);
    const host = (id: string) => cluster.instanceEndpoints[id] ?? '';
    emulators.dns.setA(host('orders-1'), ['10.0.1.23']);
    emulators.dns.setA(host('orders-2'), ['10.0.2.47']);
    const resolve = createResolver({ servers: [emulators.dns.address], timeoutMs: 300, tries: 1 });
    const changes: { writer: string; at: number }[] = [];
    const stop = followClusterWriter({
      rdsEndpoint: emulators.moto.endpoint,
      dns: emulators.dns,
      clusterId: 'orders',
      clusterEndpoint: cluster.writerEndpoint,
      delayMs: 300,
      pollMs: 20,
      onChange: ({ writer, at }) => changes.push({ writer, at }),
    });
    try {
      await expect.poll(() => changes.length).toBe(1);
      expect(await resolve(cluster.writerEndpoint)).toEqual(['10.0.1.23']);

      const failedOver = Date.now();
      await failoverCluster(emulators.moto.endpoint, 'orders', 'orders-2'); // moto 5.2.1 swaps IsClusterWriter
      await expect.poll(() => changes.length, { timeout: 5000 }).toBe(2);

      expect(changes.map((c) => c.writer)).toEqual(['orders-1', 'orders-2']);
      expect((changes[1]?.at ?? 0) - failedOver).toBeGreaterThanOrEqual(300);
      expect(await resolve(cluster.writerEndpoint)).toEqual(['10.0.2.47']);
    } finally {
      await stop();
    }
  });

  it('stops with the error a read met, naming the cluster', async () => {
    const stop = followClusterWriter({ rdsEndpoint: emulators.moto.endpoint, dns: emulators.dns, clusterId: 'missing', clusterEndpoint: 'x.example', delayMs: 0, pollMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(stop()).rejects.toThrow(/missing/i);
  });
});
