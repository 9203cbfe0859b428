// The operator CLI in-process (cli/main.ts): --help, command-line and settings errors, settings
// from flags / env / file, and plan, sync and accept over mocked AWS and the loopback DNS server.
// doctor's command tests live in test/doctor.test.ts, next to its fully mocked chain.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  AcceptVpcEndpointConnectionsCommand,
  DescribeVpcEndpointConnectionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  EC2Client,
  type State,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  DeregisterTargetsCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, type CliIo } from '../../cli/main.js';
import { COMMANDS, optionsOf } from '../../cli/options.js';
import { BILLING, ORDERS, TG_A, TG_B } from '../fixtures.js';
import { startDnsServer, type DnsServer } from '../harness/index.js';

const SERVICE = 'vpce-svc-0123456789abcdef0';
const FIVETRAN = '834469178297';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const ec2Mock = mockClient(EC2Client);
const cloudwatchMock = mockClient(CloudWatchClient);
const ssmMock = mockClient(SSMClient);

let dns: DnsServer;
let dir: string;
beforeAll(async () => {
  dns = await startDnsServer();
  dir = await mkdtemp(join(tmpdir(), 'rds-nlb-sync-cli-'));
});
afterAll(async () => {
  await dns?.close();
  await rm(dir, { recursive: true, force: true });
  [elbMock, ec2Mock, cloudwatchMock, ssmMock].forEach((m) => m.restore());
});
beforeEach(() => {
  [elbMock, ec2Mock, cloudwatchMock, ssmMock].forEach((m) => m.reset());
  cloudwatchMock.on(PutMetricDataCommand).resolves({});
  dns.setA(ORDERS, ['10.0.2.9']);
  givenRegistered('10.0.1.5');
});
afterEach(() => vi.unstubAllEnvs());

/** The group holds these, healthy; what the run registers is listed healthy at once, what it deregisters is gone (a follow ends at its first read). */
function givenRegistered(...ips: string[]) {
  const group = new Set(ips);
  elbMock.on(DescribeTargetHealthCommand).callsFake(() => ({
    TargetHealthDescriptions: [...group].map((ip) => ({ Target: { Id: ip, Port: 5432 }, TargetHealth: { State: 'healthy' } })),
  }));
  elbMock.on(RegisterTargetsCommand).callsFake(({ Targets = [] }: { Targets?: { Id?: string }[] }) => {
    for (const t of Targets) group.add(t.Id ?? '');
    return {};
  });
  elbMock.on(DeregisterTargetsCommand).callsFake(({ Targets = [] }: { Targets?: { Id?: string }[] }) => {
    for (const t of Targets) group.delete(t.Id ?? '');
    return {};
  });
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { env, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), color: false };
  const code = await main(args, io);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const mappingFlags = () => ['--endpoint', ORDERS, '--target-group-arn', TG_A, '--port', '5432', '--dns-servers', dns.address, '--dns-tries', '1'];
const file = async (name: string, content: string) => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};

