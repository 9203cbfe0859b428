// Reader endpoints against moto (clusters, instances, FailoverDBCluster) and a loopback DNS
// server that answers the reader endpoint with a different reader per query, as Aurora does.
// Custom endpoints: moto does not implement DescribeDBClusterEndpoints, so they are covered by
// the aws-sdk-client-mock tests (test/aws/rds.test.ts, test/sync/run.test.ts).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createResolver } from '../../lib/dns.js';
import type { SyncSummary } from '../../lib/sync/run.js';
import { coldStart } from '../cold-start.js';
import scheduleEvent from '../events/scheduled.json' with { type: 'json' };
import {
  emulatorEnv,
  failoverCluster,
  motoOrSkip,
  readTargets,
  seedAuroraCluster,
  seedAws,
  startEmulators,
  type Emulators,
  type SeededAws,
  type SeededCluster,
} from '../harness/index.js';

const IPS: Record<string, string> = { 'orders-1': '10.0.1.11', 'orders-2': '10.0.1.12', 'orders-3': '10.0.2.13' };

describe.skipIf(!motoOrSkip())('reader endpoint mappings against the AWS emulator', () => {
  let emulators: Emulators;
  let aws: SeededAws;
  let cluster: SeededCluster;

  beforeAll(async () => {
    emulators = await startEmulators();
  });
  afterAll(() => emulators?.stop());
  beforeEach(async () => {
    await emulators.moto.reset();
    aws = await seedAws(emulators.moto.endpoint, {
      targetGroups: [
        { name: 'writer', port: 5432 },
        { name: 'readers', port: 5432, listenerPort: 5433 },
      ],
    });
    cluster = await seedAuroraCluster(emulators.moto.endpoint, 'orders', ['orders-1', 'orders-2', 'orders-3']);
    for (const [id, host] of Object.entries(cluster.instanceEndpoints)) emulators.dns.setA(host, [IPS[id] ?? '']);
    pointDns('orders-1', ['orders-2', 'orders-3']);
  });

  const host = (id: string) => cluster.instanceEndpoints[id] ?? '';
  /** The cluster endpoint a CNAME of the writer; the reader endpoint one reader per query. */
  const pointDns = (writer: string, readers: string[]) => {
    emulators.dns.setCname(cluster.writerEndpoint, host(writer));
    emulators.dns.setCnameRotation(cluster.readerEndpoint, readers.map(host));
  };
  const env = () => ({
    ...emulatorEnv(emulators),
    SYNC_MAPPINGS: JSON.stringify([
      { endpoint: cluster.writerEndpoint, targetGroupArn: aws.targetGroupArns[0], port: 5432 },
      { endpoint: cluster.readerEndpoint, targetGroupArn: aws.targetGroupArns[1], port: 5432 },
    ]),
    DNS_TIMEOUT_MS: '300',
    DNS_TRIES: '1',
  });
  const sync = async () => (await coldStart<SyncSummary>(() => import('../../functions/sync.js'), env()))(scheduleEvent);
  // Through the ELB front (AWS's timing): the group as AWS shows it once draining is over.
  const ips = async (i: number) => {
    await emulators.elb.settled(aws.targetGroupArns[i] ?? '');
    return (await readTargets(emulators.elb.endpoint, aws.targetGroupArns[i] ?? '')).map((t) => t.ip);
  };

  it('answers the reader endpoint with a different reader per query, as Aurora does', async () => {
    const resolve = createResolver({ servers: [emulators.dns.address], timeoutMs: 300, tries: 1 });
    expect([await resolve(cluster.readerEndpoint), await resolve(cluster.readerEndpoint)]).toEqual([[IPS['orders-2']], [IPS['orders-3']]]);
  });

  it('holds every reader after one run, and six more runs change nothing', async () => {
    const first = await sync();
    expect(first.outcome).toBe('success');
    expect(await ips(1)).toEqual([IPS['orders-2'], IPS['orders-3']]);
    expect(await ips(0)).toEqual([IPS['orders-1']]);

    for (let run = 0; run < 6; run++) {
      const summary = await sync();
      // Nothing to add or remove means no RegisterTargets / DeregisterTargets call was made.
      expect(summary.mappings.map((m) => [m.reason, m.added, m.removed])).toEqual([
        ['in-sync', [], []],
        ['in-sync', [], []],
      ]);
    }
    expect(await ips(1)).toEqual([IPS['orders-2'], IPS['orders-3']]);
    expect(emulators.dns.queries(cluster.readerEndpoint)).toBe(0); // a DNS sample of it is never the set
  });

  it('follows a failover: the writer mapping and the reader set both move', async () => {
    await sync();
    await Promise.all(aws.targetGroupArns.map((arn) => emulators.elb.settled(arn)));

    await failoverCluster(emulators.moto.endpoint, 'orders', 'orders-2');
    pointDns('orders-2', ['orders-1', 'orders-3']);
    const summary = await sync();

    expect(summary.outcome).toBe('success');
    expect(summary.mappings[0]).toMatchObject({ added: [IPS['orders-2']], removed: [IPS['orders-1']] });
    expect(summary.mappings[1]).toMatchObject({
      added: [IPS['orders-1']],
      removed: [IPS['orders-2']],
      members: [
        { id: 'orders-1', endpoint: host('orders-1'), addresses: [IPS['orders-1']] },
        { id: 'orders-3', endpoint: host('orders-3'), addresses: [IPS['orders-3']] },
      ],
    });
    expect(await ips(0)).toEqual([IPS['orders-2']]);
    expect(await ips(1)).toEqual([IPS['orders-1'], IPS['orders-3']]);
  });

  it('keeps the reader targets and fails the run when a member does not resolve', async () => {
    await sync();
    emulators.dns.fail(host('orders-3'), 'SERVFAIL');

    await expect(sync()).rejects.toMatchObject({ name: 'RunFailedError', message: expect.stringMatching(/DNS servfail for orders-3\./) });
    expect(await ips(1)).toEqual([IPS['orders-2'], IPS['orders-3']]);
  });
});
