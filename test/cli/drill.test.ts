// `rds-nlb-sync drill` in-process: nothing happens without --yes-fail-over <the same id> (no AWS
// client is even created: cli/clients.js is wrapped in spies), and the refusals before a failover,
// over mocked RDS and ELB and the loopback DNS server. The drill against moto: test/integration/drill.test.ts.
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBClustersCommand, DescribeEventsCommand, FailoverDBClusterCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as clients from '../../cli/clients.js';
import { main, type CliIo } from '../../cli/main.js';
import type { DrillRecord } from '../../lib/drill/timeline.js';
import { TG_A } from '../fixtures.js';
import { startDnsServer, type DnsServer } from '../harness/index.js';

vi.mock('../../cli/clients.js', async (importOriginal) => {
  const real = await importOriginal<typeof clients>();
  return { ...real, createCliClients: vi.fn(real.createCliClients), readCliParameter: vi.fn(real.readCliParameter) };
});

const WRITER = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const rdsMock = mockClient(RDSClient);
const elbMock = mockClient(ElasticLoadBalancingV2Client);
let dns: DnsServer;
beforeAll(async () => {
  dns = await startDnsServer();
});
afterAll(async () => {
  await dns?.close();
  [rdsMock, elbMock].forEach((m) => m.restore());
});
beforeEach(() => {
  [rdsMock, elbMock].forEach((m) => m.reset());
  vi.mocked(clients.createCliClients).mockClear();
  vi.mocked(clients.readCliParameter).mockClear();
  dns.setA(WRITER, ['10.0.1.11']);
  rdsMock.on(DescribeDBClustersCommand).resolves({
    DBClusters: [{ Status: 'available', Endpoint: WRITER, Port: 5432, DBClusterMembers: [{ DBInstanceIdentifier: 'orders-1', IsClusterWriter: true }, { DBInstanceIdentifier: 'orders-2', IsClusterWriter: false }] }],
  });
  rdsMock.on(FailoverDBClusterCommand).resolves({});
  rdsMock.on(DescribeEventsCommand).resolves({ Events: [] });
  elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [{ Target: { Id: '10.0.1.11', Port: 5432 }, TargetHealth: { State: 'healthy' } }] });
});

async function cli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { env: { AWS_REGION: 'eu-west-1', DNS_SERVERS: dns.address, DNS_TRIES: '1', DNS_TIMEOUT_MS: '300', ...env }, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), color: false };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const noClient = () => {
  expect(clients.createCliClients).not.toHaveBeenCalled();
  expect(clients.readCliParameter).not.toHaveBeenCalled();
  expect(rdsMock.calls()).toHaveLength(0);
};

describe('drill: nothing without the confirmation', () => {
  // SYNC_MAPPINGS_PARAMETER would be read from SSM before any other command runs: not for a refused drill.
  const env = { SYNC_MAPPINGS_PARAMETER: '/rds-nlb-sync/mappings' };

  it('exits 2 without --yes-fail-over, before any AWS client is created', async () => {
    const { code, stderr } = await cli(['drill', '--db-cluster-identifier', 'orders'], env);

    expect(code).toBe(2);
    expect(stderr).toContain('drill fails over DB cluster orders for real: repeat its identifier with --yes-fail-over orders to go ahead (non-production databases only); nothing was done');
    noClient();
  });

  it.each([['Orders'], ['orders-1'], ['']])('exits 2 when --yes-fail-over is %j, not the identifier exactly', async (given) => {
    const { code, stderr } = await cli(['drill', '--db-cluster-identifier', 'orders', '--yes-fail-over', given, '--target-group-arn', TG_A], env);

    expect(code).toBe(2);
    expect(stderr).toContain(`--yes-fail-over ${given} does not match DB cluster orders`);
    noClient();
  });

  it.each([
    [['--db-cluster-identifier', 'a', '--db-instance-identifier', 'a', '--yes-fail-over', 'a'], 'drill needs one database'],
    [['--yes-fail-over', 'a'], 'drill needs one database'],
    [['--db-instance-identifier', 'a', '--yes-fail-over', 'a', '--target-instance', 'b'], '--target-instance applies to --db-cluster-identifier only'],
    [['--db-cluster-identifier', 'a', '--yes-fail-over', 'a', '--budget-seconds', '1.5'], '--budget-seconds must be a whole number of seconds (1-86400), not 1.5'],
    [['--db-cluster-identifier', 'a', '--yes-fail-over', 'a', '--probe', 'nlb'], '--probe must be host:port'],
  ])('exits 2 for %j', async (args, message) => {
    const { code, stderr } = await cli(['drill', ...args], env);

    expect(code).toBe(2);
    expect(stderr).toContain(message);
    noClient();
  });

  it('answers in JSON with --json', async () => {
    const { code, stdout } = await cli(['drill', '--db-cluster-identifier', 'orders', '--json']);

    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toMatchObject({ error: { name: 'UsageError', message: expect.stringContaining('--yes-fail-over orders') } });
  });

  it('exits 2 without a target group to watch, before any AWS client is created', async () => {
    const { code, stderr } = await cli(['drill', '--db-cluster-identifier', 'orders', '--yes-fail-over', 'orders']);

    expect(code).toBe(2);
    expect(stderr).toContain('drill needs the target group to watch: --target-group-arn <arn>');
    noClient();
  });
});