describe('--help', () => {
  it.each([[[]], [['--help']], [['-h']], [['help']]])('lists every command for %j', async (args) => {
    const { code, stdout } = await cli(args);

    expect(code).toBe(0);
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
  });

  it.each(COMMANDS)('shows the options of %s, each with the env variable it sets', async (command) => {
    const { code, stdout } = await cli([command, '--help']);

    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: rds-nlb-sync ${command} [options]`);
    for (const option of optionsOf(command)) {
      expect(stdout).toContain(`--${option.flag}`);
      if (option.env) expect(stdout).toContain(`[${option.env}]`);
    }
  });

  it('answers "help <command>" like "<command> --help"', async () => {
    expect((await cli(['help', 'doctor'])).stdout).toBe((await cli(['doctor', '--help'])).stdout);
  });

  it('shows only the options a command takes', async () => {
    const { stdout } = await cli(['plan', '--help']);

    expect(stdout).not.toContain('--sync-function');
    expect(stdout).not.toContain('--dry-run');
  });
});

describe('command-line and settings errors', () => {
  it('exits 2 for an unknown command', async () => {
    const { code, stderr } = await cli(['doctr']);

    expect(code).toBe(2);
    expect(stderr).toBe('rds-nlb-sync: unknown command "doctr"\nRun "rds-nlb-sync --help" for usage.\n');
  });

  it("exits 2 for an option the command does not take, pointing at the command's help", async () => {
    const { code, stderr } = await cli(['plan', '--dry-run']);

    expect(code).toBe(2);
    expect(stderr).toContain("Unknown option '--dry-run'");
    expect(stderr).toContain('Run "rds-nlb-sync plan --help" for usage.');
  });

  it('exits 2 for a stray argument', async () => {
    expect((await cli(['plan', ORDERS])).code).toBe(2);
  });

  it('exits 2 naming every missing setting with its flag', async () => {
    const { code, stderr } = await cli(['plan']);

    expect(code).toBe(2);
    expect(stderr).toContain('RDS_ENDPOINT (--endpoint) is required');
    expect(stderr).toContain('TARGET_GROUP_ARN (--target-group-arn) is required');
    expect(stderr).toContain('TARGET_PORT (--port) is required');
  });

  it('prints the error as JSON on stdout with --json', async () => {
    const { code, stdout } = await cli(['plan', '--json', '--endpoint', 'not a host!', '--target-group-arn', TG_A, '--port', '5432']);

    expect(code).toBe(2);
    expect(JSON.parse(stdout)).toMatchObject({ error: { name: 'ConfigError', problems: [expect.stringMatching(/^RDS_ENDPOINT \(--endpoint\) must be a DNS name/)] } });
  });

  it('exits 2 when no AWS region can be found', async () => {
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_DEFAULT_REGION', undefined);
    vi.stubEnv('AWS_PROFILE', undefined);
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'no-such-config'));

    const { code, stderr } = await cli(['plan', ...mappingFlags()]);

    expect(code).toBe(2);
    expect(stderr).toContain('no AWS region: pass --region');
  });
});

describe('settings from flags, environment and file', () => {
  it('reads the Lambdas\' variables from the environment', async () => {
    const { code, stdout } = await cli(['plan'], { RDS_ENDPOINT: ORDERS, TARGET_GROUP_ARN: TG_A, TARGET_PORT: '5432', DNS_SERVERS: dns.address });

    expect(code).toBe(0);
    expect(stdout).toContain(`${ORDERS} -> orders/0123456789abcdef port 5432`);
  });

  it('reads a JSON file, with SYNC_MAPPINGS as a list and lists as arrays', async () => {
    dns.setA(BILLING, ['10.0.2.7']);
    const path = await file(
      'settings.json',
      JSON.stringify({
        SYNC_MAPPINGS: [
          { endpoint: ORDERS, targetGroupArn: TG_A, port: 5432 },
          { endpoint: BILLING, targetGroupArn: TG_B, port: 3306 },
        ],
        DNS_SERVERS: [dns.address],
        DNS_TRIES: 1,
      }),
    );

    const { code, stdout } = await cli(['plan', '--config', path]);

    expect(code).toBe(0);
    expect(stdout).toContain(`${ORDERS} -> orders/0123456789abcdef port 5432`);
    expect(stdout).toContain(`${BILLING} -> billing/fedcba9876543210 port 3306`);
  });

  it('reads a KEY=value file', async () => {
    const path = await file('settings.env', `# orders\nRDS_ENDPOINT=${ORDERS}\nTARGET_GROUP_ARN=${TG_A}\nTARGET_PORT=5432\nDNS_SERVERS=${dns.address}\n`);

    const { code, stdout } = await cli(['plan', '-c', path]);

    expect(code).toBe(0);
    expect(stdout).toContain('+ 10.0.2.9  would register');
  });

  it('takes flags over the environment over the file', async () => {
    const path = await file('ports.env', `RDS_ENDPOINT=${ORDERS}\nTARGET_GROUP_ARN=${TG_A}\nTARGET_PORT=3306\nDNS_SERVERS=${dns.address}\n`);

    const fromEnv = await cli(['plan', '-c', path], { TARGET_PORT: '5433' });
    const fromFlag = await cli(['plan', '-c', path, '--port', '5432'], { TARGET_PORT: '5433' });

    expect(fromEnv.stdout).toContain('port 5433');
    expect(fromFlag.stdout).toContain('port 5432');
  });

  it("lets a mapping given by flags replace the file's SYNC_MAPPINGS", async () => {
    const path = await file('mappings.json', JSON.stringify({ SYNC_MAPPINGS: [{ endpoint: BILLING, targetGroupArn: TG_B, port: 3306 }] }));

    const { code, stdout } = await cli(['plan', '-c', path, ...mappingFlags()]);

    expect(code).toBe(0);
    expect(stdout).toContain(ORDERS);
    expect(stdout).not.toContain(BILLING);
  });

  it('names the file a bad value came from', async () => {
    const path = await file('bad-port.json', JSON.stringify({ RDS_ENDPOINT: ORDERS, TARGET_GROUP_ARN: TG_A, TARGET_PORT: 70000 }));

    const { code, stderr } = await cli(['plan', '-c', path]);

    expect(code).toBe(2);
    expect(stderr).toContain(`TARGET_PORT (file ${path}) must be a TCP port number`);
  });

  it('exits 2 for an unknown key in the file: a typo must not be ignored', async () => {
    const path = await file('typo.json', JSON.stringify({ RDS_ENDPIONT: ORDERS }));

    const { code, stderr } = await cli(['plan', '-c', path]);

    expect(code).toBe(2);
    expect(stderr).toContain('unknown setting RDS_ENDPIONT');
  });

  it('exits 2 for a file that is missing or not JSON', async () => {
    const broken = await file('broken.json', '{"RDS_ENDPOINT": ');

    const missing = await cli(['plan', '-c', join(dir, 'nope.json')]);
    const invalid = await cli(['plan', '-c', broken]);

    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('cannot read config file') });
    expect(invalid).toMatchObject({ code: 2, stderr: expect.stringContaining('is not valid JSON') });
  });
});

