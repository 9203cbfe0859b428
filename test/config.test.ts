import { describe, expect, it } from 'vitest';
import { ConfigError, loadAcceptConfig, loadAwsClientSettings, loadSyncConfig, loadSyncConfigFrom } from '../lib/config.js';

const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/rds/0123456789abcdef';
const TG2 = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/rds-2/fedcba9876543210';
const shorthand = { RDS_ENDPOINT: 'MyDb.cluster-abc.eu-west-1.rds.amazonaws.com.', TARGET_GROUP_ARN: TG, TARGET_PORT: '5432' };

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSyncConfig', () => {
  it('sends per-mapping series only when they change unless MAPPING_METRICS says all or none', () => {
    expect(loadSyncConfig(shorthand).mappingMetrics).toBe('changes');
    expect(loadSyncConfig({ ...shorthand, MAPPING_METRICS: '' }).mappingMetrics).toBe('changes');
    expect(loadSyncConfig({ ...shorthand, MAPPING_METRICS: ' ALL ' }).mappingMetrics).toBe('all');
    expect(problemsOf(() => loadSyncConfig({ ...shorthand, MAPPING_METRICS: 'sometimes' }))).toEqual(['MAPPING_METRICS Invalid option: expected one of "changes"|"all"|"none"']);
  });

  it('builds one mapping from the shorthand, with the defaults', () => {
    expect(loadSyncConfig(shorthand)).toEqual({
      mappings: [{ endpoint: 'mydb.cluster-abc.eu-west-1.rds.amazonaws.com', targetGroupArn: TG, port: 5432, ipAddressType: 'ipv4' }],
      dns: { servers: [], timeoutMs: 2000, tries: 2 },
      failoverWatchMs: 180_000,
      failoverPollMs: 2000,
      failoverFollowMs: 600_000,
      failoverFollowPollMs: 5000,
      scheduleIntervalMs: 60_000,
      concurrency: 10,
      targetReadsPerRun: 300,
      metricsNamespace: 'RdsNlbSync',
      mappingMetrics: 'changes',
      dryRun: false,
    });
  });

  it('reads a SYNC_MAPPINGS list and every tuning setting', () => {
    const config = loadSyncConfig({
      SYNC_MAPPINGS: JSON.stringify([
        { endpoint: 'a.cluster-x.eu-west-1.rds.amazonaws.com', targetGroupArn: TG, port: 5432 },
        { endpoint: 'b.x.eu-west-1.rds.amazonaws.com', targetGroupArn: TG2, port: 3306, availabilityZone: 'all', ipAddressType: 'ipv6' },
      ]),
      DNS_SERVERS: '10.0.0.2, 127.0.0.1:5353',
      DNS_TIMEOUT_MS: '500',
      DNS_TRIES: '2',
      FAILOVER_WATCH_SECONDS: '30',
      FAILOVER_POLL_MS: '1000',
      SYNC_CONCURRENCY: '4',
      SCHEDULE_INTERVAL_SECONDS: '300',
      METRICS_NAMESPACE: 'Custom/Ns',
      DRY_RUN: 'true',
    });
    expect(config.mappings[1]).toEqual({ endpoint: 'b.x.eu-west-1.rds.amazonaws.com', targetGroupArn: TG2, port: 3306, availabilityZone: 'all', ipAddressType: 'ipv6' });
    expect(config.dns).toEqual({ servers: ['10.0.0.2', '127.0.0.1:5353'], timeoutMs: 500, tries: 2 });
    expect(config).toMatchObject({ failoverWatchMs: 30_000, failoverPollMs: 1000, scheduleIntervalMs: 300_000, concurrency: 4, metricsNamespace: 'Custom/Ns', dryRun: true });
  });

  it('names every missing shorthand key when nothing is configured', () => {
    expect(problemsOf(() => loadSyncConfig({}))).toEqual([
      'RDS_ENDPOINT is required (or set SYNC_MAPPINGS to a JSON list of mappings)',
      'TARGET_GROUP_ARN is required (or set SYNC_MAPPINGS to a JSON list of mappings)',
      'TARGET_PORT is required (or set SYNC_MAPPINGS to a JSON list of mappings)',
    ]);
  });

  it('names each bad key in one message', () => {
    const load = () =>
      loadSyncConfig({
        SYNC_MAPPINGS: JSON.stringify([{ endpoint: 'not a host', targetGroupArn: 'arn:nope', port: 70000, extra: 1 }]),
        DNS_TIMEOUT_MS: 'soon',
        DRY_RUN: 'maybe',
        DNS_SERVERS: 'dns.example.com',
      });
    expect(load).toThrow(ConfigError);
    const problems = problemsOf(load);
    expect(problems.map((p) => p.split(' ')[0])).toEqual([
      'SYNC_MAPPINGS[0].endpoint',
      'SYNC_MAPPINGS[0].targetGroupArn',
      'SYNC_MAPPINGS[0].port',
      'SYNC_MAPPINGS[0]',
      'DNS_SERVERS[0]',
      'DNS_TIMEOUT_MS',
      'DRY_RUN',
    ]);
    expect(load).toThrow(/^Invalid configuration:\n- SYNC_MAPPINGS\[0\]\.endpoint must be a DNS name/);
  });

  it('rejects SYNC_MAPPINGS that is not JSON', () => {
    expect(problemsOf(() => loadSyncConfig({ SYNC_MAPPINGS: '[{endpoint:' }))).toEqual([
      'SYNC_MAPPINGS must be a JSON list of {"endpoint","targetGroupArn","port"} objects, e.g. [{"endpoint":"mydb.abc123.eu-west-1.rds.amazonaws.com","targetGroupArn":"arn:aws:elasticloadbalancing:...","port":5432}]',
    ]);
  });

  it('rejects both SYNC_MAPPINGS and the shorthand at once', () => {
    const env = { ...shorthand, SYNC_MAPPINGS: JSON.stringify([{ endpoint: 'a.b.c', targetGroupArn: TG, port: 5432 }]) };
    expect(problemsOf(() => loadSyncConfig(env))[0]).toMatch(/^SYNC_MAPPINGS set either/);
  });

  it('rejects two endpoints managing the same target group and port', () => {
    const m = { targetGroupArn: TG, port: 5432 };
    const env = { SYNC_MAPPINGS: JSON.stringify([{ endpoint: 'a.b.c', ...m }, { endpoint: 'd.e.f', ...m }]) };
    expect(problemsOf(() => loadSyncConfig(env))).toEqual([expect.stringMatching(/^SYNC_MAPPINGS\[1\] maps a second endpoint/)]);
  });
});

