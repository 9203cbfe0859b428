// RDS's DNS after a failover, played on the loopback DNS server: an Aurora cluster endpoint is a
// CNAME to the writer instance's endpoint, and after a failover RDS points it at the new writer
// some seconds later. moto 5.2.1 implements FailoverDBCluster (it swaps IsClusterWriter in
// DescribeDBClusters, checked in rds-dns.test.ts) but has no DNS: followClusterWriter watches the
// cluster in moto and, `delayMs` after the writer changes, sets the CNAME on the DNS server.
//
//   const stop = followClusterWriter({ rdsEndpoint: emulators.moto.endpoint, dns: emulators.dns,
//     clusterId: 'orders', clusterEndpoint: cluster.writerEndpoint, delayMs: 2000 });
//   ... FailoverDBCluster ...
//   await stop(); // rejects with the first error a poll met, if any
//
// The instance endpoints need A records of their own (dns.setA), as the test decides the addresses.
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import type { DnsServer } from './dns-server.js';
import { emulatorClientConfig } from './seed.js';

export interface FollowClusterWriterOptions {
  /** moto's URL (emulators.moto.endpoint). */
  readonly rdsEndpoint: string;
  readonly dns: Pick<DnsServer, 'setCname'>;
  readonly clusterId: string;
  /** The name to point at the writer: the cluster (writer) endpoint. */
  readonly clusterEndpoint: string;
  /** From seeing the new writer to changing the CNAME. AWS: typically a few seconds to ~30 s. */
  readonly delayMs: number;
  /** How often to read the cluster. Default 100 ms. */
  readonly pollMs?: number;
  /** Told each time the CNAME changes (the first time: at once, to the current writer). */
  readonly onChange?: (change: { writer: string; target: string; at: number }) => void;
}

/** Starts following; the returned function stops and rejects with the first error a read met. */
export function followClusterWriter(options: FollowClusterWriterOptions): () => Promise<void> {
  const rds = new RDSClient({ ...emulatorClientConfig(options.rdsEndpoint), maxAttempts: 1 });
  const pollMs = options.pollMs ?? 100;
  let stopped = false;
  let failure: unknown;
  let seen: string | undefined;
  let pending: NodeJS.Timeout | undefined;

  const point = (writer: string, target: string) => {
    if (stopped) return;
    options.dns.setCname(options.clusterEndpoint, target);
    options.onChange?.({ writer, target, at: Date.now() });
  };

  const poll = async () => {
    const { DBClusters = [] } = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: options.clusterId }));
    const writer = DBClusters[0]?.DBClusterMembers?.find((m) => m.IsClusterWriter)?.DBInstanceIdentifier;
    if (!writer) throw new Error(`cluster ${options.clusterId} has no writer in DescribeDBClusters`);
    if (writer === seen) return;
    const first = seen === undefined;
    seen = writer;
    const { DBInstances = [] } = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: writer }));
    const target = DBInstances[0]?.Endpoint?.Address;
    if (!target) throw new Error(`instance ${writer} has no endpoint in DescribeDBInstances`);
    clearTimeout(pending);
    if (first) point(writer, target);
    else pending = setTimeout(() => point(writer, target), options.delayMs);
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        await poll();
      } catch (err) {
        failure ??= err;
        stopped = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  })();

  return async () => {
    stopped = true;
    clearTimeout(pending);
    await loop;
    rds.destroy();
    if (failure !== undefined) throw failure;
  };
}