describe('plan', () => {
  it('prints what sync would register and deregister, and changes nothing', async () => {
    const { code, stdout } = await cli(['plan', ...mappingFlags()]);

    expect(code).toBe(0);
    expect(stdout).toContain('  resolved     10.0.2.9\n  registered   10.0.1.5 (healthy)\n  + 10.0.2.9  would register\n  - 10.0.1.5  would deregister');
    expect(stdout).toContain('plan: 2 changes planned. Nothing was changed.');
    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    // A plan is not a run: it must not feed the SyncSuccess heartbeat.
    expect(cloudwatchMock).toHaveReceivedCommandTimes(PutMetricDataCommand, 0);
  });

  it('says "in sync" when nothing would change', async () => {
    givenRegistered('10.0.2.9');

    const { stdout } = await cli(['plan', ...mappingFlags()]);

    expect(stdout).toContain('in sync: nothing to do');
    expect(stdout).toContain('plan: nothing to change.');
  });

  it('prints the plan as JSON with --json', async () => {
    const { stdout } = await cli(['plan', '--json', ...mappingFlags()]);

    expect(JSON.parse(stdout)).toEqual({
      ok: true,
      force: false,
      mappings: [
        {
          endpoint: ORDERS,
          targetGroupArn: TG_A,
          port: 5432,
          resolved: ['10.0.2.9'],
          registered: [{ ip: '10.0.1.5', state: 'healthy' }],
          add: ['10.0.2.9'],
          remove: ['10.0.1.5'],
          keep: [],
          reason: 'address-changed',
        },
      ],
    });
  });

  it('exits 1 when DNS fails, planning no change for that mapping', async () => {
    dns.fail(ORDERS, 'NXDOMAIN');

    const { code, stdout } = await cli(['plan', ...mappingFlags()]);

    expect(code).toBe(1);
    expect(stdout).toContain(`error: DNS nxdomain for ${ORDERS}`);
    expect(stdout).not.toContain('would deregister');
  });

  it('plans a reader endpoint from its members, never from one DNS sample of it', async () => {
    const rdsMock = mockClient(RDSClient);
    const reader = 'orders.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com';
    const host = (id: string) => `${id}.c0ffee.eu-west-1.rds.amazonaws.com`;
    rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ DBClusterMembers: [{ DBInstanceIdentifier: 'orders-1', IsClusterWriter: true }, { DBInstanceIdentifier: 'orders-2', IsClusterWriter: false }, { DBInstanceIdentifier: 'orders-3', IsClusterWriter: false }] }] });
    rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: ['orders-2', 'orders-3'].map((id) => ({ DBInstanceIdentifier: id, Endpoint: { Address: host(id) } })) });
    dns.setA(host('orders-2'), ['10.0.1.5']);
    dns.setA(host('orders-3'), ['10.0.2.9']);
    try {
      const { code, stdout } = await cli(['plan', '--endpoint', reader, '--target-group-arn', TG_A, '--port', '5432', '--dns-servers', dns.address, '--dns-tries', '1']);

      expect(code).toBe(0);
      expect(stdout).toContain('  resolved     10.0.1.5, 10.0.2.9\n  members      orders-2 10.0.1.5; orders-3 10.0.2.9\n  registered   10.0.1.5 (healthy)\n  + 10.0.2.9  would register\n');
      expect(stdout).not.toContain('would deregister');
    } finally {
      rdsMock.restore();
    }
  });

  it('exits 1 for a public answer, as sync would refuse it', async () => {
    dns.setA(ORDERS, ['54.217.1.2']);

    const { code, stdout } = await cli(['plan', ...mappingFlags()]);

    expect(code).toBe(1);
    expect(stdout).toContain('54.217.1.2 cannot be an NLB IP target');
  });
});