describe('drill: refused before the failover', () => {
  const args = ['drill', '--db-cluster-identifier', 'orders', '--yes-fail-over', 'orders', '--target-group-arn', TG_A];

  it('refuses a target group that does not hold the endpoint\'s answer (nothing to measure from)', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });

    const { code, stdout } = await cli(args);

    expect(code).toBe(2);
    expect(stdout).toContain('refused, nothing was done: the target group (no targets) does not hold the endpoint\'s answer (10.0.1.11)');
    expect(rdsMock).toHaveReceivedCommandTimes(FailoverDBClusterCommand, 0);
  });

  it('refuses when the endpoint does not resolve before the failover', async () => {
    dns.fail(WRITER, 'SERVFAIL');

    const { code, stdout } = await cli(args);

    expect(code).toBe(2);
    expect(stdout).toContain(`refused, nothing was done: ${WRITER} does not resolve before the failover (DNS servfail`);
    expect(rdsMock).toHaveReceivedCommandTimes(FailoverDBClusterCommand, 0);
  });

  it('refuses a --probe that cannot connect before the failover', async () => {
    const { code, stdout } = await cli([...args, '--probe', '127.0.0.1:1']);

    expect(code).toBe(2);
    expect(stdout).toContain('refused, nothing was done: --probe 127.0.0.1:1 does not connect before the failover (ECONNREFUSED)');
    expect(rdsMock).toHaveReceivedCommandTimes(FailoverDBClusterCommand, 0);
  });
});

describe('drill: a run that sees nothing change', () => {
  it("watches the database's own endpoint and port on --target-group-arn, and fails (exit 1) with every later step not seen", async () => {
    const { code, stdout } = await cli(['drill', '--db-cluster-identifier', 'orders', '--yes-fail-over', 'orders', '--target-group-arn', TG_A, '--target-instance', 'orders-2', '--budget-seconds', '1', '--json'], { FAILOVER_POLL_MS: '200' });

    const record = JSON.parse(stdout) as DrillRecord;
    expect(code).toBe(1);
    expect(rdsMock).toHaveReceivedCommandTimes(FailoverDBClusterCommand, 1);
    expect(rdsMock).toHaveReceivedCommandWith(FailoverDBClusterCommand, { DBClusterIdentifier: 'orders', TargetDBInstanceIdentifier: 'orders-2' });
    expect(record.watch).toEqual({ endpoint: WRITER, targetGroupArn: TG_A, port: 5432 });
    expect(record.sync).toBe('deployed');
    expect(record.verdict).toMatchObject({ outcome: 'incomplete', missing: ['event', 'dns', 'registered', 'healthy', 'old-gone'] });
  });

  it('prints the timeline and the verdict as text without --json', async () => {
    const { code, stdout } = await cli(['drill', '--db-cluster-identifier', 'orders', '--yes-fail-over', 'orders', '--target-group-arn', TG_A, '--budget-seconds', '1'], { FAILOVER_POLL_MS: '200' });

    expect(code).toBe(1);
    expect(stdout).toContain('rds-nlb-sync drill: DB cluster orders (writer orders-1), budget 1 s\n');
    expect(stdout).toMatch(/\n {4}0\.0 s {2}failover requested {6}FailoverDBCluster orders \(answered in \d+ ms\)\n/);
    expect(stdout).toContain('      -    DNS answer changed      not seen\n');
    expect(stdout).toContain('verdict: INCOMPLETE: not seen within the budget 1 s: RDS event seen, DNS answer changed');
  });
});