describe('loadAcceptConfig', () => {
  it("defaults the allowlist to Fivetran's account", () => {
    expect(loadAcceptConfig({ ENDPOINT_SERVICE_IDS: 'vpce-svc-0123456789abcdef0' })).toEqual({
      serviceIds: ['vpce-svc-0123456789abcdef0'],
      loadBalancerArns: [],
      allowedAccounts: ['834469178297'],
      rejectUnlisted: false,
      metricsNamespace: 'RdsNlbSync',
      dryRun: false,
    });
  });

  it('normalises root ARNs and bare account IDs', () => {
    const config = loadAcceptConfig({
      LOAD_BALANCER_ARNS: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/db/0123456789abcdef',
      ALLOWED_PRINCIPALS: 'arn:aws:iam::834469178297:root, 111122223333',
      REJECT_UNLISTED: 'true',
    });
    expect(config.allowedAccounts).toEqual(['834469178297', '111122223333']);
    expect(config.rejectUnlisted).toBe(true);
  });

  it('rejects a malformed principal at cold start', () => {
    const env = { ENDPOINT_SERVICE_IDS: 'vpce-svc-0123456789abcdef0', ALLOWED_PRINCIPALS: 'arn:aws:iam::834469178297:user/bob' };
    expect(problemsOf(() => loadAcceptConfig(env))).toEqual([
      'ALLOWED_PRINCIPALS[0] "arn:aws:iam::834469178297:user/bob" is not a 12-digit AWS account ID or arn:aws:iam::<account>:root',
    ]);
  });

  it('requires a service ID or a load balancer ARN', () => {
    expect(problemsOf(() => loadAcceptConfig({}))).toEqual([expect.stringMatching(/^ENDPOINT_SERVICE_IDS is required/)]);
  });
});