describe('sync', () => {
  it('registers the new address before deregistering the old one, and exits 0', async () => {
    const { code, stdout } = await cli(['sync', '--local', ...mappingFlags()]);

    expect(code).toBe(0);
    expect(elbMock).toHaveReceivedCommandWith(RegisterTargetsCommand, { TargetGroupArn: TG_A, Targets: [{ Id: '10.0.2.9', Port: 5432 }] });
    expect(elbMock).toHaveReceivedCommandWith(DeregisterTargetsCommand, { TargetGroupArn: TG_A, Targets: [{ Id: '10.0.1.5', Port: 5432 }] });
    const order = elbMock.calls().map((c) => c.args[0].constructor.name);
    expect(order.indexOf('RegisterTargetsCommand')).toBeLessThan(order.indexOf('DeregisterTargetsCommand'));
    expect(stdout).toContain('sync succeeded: 1 mapping, 1 added, 1 removed, 0 failed');
  });

  it('sends the run\'s metrics, as the Lambda does', async () => {
    await cli(['sync', '--local', ...mappingFlags(), '--namespace', 'RdsNlbSyncTest']);

    expect(cloudwatchMock).toHaveReceivedCommandWith(PutMetricDataCommand, { Namespace: 'RdsNlbSyncTest' });
  });

  it('changes nothing with --dry-run', async () => {
    const { code, stdout } = await cli(['sync', '--local', '--dry-run', ...mappingFlags()]);

    expect(code).toBe(0);
    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
    expect(stdout).toContain('+ 10.0.2.9  would register');
  });

  it('exits 1 and leaves the targets alone when DNS fails', async () => {
    dns.fail(ORDERS, 'SERVFAIL');

    const { code, stdout } = await cli(['sync', '--local', ...mappingFlags()]);

    expect(code).toBe(1);
    expect(stdout).toContain('sync FAILED');
    expect(elbMock).toHaveReceivedCommandTimes(DeregisterTargetsCommand, 0);
  });

  it('prints the run summary as JSON with --json', async () => {
    const { stdout } = await cli(['sync', '--local', '--json', ...mappingFlags()]);

    expect(JSON.parse(stdout)).toMatchObject({ trigger: 'manual', outcome: 'success', mappings: [{ added: ['10.0.2.9'], removed: ['10.0.1.5'] }] });
  });

  it('says "would add" and "would remove" in a dry run, not "added"', async () => {
    const { stdout } = await cli(['sync', '--local', '--dry-run', ...mappingFlags()]);

    expect(stdout).toContain('sync succeeded (dry run): 1 mapping, would add 1, would remove 1, 0 failed');
    expect(stdout).not.toMatch(/\d added/);
  });

  it('counts a forced re-registration as re-registered, not added', async () => {
    givenRegistered('10.0.2.9');

    const { stdout } = await cli(['sync', '--local', '--force', ...mappingFlags()]);

    expect(stdout).toContain('+ 10.0.2.9  re-registered');
    expect(stdout).toContain('sync succeeded (force): 1 mapping, 0 added, 1 re-registered, 0 removed, 0 failed');
  });

  it('sends no metrics with --no-metrics, and says so', async () => {
    const { code, stdout } = await cli(['sync', '--local', '--no-metrics', ...mappingFlags()]);

    expect(code).toBe(0);
    expect(cloudwatchMock).toHaveReceivedCommandTimes(PutMetricDataCommand, 0);
    expect(stdout).toContain('metrics not sent (--no-metrics)');
  });

  it('reads the mappings from the SSM parameter --mappings-parameter names', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify([{ endpoint: ORDERS, targetGroupArn: TG_A, port: 5432 }]) } });

    const { code, stdout } = await cli(['sync', '--local', '--mappings-parameter', '/rds-nlb-sync/mappings', '--dns-servers', dns.address, '--dns-tries', '1']);

    expect(code).toBe(0);
    expect(ssmMock).toHaveReceivedCommandWith(GetParameterCommand, { Name: '/rds-nlb-sync/mappings', WithDecryption: true });
    expect(stdout).toContain('1 added, 1 removed');
  });

  it('exits 2 naming the parameter and the flag when the SSM value breaks a mapping rule', async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify([{ endpoint: ORDERS, targetGroupArn: TG_A, port: '1e3' }]) } });

    const { code, stderr } = await cli(['plan', '--mappings-parameter', '/rds-nlb-sync/mappings']);

    expect(code).toBe(2);
    expect(stderr).toContain('SYNC_MAPPINGS (SSM parameter /rds-nlb-sync/mappings, --mappings-parameter)[0].port must be a TCP port number');
  });

  it('prints the run\'s log lines to stderr with --verbose', async () => {
    const { stderr } = await cli(['sync', '--local', '--verbose', ...mappingFlags()]);

    const lines = stderr.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // The summary only: from a terminal the run does not follow the failover to healthy (the Lambda does).
    expect(lines.map((l) => l.message)).toEqual(['sync run']);
    expect(lines[0]).toMatchObject({ level: 'INFO', message: 'sync run', outcome: 'success' });
  });
});

