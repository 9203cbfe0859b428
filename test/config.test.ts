import { describe, expect, it } from 'vitest';
import { ConfigError, loadAcceptConfig, loadSyncConfig } from '../lib/config.js';

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
  it('builds one mapping from the shorthand, with the defaults', () => {
    expect(loadSyncConfig(shorthand)).toEqual({
      mappings: [{ endpoint: 'mydb.cluster-abc.eu-west-1.rds.amazonaws.com', targetGroupArn: TG, port: 5432, ipAddressType: 'ipv4' }],
      dns: { servers: [], timeoutMs: 2000, tries: 2 },
      failoverWatchMs: 180_000,
      failoverPollMs: 2000,
      scheduleIntervalMs: 60_000,
      concurrency: 10,
      metricsNamespace: 'RdsNlbSync',
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
      'SYNC_MAPPINGS must be a JSON list of {"endpoint","targetGroupArn","port"} objects',
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