describe('settings that would pass and fail later', () => {
  const withServers = (DNS_SERVERS: string) => () => loadSyncConfig({ ...shorthand, DNS_SERVERS });

  it.each(['10.0.0.2:0', 'cafe', '999.1.1.1', '10.0.0.2:99999', '[10.0.0.2]:53', 'fd00::2:53x', '[fd00::2]:0', 'dns.example.com:53'])(
    'refuses DNS_SERVERS=%s with the message naming DNS_SERVERS',
    (value) => {
      expect(problemsOf(withServers(value))).toEqual([
        'DNS_SERVERS[0] must be comma-separated IP addresses with an optional port (1-65535): 10.0.0.2, 10.0.0.2:53, fd00::2 or [fd00::2]:53',
      ]);
    },
  );

  it('takes IPv4 and IPv6 DNS servers with and without a port', () => {
    const servers = ['10.0.0.2', '10.0.0.2:53', 'fd00::2', '[fd00::2]', '[fd00::2]:5353', '127.0.0.1:65535'];
    expect(loadSyncConfig({ ...shorthand, DNS_SERVERS: servers.join(',') }).dns.servers).toEqual(servers);
  });

  it.each([['"0x1538"'], ['"1e3"'], ['true'], ['[5432]'], ['5432.5'], ['" "'], ['null']])('refuses %s as a SYNC_MAPPINGS port', (json) => {
    const env = { SYNC_MAPPINGS: `[{"endpoint":"a.b.c","targetGroupArn":"${TG}","port":${json}}]` };
    expect(problemsOf(() => loadSyncConfig(env))).toEqual(['SYNC_MAPPINGS[0].port must be a TCP port number (1-65535)']);
  });

  it('takes a SYNC_MAPPINGS port as a JSON integer or a decimal string', () => {
    const env = { SYNC_MAPPINGS: JSON.stringify([{ endpoint: 'a.b.c', targetGroupArn: TG, port: '5432' }, { endpoint: 'd.e.f', targetGroupArn: TG2, port: 3306 }]) };
    expect(loadSyncConfig(env).mappings.map((m) => m.port)).toEqual([5432, 3306]);
  });

  it.each(['0x1538', '1e3', 'true', '[5432]', '5432.0', '0', '65536'])('refuses TARGET_PORT=%s', (value) => {
    expect(problemsOf(() => loadSyncConfig({ ...shorthand, TARGET_PORT: value }))).toEqual(['TARGET_PORT must be a TCP port number (1-65535)']);
  });

  it.each([
    ['DNS_TIMEOUT_MS', '0x100', 'must be milliseconds (100-30000)'],
    ['DNS_TRIES', '1e0', 'must be a number of tries (1-5)'],
    ['FAILOVER_WATCH_SECONDS', '6e1', 'must be seconds (0-840)'],
    ['SYNC_CONCURRENCY', '2.0', 'must be a number of mappings synced at once (1-100)'],
    ['AWS_CONNECT_TIMEOUT_MS', '3s', 'must be milliseconds (100-60000)'],
    ['AWS_REQUEST_TIMEOUT_MS', '0', 'must be milliseconds (100-120000)'],
  ])('refuses %s=%s (numbers are decimal integers)', (key, value, message) => {
    expect(problemsOf(() => loadSyncConfig({ ...shorthand, [key]: value }))).toEqual([`${key} ${message}`]);
  });

  it('trims a decimal setting and falls back to the default on a blank one', () => {
    expect(loadSyncConfig({ ...shorthand, TARGET_PORT: ' 5432 ', DNS_TRIES: ' ' })).toMatchObject({ mappings: [{ port: 5432 }], dns: { tries: 2 } });
  });
});