describe('sync through the deployed function', () => {
  const lambdaMock = mockClient(LambdaClient);
  const summary = { trigger: 'manual', outcome: 'success', dryRun: false, force: true, durationMs: 12, failed: 0, metricsSent: true, mappings: [{ endpoint: ORDERS, targetGroupArn: TG_A, port: 5432, resolved: ['10.0.2.9'], registered: ['10.0.1.5'], healthy: 1, added: ['10.0.2.9'], removed: ['10.0.1.5'], reason: 'forced', durationMs: 10 }] };
  const payloadOf = (i = 0) => JSON.parse(new TextDecoder().decode(lambdaMock.commandCalls(InvokeCommand)[i]?.args[0].input.Payload as Uint8Array));
  beforeEach(() => {
    lambdaMock.reset();
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(summary)) as never });
  });
  afterAll(() => lambdaMock.restore());

  it('invokes rds-nlb-sync-<stage>-sync with force, dry run and the endpoint as the payload, and runs nothing here', async () => {
    const { code, stdout } = await cli(['sync', '--stage', 'prod', '--force', '--dry-run', '--endpoint', ORDERS], { AWS_REGION: 'eu-west-1' });

    expect(code).toBe(0);
    expect(lambdaMock).toHaveReceivedCommandWith(InvokeCommand, { FunctionName: 'rds-nlb-sync-prod-sync', InvocationType: 'RequestResponse' });
    expect(payloadOf()).toEqual({ force: true, dryRun: true, endpoints: [ORDERS] });
    expect(elbMock.calls()).toHaveLength(0);
    expect(stdout).toContain('invoked rds-nlb-sync-prod-sync');
    expect(stdout).toContain('sync succeeded (force): 1 mapping, 1 added, 1 removed, 0 failed');
  });

  it('takes the function from --function, else SYNC_FUNCTION_NAME', async () => {
    await cli(['sync', '--function', 'my-sync'], { AWS_REGION: 'eu-west-1', SYNC_FUNCTION_NAME: 'from-env' });
    await cli(['sync'], { AWS_REGION: 'eu-west-1', SYNC_FUNCTION_NAME: 'from-env' });

    expect(lambdaMock.commandCalls(InvokeCommand).map((c) => c.args[0].input.FunctionName)).toEqual(['my-sync', 'from-env']);
    expect(payloadOf(1)).toEqual({});
  });

  it('exits 1 with the function\'s error when the run failed there', async () => {
    const error = { errorType: 'RunFailedError', errorMessage: 'sync failed for 1 of 1 mappings: orders: DNS servfail' };
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: new TextEncoder().encode(JSON.stringify(error)) as never });

    const { code, stderr } = await cli(['sync', '--stage', 'prod'], { AWS_REGION: 'eu-west-1' });

    expect(code).toBe(1);
    expect(stderr).toContain('rds-nlb-sync-prod-sync failed: RunFailedError: sync failed for 1 of 1 mappings: orders: DNS servfail');
  });

  it('says in the top-level help, in one whole sentence, where sync runs', async () => {
    const { stdout } = await cli(['--help']);

    expect(stdout).toContain('  sync    Run one sync pass in the deployed function, or here with --local.\n');
  });

  it('exits 2 when it knows no function and --local was not given', async () => {
    const { code, stderr } = await cli(['sync', ...mappingFlags()], { AWS_REGION: 'eu-west-1' });

    expect(code).toBe(2);
    expect(stderr).toContain('pass --stage <stage> (or --function <name>, or set SYNC_FUNCTION_NAME); pass --local to run it from here instead');
    expect(elbMock.calls()).toHaveLength(0);
  });

  it('exits 2 for local-only settings given with a deployed function', async () => {
    const { code, stderr } = await cli(['sync', '--stage', 'prod', '--mappings', '[]'], { AWS_REGION: 'eu-west-1' });

    expect(code).toBe(2);
    expect(stderr).toContain('--mappings only apply with --local');
    expect(lambdaMock.calls()).toHaveLength(0);
  });
});

