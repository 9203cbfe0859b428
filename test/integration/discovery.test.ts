// Discovery by tag (DISCOVER_TARGET_GROUPS) end to end: the real sync handler and SDK clients
// against moto (target group tags: AddTags, RemoveTags, DescribeTags; through the harness's ELBv2
// front) and the loopback DNS server. One warm handler across passes, as one Lambda container.
import { AddTagsCommand, ElasticLoadBalancingV2Client, RemoveTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SyncSummary } from '../../lib/sync/run.js';
import { coldStart } from '../cold-start.js';
import scheduleEvent from '../events/scheduled.json' with { type: 'json' };
import { emulatorClientConfig, emulatorEnv, motoOrSkip, readTargets, seedAws, startEmulators, type Emulators, type SeededAws } from '../harness/index.js';

const KEY = 'rds-nlb-sync:endpoint';
const ORDERS = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const BILLING = 'billing.c0ffee.eu-west-1.rds.amazonaws.com';
const LEDGER = 'ledger.c0ffee.eu-west-1.rds.amazonaws.com';
const UNTAGGED = 'untagged.c0ffee.eu-west-1.rds.amazonaws.com';

describe.skipIf(!motoOrSkip())('discovery by tag against the AWS emulator', () => {
  let emulators: Emulators;
  let aws: SeededAws;
  let elb: ElasticLoadBalancingV2Client;

  beforeAll(async () => {
    emulators = await startEmulators();
    elb = new ElasticLoadBalancingV2Client(emulatorClientConfig(emulators.moto.endpoint));
  });
  afterAll(() => {
    elb?.destroy();
    return emulators?.stop();
  });
  beforeEach(async () => {
    await emulators.moto.reset();
    aws = await seedAws(emulators.moto.endpoint, {
      targetGroups: [
        { name: 'orders', port: 5432 },
        { name: 'billing', port: 3306 },
        { name: 'untagged', port: 5433 },
        { name: 'ledger', port: 5434 },
      ],
    });
    for (const [name, ip] of [
      [ORDERS, '10.0.1.5'],
      [BILLING, '10.0.2.7'],
      [LEDGER, '10.0.1.9'],
      [UNTAGGED, '10.0.2.11'],
    ] as const) {
      emulators.dns.setA(name, [ip]);
    }
    await tag(0, ORDERS);
    await tag(1, BILLING);
  });

  const arn = (i: number) => aws.targetGroupArns[i] ?? '';
  const tag = (i: number, value: string, key = KEY) => elb.send(new AddTagsCommand({ ResourceArns: [arn(i)], Tags: [{ Key: key, Value: value }] }));
  const untag = (i: number) => elb.send(new RemoveTagsCommand({ ResourceArns: [arn(i)], TagKeys: [KEY] }));
  const ips = async (i: number) => (await readTargets(emulators.elb.endpoint, arn(i))).map((t) => `${t.ip}:${t.port}`);
  /** One container: discovery's cache lives across its invocations. */
  const container = () =>
    coldStart<SyncSummary>(() => import('../../functions/sync.js'), {
      ...emulatorEnv(emulators),
      DISCOVER_TARGET_GROUPS: 'true',
      DNS_TIMEOUT_MS: '300',
      DNS_TRIES: '1',
    });

  it('registers both tagged groups in one pass and leaves the untagged one alone', async () => {
    const sync = await container();
    const summary = await sync(scheduleEvent);
    expect(summary.outcome).toBe('success');
    expect(summary.discovery).toEqual({ tagKey: KEY, source: 'fresh', groups: 2, failures: [], overridden: [] });
    expect(summary.mappings.map((m) => [m.endpoint, m.port, m.added])).toEqual(
      expect.arrayContaining([
        [ORDERS, 5432, ['10.0.1.5']],
        [BILLING, 3306, ['10.0.2.7']],
      ]),
    );
    expect(await ips(0)).toEqual(['10.0.1.5:5432']);
    expect(await ips(1)).toEqual(['10.0.2.7:3306']);
    expect(await ips(2)).toEqual([]);
    expect(await ips(3)).toEqual([]);
  });

  it('serves a group tagged after the first pass on the next pass, without a new container', async () => {
    const sync = await container();
    await sync(scheduleEvent);
    await tag(3, LEDGER);
    const next = await sync(scheduleEvent);
    expect(next.discovery?.groups).toBe(3);
    expect(next.mappings.find((m) => m.targetGroupArn === arn(3))).toMatchObject({ endpoint: LEDGER, port: 5434, added: ['10.0.1.9'] });
    expect(await ips(3)).toEqual(['10.0.1.9:5434']);
  });

  it('leaves the targets of a group whose tag was removed, even when its endpoint moves', async () => {
    const sync = await container();
    await sync(scheduleEvent);
    await untag(1);
    emulators.dns.setA(BILLING, ['10.0.2.99']);
    const next = await sync(scheduleEvent);
    expect(next.outcome).toBe('success');
    expect(next.mappings.map((m) => m.targetGroupArn)).toEqual([arn(0)]);
    expect(await ips(1)).toEqual(['10.0.2.7:3306']);
  });

  it('fails a group with a bad tag value alone, naming the group and the tag; the others are served', async () => {
    await tag(3, 'db.example.com');
    const sync = await container();
    const run = sync(scheduleEvent);
    await expect(run).rejects.toMatchObject({ name: 'RunFailedError', message: expect.stringContaining('sync failed for 1 of 3 mappings') });
    await expect(run).rejects.toThrow(/target group ledger \(arn:aws:elasticloadbalancing:[^)]+\) tagged rds-nlb-sync:endpoint="db\.example\.com": the value is not an RDS endpoint name/);
    expect(await ips(0)).toEqual(['10.0.1.5:5432']);
    expect(await ips(1)).toEqual(['10.0.2.7:3306']);
    expect(await ips(3)).toEqual([]);
  });

  it('takes the port from the port tag over the group port', async () => {
    await tag(3, LEDGER);
    await tag(3, '6432', 'rds-nlb-sync:port');
    const sync = await container();
    await sync(scheduleEvent);
    expect(await ips(3)).toEqual(['10.0.1.9:6432']);
  });
});