describe('settings CloudWatch or DNS would refuse at run time', () => {
  const acceptEnv = { ENDPOINT_SERVICE_IDS: 'vpce-svc-0123456789abcdef0' };

  // CloudWatch: 1-255 of A-Z a-z 0-9 . - _ / # : and space, not ":..." nor "AWS/..." (PutMetricData).
  it.each([
    ['éx', 'must be a CloudWatch namespace: 1-255 of A-Z a-z 0-9 . - _ / # : and space, e.g. RdsNlbSync'],
    ['Rds"Sync', 'must be a CloudWatch namespace: 1-255 of A-Z a-z 0-9 . - _ / # : and space, e.g. RdsNlbSync'],
    ['x'.repeat(256), 'must be a CloudWatch namespace: 1-255 of A-Z a-z 0-9 . - _ / # : and space, e.g. RdsNlbSync'],
    ['AWS/EC2', 'must not start with "AWS/" (reserved for AWS services)'],
    [':Rds', 'must not start with ":" (CloudWatch refuses it)'],
  ])('refuses METRICS_NAMESPACE=%s in both loaders', (value, message) => {
    expect(problemsOf(() => loadSyncConfig({ ...shorthand, METRICS_NAMESPACE: value }))).toEqual([`METRICS_NAMESPACE ${message}`]);
    expect(problemsOf(() => loadAcceptConfig({ ...acceptEnv, METRICS_NAMESPACE: value }))).toEqual([`METRICS_NAMESPACE ${message}`]);
  });

  it.each(['RdsNlbSync', 'Team/rds-nlb-sync', 'My App #2:prod_1.0', 'x'.repeat(255)])('takes METRICS_NAMESPACE=%s', (value) => {
    expect(loadSyncConfig({ ...shorthand, METRICS_NAMESPACE: value }).metricsNamespace).toBe(value);
  });

  const IP_MESSAGE = "is an IP address: give the RDS endpoint's DNS name (its address changes on failover, which is what sync follows)";
  it.each(['10.0.0.5', ' 10.0.0.5 ', '192.168.1.1'])('refuses RDS_ENDPOINT=%j: an address is not a name to follow', (value) => {
    expect(problemsOf(() => loadSyncConfig({ ...shorthand, RDS_ENDPOINT: value }))).toEqual([`RDS_ENDPOINT ${IP_MESSAGE}`]);
  });

  it('refuses an IP address as a SYNC_MAPPINGS endpoint', () => {
    const env = { SYNC_MAPPINGS: JSON.stringify([{ endpoint: '10.0.0.5', targetGroupArn: TG, port: 5432 }]) };
    expect(problemsOf(() => loadSyncConfig(env))).toEqual([`SYNC_MAPPINGS[0].endpoint ${IP_MESSAGE}`]);
  });

  it.each(['null', '{}', 'true', '5', '"[]"'])('says what shape SYNC_MAPPINGS=%s should have', (value) => {
    expect(problemsOf(() => loadSyncConfig({ SYNC_MAPPINGS: value }))).toEqual([
      'SYNC_MAPPINGS must be a JSON list of {"endpoint","targetGroupArn","port"} objects, e.g. [{"endpoint":"mydb.abc123.eu-west-1.rds.amazonaws.com","targetGroupArn":"arn:aws:elasticloadbalancing:...","port":5432}]',
    ]);
  });
});

describe('loadAwsClientSettings', () => {
  it('defaults to a 3 s connect and a 5 s request timeout', () => {
    expect(loadAwsClientSettings({})).toEqual({ connectTimeoutMs: 3000, requestTimeoutMs: 5000 });
  });

  it('reads both timeouts and names a bad one', () => {
    expect(loadAwsClientSettings({ AWS_CONNECT_TIMEOUT_MS: '1000', AWS_REQUEST_TIMEOUT_MS: '2000' })).toEqual({ connectTimeoutMs: 1000, requestTimeoutMs: 2000 });
    expect(problemsOf(() => loadAwsClientSettings({ AWS_REQUEST_TIMEOUT_MS: 'fast' }))).toEqual(['AWS_REQUEST_TIMEOUT_MS must be milliseconds (100-120000)']);
  });

  it('is checked with the accept settings at cold start too', () => {
    expect(problemsOf(() => loadAcceptConfig({ ENDPOINT_SERVICE_IDS: 'vpce-svc-0123456789abcdef0', AWS_CONNECT_TIMEOUT_MS: '-1' }))).toEqual([
      'AWS_CONNECT_TIMEOUT_MS must be milliseconds (100-60000)',
    ]);
  });
});