describe('accept', () => {
  // EC2 answers "pendingAcceptance"; the SDK's State type spells it "PendingAcceptance".
  const pending = (owner: string, id = 'vpce-1') => ({ ServiceId: SERVICE, VpcEndpointId: id, VpcEndpointOwner: owner, VpcEndpointState: 'pendingAcceptance' as State });
  beforeEach(() => {
    ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({ ServiceConfigurations: [{ ServiceId: SERVICE }] });
    ec2Mock.on(DescribeVpcEndpointConnectionsCommand).resolves({ VpcEndpointConnections: [pending(FIVETRAN), pending('111122223333', 'vpce-2')] });
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({ Unsuccessful: [] });
  });

  it("accepts Fivetran's pending connection, leaves the other, and exits 0", async () => {
    const { code, stdout } = await cli(['accept', '--service-id', SERVICE]);

    expect(code).toBe(0);
    expect(ec2Mock).toHaveReceivedCommandWith(AcceptVpcEndpointConnectionsCommand, { ServiceId: SERVICE, VpcEndpointIds: ['vpce-1'] });
    expect(stdout).toContain(`  accepted      vpce-1 (${FIVETRAN}: owner allowlisted)`);
    expect(stdout).toContain('  left pending  vpce-2 (111122223333: owner not allowlisted)');
  });

  it('accepts nothing with --dry-run', async () => {
    const { stdout } = await cli(['accept', '--dry-run', '--service-id', SERVICE]);

    expect(ec2Mock).toHaveReceivedCommandTimes(AcceptVpcEndpointConnectionsCommand, 0);
    expect(stdout).toContain('  would accept  vpce-1');
  });

  it('accepts the accounts of repeated --allowed-principal flags', async () => {
    await cli(['accept', '--service-id', SERVICE, '--allowed-principal', FIVETRAN, '--allowed-principal', 'arn:aws:iam::111122223333:root']);

    expect(ec2Mock).toHaveReceivedCommandWith(AcceptVpcEndpointConnectionsCommand, { VpcEndpointIds: ['vpce-1', 'vpce-2'] });
  });

  it('exits 1 when EC2 does not accept the connection', async () => {
    ec2Mock.on(AcceptVpcEndpointConnectionsCommand).resolves({ Unsuccessful: [{ ResourceId: 'vpce-1', Error: { Code: 'InvalidState', Message: 'not pending' } }] });

    const { code, stdout } = await cli(['accept', '--service-id', SERVICE]);

    expect(code).toBe(1);
    expect(stdout).toContain('error         AcceptVpcEndpointConnections vpce-1: InvalidState: not pending');
  });

  it('prints the run summary as JSON with --json', async () => {
    const { stdout } = await cli(['accept', '--json', '--service-id', SERVICE]);

    expect(JSON.parse(stdout)).toMatchObject({ trigger: 'manual', outcome: 'success', totals: { accepted: 1, left: 1 } });
  });

  it('sends no metrics with --no-metrics', async () => {
    const { code } = await cli(['accept', '--no-metrics', '--service-id', SERVICE]);

    expect(code).toBe(0);
    expect(cloudwatchMock).toHaveReceivedCommandTimes(PutMetricDataCommand, 0);
  });

  it('says "pending unknown", not "0 still pending", when the connections could not be listed', async () => {
    ec2Mock.on(DescribeVpcEndpointConnectionsCommand).rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }));

    const { code, stdout } = await cli(['accept', '--service-id', SERVICE]);

    expect(code).toBe(1);
    expect(stdout).toContain('accept FAILED: 0 accepted, 0 rejected, pending unknown, 1 error');
    expect(stdout).not.toContain('still pending');
  });

  it('exits 1 when the endpoint service is not one of this account\'s', async () => {
    ec2Mock.on(DescribeVpcEndpointServiceConfigurationsCommand).resolves({ ServiceConfigurations: [] });

    const { code, stdout } = await cli(['accept', '--service-id', SERVICE]);

    expect(code).toBe(1);
    expect(stdout).toContain(`${SERVICE} is not an endpoint service of this account`);
  });

  it('exits 2 without an endpoint service to work on', async () => {
    const { code, stderr } = await cli(['accept']);

    expect(code).toBe(2);
    expect(stderr).toContain('ENDPOINT_SERVICE_IDS (--service-id) is required');
  });
});

