import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { loadSyncConfig, type Mapping, type SyncConfig } from '../../lib/config.js';
import { decideDiscovered, DiscoveryCache, DiscoveryError, discoverMappings, type TargetGroupFacts } from '../../lib/sync/discovery.js';
import { runSync } from '../../lib/sync/run.js';
import { recordLog } from '../fixtures.js';

const KEYS = { tagKey: 'rds-nlb-sync:endpoint', portTagKey: 'rds-nlb-sync:port' };
const WRITER = 'orders.cluster-abc123def456.eu-west-1.rds.amazonaws.com';
const READER = 'orders.cluster-ro-abc123def456.eu-west-1.rds.amazonaws.com';
const arn = (name: string) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${name}/0123456789abcdef`;

function group(name: string, tags: Record<string, string>, over: Partial<TargetGroupFacts> = {}): TargetGroupFacts {
  return { arn: arn(name), name, targetType: 'ip', protocol: 'TCP', port: 5432, ipAddressType: 'ipv4', tags, ...over };
}

describe('decideDiscovered', () => {
  it('maps a tagged IP group to its endpoint on the group port, lower-cased and without the trailing dot', () => {
    const out = decideDiscovered([group('a', { [KEYS.tagKey]: `${WRITER.toUpperCase()}.` })], [], KEYS);
    expect(out.mappings).toEqual([{ endpoint: WRITER, targetGroupArn: arn('a'), port: 5432, ipAddressType: 'ipv4' }]);
    expect(out.failures).toEqual([]);
  });

  it('takes the port from the port tag when there is one, and the ipv6 address type from the group', () => {
    const out = decideDiscovered([group('a', { [KEYS.tagKey]: READER, [KEYS.portTagKey]: '3306' }, { ipAddressType: 'ipv6' })], [], KEYS);
    expect(out.mappings).toEqual([{ endpoint: READER, targetGroupArn: arn('a'), port: 3306, ipAddressType: 'ipv6' }]);
  });

  it('ignores a group without the endpoint tag, even with a port tag', () => {
    const out = decideDiscovered([group('a', { [KEYS.portTagKey]: '5432', team: 'x' })], [], KEYS);
    expect(out).toEqual({ mappings: [], failures: [], overridden: [] });
  });

  it.each([
    ['an IP address', '10.0.0.5', 'is an IP address'],
    ['not a DNS name', 'not a name!', 'must be a DNS name'],
    ['a name that is not RDS', 'db.example.com', 'is not an RDS endpoint name'],
    ['empty', '', 'must be a DNS name'],
  ])('fails a group whose tag value is %s, naming the group and the tag, and serves the others', (_, value, why) => {
    const out = decideDiscovered([group('bad', { [KEYS.tagKey]: value }), group('good', { [KEYS.tagKey]: WRITER })], [], KEYS);
    expect(out.mappings.map((m) => m.targetGroupArn)).toEqual([arn('good')]);
    expect(out.failures).toHaveLength(1);
    expect(out.failures[0]).toMatchObject({ targetGroupArn: arn('bad'), targetGroupName: 'bad', tag: KEYS.tagKey, value });
    expect(out.failures[0]?.message).toContain(`target group bad (${arn('bad')}) tagged ${KEYS.tagKey}=`);
    expect(out.failures[0]?.message).toContain(why);
  });

  it('fails a bad port tag by the port tag name', () => {
    const out = decideDiscovered([group('a', { [KEYS.tagKey]: WRITER, [KEYS.portTagKey]: '0x1538' })], [], KEYS);
    expect(out.mappings).toEqual([]);
    expect(out.failures[0]).toMatchObject({ tag: KEYS.portTagKey, value: '0x1538' });
    expect(out.failures[0]?.message).toContain('must be a TCP port number');
  });

  it.each([
    [{ targetType: 'instance' }, 'its target type is instance'],
    [{ targetType: 'lambda', port: undefined }, 'its target type is lambda'],
    [{ protocol: 'UDP' }, 'its protocol is UDP'],
    [{ protocol: 'TLS' }, 'its protocol is TLS'],
  ])('fails a group that is not an IP TCP group (%o)', (over, why) => {
    const out = decideDiscovered([group('a', { [KEYS.tagKey]: WRITER }, over)], [], KEYS);
    expect(out.mappings).toEqual([]);
    expect(out.failures[0]?.message).toContain(why);
    expect(out.failures[0]?.message).toContain('target group a');
  });

  it('lets a static mapping win for the same target group and port, and says so', () => {
    const fixed: Mapping = { endpoint: 'orders-1.abc123def456.eu-west-1.rds.amazonaws.com', targetGroupArn: arn('a'), port: 5432, ipAddressType: 'ipv4' };
    const out = decideDiscovered([group('a', { [KEYS.tagKey]: WRITER }), group('b', { [KEYS.tagKey]: WRITER, [KEYS.portTagKey]: '5433' })], [fixed], KEYS);
    expect(out.mappings.map((m) => m.targetGroupArn)).toEqual([arn('b')]);
    expect(out.overridden).toEqual([{ targetGroupArn: arn('a'), port: 5432, taggedEndpoint: WRITER, servedEndpoint: fixed.endpoint }]);
  });

  it('serves a static mapping and a discovered one on another port of the same group, each on its port', () => {
    const fixed: Mapping = { endpoint: WRITER, targetGroupArn: arn('a'), port: 3306, ipAddressType: 'ipv4' };
    const out = decideDiscovered([group('a', { [KEYS.tagKey]: READER })], [fixed], KEYS);
    expect(out.mappings).toEqual([{ endpoint: READER, targetGroupArn: arn('a'), port: 5432, ipAddressType: 'ipv4' }]);
    expect(out.overridden).toEqual([]);
  });
});

describe('discoverMappings', () => {
  const base = (): SyncConfig =>
    loadSyncConfig({ DISCOVER_TARGET_GROUPS: 'true', RDS_ENDPOINT: 'fixed.abc123def456.eu-west-1.rds.amazonaws.com', TARGET_GROUP_ARN: arn('fixed'), TARGET_PORT: '5432' });

  it('returns the config untouched when discovery is off', async () => {
    const config = loadSyncConfig({ RDS_ENDPOINT: WRITER, TARGET_GROUP_ARN: arn('a'), TARGET_PORT: '5432' });
    const list = async () => {
      throw new Error('must not be called');
    };
    await expect(discoverMappings(config, list, new DiscoveryCache())).resolves.toEqual({ config });
  });

  it('adds the discovered mappings after the static ones and reports them as fresh', async () => {
    const { config, report } = await discoverMappings(base(), async () => [group('a', { [KEYS.tagKey]: WRITER })], new DiscoveryCache());
    expect(config.mappings.map((m) => m.targetGroupArn)).toEqual([arn('fixed'), arn('a')]);
    expect(report).toEqual({ tagKey: KEYS.tagKey, source: 'fresh', groups: 1, failures: [], overridden: [] });
  });

  it('asks the listing for the configured key only', async () => {
    const asked: string[][] = [];
    const config = loadSyncConfig({ DISCOVER_TARGET_GROUPS: 'true', DISCOVERY_TAG_KEY: 'team-a:endpoint' });
    await discoverMappings(config, async (keys) => (asked.push(keys), []), new DiscoveryCache());
    expect(asked).toEqual([['team-a:endpoint']]);
    expect(config.discovery).toEqual({ tagKey: 'team-a:endpoint', portTagKey: 'team-a:port' });
  });

  it('serves the last successful discovery when a listing fails, and reports the failure', async () => {
    const cache = new DiscoveryCache();
    await discoverMappings(base(), async () => [group('a', { [KEYS.tagKey]: WRITER })], cache);
    const { config, report } = await discoverMappings(
      base(),
      async () => {
        throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
      },
      cache,
    );
    expect(config.mappings.map((m) => m.targetGroupArn)).toEqual([arn('fixed'), arn('a')]);
    expect(report).toMatchObject({ source: 'cached', groups: 1, error: { name: 'Throttling', message: 'Rate exceeded' } });
  });

  it('fails for discovery, before anything is changed, when a listing fails and nothing was discovered before', async () => {
    const failing = async () => {
      throw new Error('AccessDenied');
    };
    await expect(discoverMappings(base(), failing, new DiscoveryCache())).rejects.toThrow(DiscoveryError);
    await expect(discoverMappings(base(), failing, new DiscoveryCache())).rejects.toThrow(/cannot list the target groups tagged rds-nlb-sync:endpoint \(AccessDenied\).*nothing was changed/);
  });

  it('drops a group whose tag went away from what is served (it is no longer managed)', async () => {
    const cache = new DiscoveryCache();
    await discoverMappings(base(), async () => [group('a', { [KEYS.tagKey]: WRITER })], cache);
    const { config } = await discoverMappings(base(), async () => [], cache);
    expect(config.mappings.map((m) => m.targetGroupArn)).toEqual([arn('fixed')]);
  });
});

describe('the sync run line with discovery', () => {
  it('carries the fields the documented discovery query reads, and fails the run for a group it could not serve', async () => {
    const log = recordLog();
    const discovery = {
      tagKey: KEYS.tagKey,
      source: 'cached' as const,
      groups: 0,
      failures: [{ targetGroupArn: arn('bad'), targetGroupName: 'bad', tag: KEYS.tagKey, value: 'x', message: 'target group bad ...' }],
      overridden: [{ targetGroupArn: arn('a'), port: 5432, taggedEndpoint: WRITER, servedEndpoint: READER }],
      error: { name: 'Throttling', message: 'Rate exceeded' },
    };
    const config = { ...loadSyncConfig({ DISCOVER_TARGET_GROUPS: 'true' }), mappings: [] };
    const cloudwatch = new CloudWatchClient({ region: 'eu-west-1' });
    cloudwatch.send = (async () => ({})) as typeof cloudwatch.send;

    const summary = await runSync(config, { trigger: 'schedule', force: false, dryRun: false, discovery }, { elb: new ElasticLoadBalancingV2Client({}), cloudwatch, resolve: async () => [], log });

    expect(summary).toMatchObject({ outcome: 'failed', failed: 2 });
    const line = log.lines.find((l) => l.message === 'sync run')?.extra as { discovery: typeof discovery };
    expect(line.discovery.source).toBe('cached');
    expect(line.discovery.groups).toBe(0);
    expect(line.discovery.error?.message).toBe('Rate exceeded');
    expect(line.discovery.failures[0]?.targetGroupName).toBe('bad');
    expect(line.discovery.failures[0]?.message).toBe('target group bad ...');
    expect(line.discovery.overridden[0]?.targetGroupArn).toBe(arn('a'));
  });
});