describe('loadSyncConfigFrom (SYNC_MAPPINGS_PARAMETER)', () => {
  const PARAM = '/rds-nlb-sync/prod/mappings';
  const mappings = JSON.stringify([{ endpoint: 'a.cluster-x.eu-west-1.rds.amazonaws.com', targetGroupArn: TG, port: 5432 }]);
  const reader = (value: string) => {
    const names: string[] = [];
    return { names, read: async (name: string) => (names.push(name), value) };
  };
  const problemsOfAsync = async (load: () => Promise<unknown>) => {
    const err = await load().then(
      () => undefined,
      (e: unknown) => e,
    );
    if (err instanceof ConfigError) return err.problems;
    throw new Error(`expected a ConfigError, got ${String(err)}`);
  };

  it('reads the mappings JSON from the SSM parameter and validates it like SYNC_MAPPINGS', async () => {
    const { names, read } = reader(mappings);
    const config = await loadSyncConfigFrom({ SYNC_MAPPINGS_PARAMETER: PARAM, DNS_TRIES: '1' }, read);
    expect(names).toEqual([PARAM]);
    expect(config.mappings).toEqual([{ endpoint: 'a.cluster-x.eu-west-1.rds.amazonaws.com', targetGroupArn: TG, port: 5432, ipAddressType: 'ipv4' }]);
    expect(config.dns.tries).toBe(1);
  });

  it('takes a parameter ARN', async () => {
    const arn = `arn:aws:ssm:eu-west-1:123456789012:parameter${PARAM}`;
    const { names, read } = reader(mappings);
    await loadSyncConfigFrom({ SYNC_MAPPINGS_PARAMETER: arn }, read);
    expect(names).toEqual([arn]);
  });

  it('names SYNC_MAPPINGS_PARAMETER and the parameter when its value breaks a SYNC_MAPPINGS rule', async () => {
    const { read } = reader('[{"endpoint":"a.b.c","targetGroupArn":"' + TG + '","port":"0x1538"}]');
    expect(await problemsOfAsync(() => loadSyncConfigFrom({ SYNC_MAPPINGS_PARAMETER: PARAM }, read))).toEqual([
      `SYNC_MAPPINGS_PARAMETER (SSM parameter ${PARAM}): SYNC_MAPPINGS[0].port must be a TCP port number (1-65535)`,
    ]);
    const notJson = reader('endpoint=a.b.c');
    expect(await problemsOfAsync(() => loadSyncConfigFrom({ SYNC_MAPPINGS_PARAMETER: PARAM }, notJson.read))).toEqual([
      `SYNC_MAPPINGS_PARAMETER (SSM parameter ${PARAM}): SYNC_MAPPINGS must be a JSON list of {"endpoint","targetGroupArn","port"} objects, e.g. [{"endpoint":"mydb.abc123.eu-west-1.rds.amazonaws.com","targetGroupArn":"arn:aws:elasticloadbalancing:...","port":5432}]`,
    ]);
  });

  it('fails with a clear message, naming the parameter and what to check, when SSM cannot be read', async () => {
    const read = async () => {
      throw Object.assign(new Error('Parameter not found'), { name: 'ParameterNotFound' });
    };
    const [problem] = await problemsOfAsync(() => loadSyncConfigFrom({ SYNC_MAPPINGS_PARAMETER: PARAM }, read));
    expect(problem).toMatch(/^SYNC_MAPPINGS_PARAMETER: cannot read SSM parameter \/rds-nlb-sync\/prod\/mappings \(ParameterNotFound: Parameter not found\)\. Check .*ssm:GetParameter.*kms:Decrypt/);
  });

  it('refuses SYNC_MAPPINGS_PARAMETER next to SYNC_MAPPINGS or the shorthand, before reading SSM', async () => {
    const { names, read } = reader(mappings);
    for (const env of [{ SYNC_MAPPINGS: mappings }, shorthand]) {
      expect(await problemsOfAsync(() => loadSyncConfigFrom({ ...env, SYNC_MAPPINGS_PARAMETER: PARAM }, read))).toEqual([
        'SYNC_MAPPINGS_PARAMETER set either SYNC_MAPPINGS_PARAMETER or SYNC_MAPPINGS or RDS_ENDPOINT/TARGET_GROUP_ARN/TARGET_PORT, not several',
      ]);
    }
    expect(names).toEqual([]);
  });

  it('refuses a parameter name SSM could not have, before reading SSM', async () => {
    const { names, read } = reader(mappings);
    expect(await problemsOfAsync(() => loadSyncConfigFrom({ SYNC_MAPPINGS_PARAMETER: 'my mappings!' }, read))).toEqual([
      'SYNC_MAPPINGS_PARAMETER must be an SSM parameter name (/rds-nlb-sync/mappings) or its ARN',
    ]);
    expect(names).toEqual([]);
  });

  it('reads nothing from SSM without SYNC_MAPPINGS_PARAMETER', async () => {
    const { names, read } = reader(mappings);
    expect((await loadSyncConfigFrom(shorthand, read)).mappings).toHaveLength(1);
    expect(names).toEqual([]);
  });
});