describe('errors every command shares', () => {
  it('ends the top-level help line of every command with its sentence', async () => {
    const { stdout } = await cli(['--help']);

    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^ {2}${command} +[^\\n]*\\.$`, 'm'));
  });
});

describe('plan --discover', () => {
  it('plans every tagged group as the deployed function serves it, and fails on a group it cannot serve', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({
      TargetGroups: [
        { TargetGroupArn: TG_A, TargetGroupName: 'orders', TargetType: 'ip', Protocol: 'TCP', Port: 5432 },
        { TargetGroupArn: TG_B, TargetGroupName: 'legacy', TargetType: 'instance', Protocol: 'TCP', Port: 5432 },
      ],
    });
    elbMock.on(DescribeTagsCommand).resolves({
      TagDescriptions: [
        { ResourceArn: TG_A, Tags: [{ Key: 'rds-nlb-sync:endpoint', Value: ORDERS }] },
        { ResourceArn: TG_B, Tags: [{ Key: 'rds-nlb-sync:endpoint', Value: BILLING }] },
      ],
    });

    const { code, stdout } = await cli(['plan', '--discover', '--dns-servers', dns.address, '--dns-tries', '1']);

    expect(code).toBe(1);
    expect(stdout).toContain(ORDERS);
    expect(stdout).toContain('10.0.2.9');
    expect(stdout).toMatch(/discovery failed: target group legacy \(arn:[^)]+\) tagged rds-nlb-sync:endpoint="billing[^"]+": its target type is instance/);
    expect(elbMock).toHaveReceivedCommandTimes(RegisterTargetsCommand, 0);
  });
});