describe('discovery settings', () => {
  it('is off by default: no discovery in the config, mappings still required', () => {
    expect(loadSyncConfig(shorthand).discovery).toBeUndefined();
    expect(problemsOf(() => loadSyncConfig({}))).toContain('RDS_ENDPOINT is required (or set SYNC_MAPPINGS to a JSON list of mappings)');
  });

  it('needs no static mapping when on, with the default key and the port key derived from it', () => {
    const config = loadSyncConfig({ DISCOVER_TARGET_GROUPS: 'true' });
    expect(config.mappings).toEqual([]);
    expect(config.discovery).toEqual({ tagKey: 'rds-nlb-sync:endpoint', portTagKey: 'rds-nlb-sync:port' });
  });

  it('keeps static mappings beside discovery', () => {
    expect(loadSyncConfig({ ...shorthand, DISCOVER_TARGET_GROUPS: 'yes' }).mappings).toHaveLength(1);
  });

  it('derives the port key from a custom key (its prefix before the last colon)', () => {
    expect(loadSyncConfig({ DISCOVER_TARGET_GROUPS: 'true', DISCOVERY_TAG_KEY: 'team-a/rds:endpoint' }).discovery).toEqual({ tagKey: 'team-a/rds:endpoint', portTagKey: 'team-a/rds:port' });
    expect(loadSyncConfig({ DISCOVER_TARGET_GROUPS: 'true', DISCOVERY_TAG_KEY: 'dbendpoint' }).discovery?.portTagKey).toBe('dbendpoint:port');
  });

  it.each([
    ['aws:reserved', 'must not start with "aws:"'],
    ['rds:port', 'must not end in ":port"'],
    ['bad,key', 'must be a target group tag key'],
    ['x'.repeat(129), 'must be a target group tag key'],
  ])('refuses DISCOVERY_TAG_KEY=%s, naming the setting', (key, why) => {
    const problems = problemsOf(() => loadSyncConfig({ DISCOVER_TARGET_GROUPS: 'true', DISCOVERY_TAG_KEY: key }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^DISCOVERY_TAG_KEY /);
    expect(problems[0]).toContain(why);
  });

  it('refuses a DISCOVER_TARGET_GROUPS that is not a boolean', () => {
    expect(problemsOf(() => loadSyncConfig({ ...shorthand, DISCOVER_TARGET_GROUPS: 'maybe' }))).toEqual(['DISCOVER_TARGET_GROUPS must be true or false']);
  });
});
