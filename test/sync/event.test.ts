import { describe, expect, it } from 'vitest';
import { InvalidPayloadError } from '../../lib/errors.js';
import { matchRdsEvent, parseSyncEvent, readRdsSource, withEventMatch, type RdsLookup } from '../../lib/sync/event.js';
import blueGreenEvent from '../events/rds-blue-green-switchover.json' with { type: 'json' };
import rdsEvent from '../events/rds-cluster-failover.json' with { type: 'json' };
import instanceEvent from '../events/rds-instance-failover.json' with { type: 'json' };
import scheduleEvent from '../events/scheduled.json' with { type: 'json' };
import { BILLING, ORDERS, syncConfig, TG_A, TG_B } from '../fixtures.js';

const config = syncConfig();
const withSource = (SourceIdentifier: string, extra: Record<string, string> = {}) => ({ ...rdsEvent, detail: { ...rdsEvent.detail, SourceIdentifier, ...extra } });

const READER = 'orders.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com';
const CUSTOM = 'analytics.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com';
const aurora = syncConfig({
  mappings: [
    { endpoint: ORDERS, targetGroupArn: TG_A, port: 5432, ipAddressType: 'ipv4' },
    { endpoint: READER, targetGroupArn: TG_A, port: 5433, ipAddressType: 'ipv4' },
    { endpoint: CUSTOM, targetGroupArn: TG_A, port: 5434, ipAddressType: 'ipv4' },
    { endpoint: BILLING, targetGroupArn: TG_B, port: 3306, ipAddressType: 'ipv4' },
  ],
});

/** RDS as a table; records what was asked. */
function fakeRds(tables: { instances?: Record<string, string>; customEndpoints?: Record<string, string>; deployments?: Record<string, string[]> } = {}) {
  const asked: string[] = [];
  const lookup: RdsLookup = {
    clusterOfInstance: async (id) => (asked.push(`instance ${id}`), tables.instances?.[id]),
    clusterOfCustomEndpoint: async (name) => (asked.push(`custom ${name}`), tables.customEndpoints?.[name]),
    blueGreenMembers: async (id) => (asked.push(`deployment ${id}`), tables.deployments?.[id] ?? []),
  };
  return { lookup, asked };
}

const watchOf = async (event: unknown, cfg = config, rds = fakeRds()) => (await withEventMatch(parseSyncEvent(event, cfg), cfg, rds.lookup)).watch;

describe('parseSyncEvent', () => {
  it('reads a scheduled event as a plain run', () => {
    expect(parseSyncEvent(scheduleEvent, config)).toEqual({ trigger: 'schedule', force: false, dryRun: false });
  });

  it('reads an RDS event with its source, before any mapping is matched', () => {
    expect(parseSyncEvent(rdsEvent, config)).toEqual({
      trigger: 'rds-event',
      force: false,
      dryRun: false,
      watch: [],
      event: {
        sourceIdentifier: 'orders',
        eventId: 'RDS-EVENT-0073',
        message: 'Started cross AZ failover to DB instance: orders-instance-2',
        // The event's own time: where a failover timeline counts from.
        time: '2026-11-25T10:15:32Z',
        source: { kind: 'cluster', id: 'orders' },
      },
    });
  });

  // An AWS envelope is matched loosely (AWS adds fields): a manual-only field on one used to be
  // dropped, and {"dryRun":true} on a scheduled event ran a real pass.
  it.each([
    ['a scheduled event with dryRun', { ...scheduleEvent, dryRun: true }, 'dryRun'],
    ['a scheduled event with force', { ...scheduleEvent, force: true }, 'force'],
    ['an RDS event with dryRun and endpoints', { ...rdsEvent, dryRun: true, endpoints: ['x'] }, 'dryRun, endpoints'],
  ])('refuses %s instead of running for real', (_, event, fields) => {
    expect(() => parseSyncEvent(event, config)).toThrow(InvalidPayloadError);
    expect(() => parseSyncEvent(event, config)).toThrow(`Invalid sync event (${fields}: a manual payload's field; on an AWS event it would be ignored and the run go ahead for real)`);
  });

  it.each([undefined, null, {}])('treats %j as a manual run of everything', (payload) => {
    expect(parseSyncEvent(payload, config)).toEqual({ trigger: 'manual', force: false, dryRun: false });
  });

  it('rejects an empty endpoints list', () => {
    expect(() => parseSyncEvent({ endpoints: [] }, config)).toThrow(InvalidPayloadError);
  });

  it('matches a manual endpoint written with a trailing dot or in upper case', () => {
    expect(parseSyncEvent({ endpoints: [`${ORDERS.toUpperCase()}.`] }, config)).toEqual({ trigger: 'manual', force: false, dryRun: false, endpoints: [ORDERS] });
  });

  it('leaves out an event time that is not a date', () => {
    expect(parseSyncEvent({ ...rdsEvent, time: 'yesterday' }, config).event).not.toHaveProperty('time');
  });

  it('refuses a malformed RDS event saying what an RDS event must hold', () => {
    const malformed = { source: 'aws.rds', 'detail-type': 'RDS DB Instance Event', detail: { EventID: 'RDS-EVENT-0049' } };
    expect(() => parseSyncEvent(malformed, config)).toThrow(/^Invalid RDS event \(detail\.SourceIdentifier: .*\): expected an aws\.rds event/);
  });

  it('refuses an EventBridge event of another source by its source, not as unknown manual keys', () => {
    expect(() => parseSyncEvent({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} }, config)).toThrow(
      'Invalid sync event: source "aws.ec2", detail-type "EC2 Instance State-change Notification" is neither the schedule (aws.events, "Scheduled Event") nor an RDS event (aws.rds)',
    );
  });
});

describe('readRdsSource', () => {
  it.each([
    ['orders', 'RDS DB Cluster Event', { SourceType: 'CLUSTER' }, { kind: 'cluster', id: 'orders' }],
    ['rds:Orders-Instance-2', 'RDS DB Instance Event', { SourceType: 'DB_INSTANCE' }, { kind: 'instance', id: 'orders-instance-2' }],
    ['arn:aws:rds:eu-west-1:123456789012:db:billing', 'RDS DB Instance Event', {}, { kind: 'instance', id: 'billing' }],
    ['arn:aws:rds:eu-west-1:123456789012:cluster:orders', 'RDS DB Instance Event', {}, { kind: 'cluster', id: 'orders' }],
    ['bgd-1234567890abcdef', 'RDS Blue Green Deployment Event', {}, { kind: 'blue-green', id: 'bgd-1234567890abcdef' }],
    ['something', 'RDS Event', {}, { kind: 'unknown', id: 'something' }],
  ])('reads %s (%s)', (SourceIdentifier, detailType, extra, expected) => {
    expect(readRdsSource({ SourceIdentifier, ...extra }, detailType)).toEqual(expected);
  });
});

describe('matching an RDS event to mappings', () => {
  it('watches the mapping whose endpoint is named by the event', async () => {
    expect(await watchOf(rdsEvent)).toEqual([ORDERS]);
  });

  it.each(['rds:Billing', 'arn:aws:rds:eu-west-1:123456789012:db:billing', 'BILLING'])('matches the instance named as %s', async (id) => {
    expect(await watchOf(withSource(id, { SourceType: 'DB_INSTANCE' }))).toEqual([BILLING]);
  });

  it.each(['RDS-EVENT-0151', 'RDS-EVENT-0153', 'RDS-EVENT-0173'])('watches the cluster\'s mappings on cluster event %s (started, started after 7 days, patched)', async (EventID) => {
    expect(await watchOf({ ...rdsEvent, detail: { ...rdsEvent.detail, EventID, Message: 'DB cluster started' } }, aurora, fakeRds())).toEqual([ORDERS, READER]);
  });

  it('matches a cluster named by its full ARN', async () => {
    expect(await watchOf(withSource('arn:aws:rds:eu-west-1:123456789012:cluster:orders'))).toEqual([ORDERS]);
  });

  it('watches the cluster, reader and custom endpoints of the cluster an Aurora instance event names, through RDS', async () => {
    const rds = fakeRds({ instances: { 'orders-writer-az2': 'orders' }, customEndpoints: { analytics: 'orders' } });

    expect(await watchOf(instanceEvent, aurora, rds)).toEqual([ORDERS, READER, CUSTOM]);
    expect(rds.asked).toEqual(['instance orders-writer-az2', 'custom analytics']);
  });

  it('does not take a custom endpoint name for its cluster', async () => {
    const rds = fakeRds({ customEndpoints: { analytics: 'reporting' } });

    expect(await watchOf(withSource('analytics'), aurora, rds)).toEqual([]);
  });

  it('watches the mappings of a blue/green deployment\'s databases on a switchover event', async () => {
    const rds = fakeRds({ deployments: { 'bgd-1234567890abcdef': ['arn:aws:rds:eu-west-1:123456789012:db:billing', 'arn:aws:rds:eu-west-1:123456789012:db:billing-green-abc123'] } });

    expect(await watchOf(blueGreenEvent, aurora, rds)).toEqual([BILLING]);
  });

  it('watches nothing when the event names none of the mappings: the run syncs everything once', async () => {
    const rds = fakeRds({ instances: { 'other-db': 'other-cluster' } });
    expect(await watchOf(withSource('other-db', { SourceType: 'DB_INSTANCE' }), aurora, rds)).toEqual([]);
  });

  it('goes on without a failed RDS lookup, and reports it', async () => {
    const lookup: RdsLookup = {
      clusterOfInstance: async () => {
        throw Object.assign(new Error('User is not authorized to perform: rds:DescribeDBInstances'), { name: 'AccessDenied' });
      },
      clusterOfCustomEndpoint: async () => undefined,
      blueGreenMembers: async () => [],
    };

    const match = await matchRdsEvent({ kind: 'instance', id: 'billing' }, aurora, lookup);

    expect(match).toEqual({ watch: [BILLING], clusters: [], lookupErrors: ['DescribeDBInstances billing: AccessDenied: User is not authorized to perform: rds:DescribeDBInstances'] });
  });

  it('records what the event matched for the summary line', async () => {
    const request = await withEventMatch(parseSyncEvent(instanceEvent, aurora), aurora, fakeRds({ instances: { 'orders-writer-az2': 'orders' } }).lookup);
    // Exactly the event fields the documented Logs Insights query reads.
    expect(request.event).toEqual({
      sourceIdentifier: 'rds:orders-writer-az2',
      eventId: 'RDS-EVENT-0049',
      message: 'Multi-AZ instance failover completed.',
      time: '2026-11-25T10:15:32Z',
      source: { kind: 'instance', id: 'orders-writer-az2' },
      matched: [ORDERS, READER],
      clusters: ['orders'],
    });
  });
});

// Rule 9 for the RDS-event matching that precedes every sync of the run: with the RDS API not
// answering, one writer and two custom endpoints waited 40 s (20 s per custom lookup, one after
// another) before any sync. Now the lookups run in parallel and end by a short bound.
describe('matchRdsEvent against an RDS API that does not answer', () => {
  const CUSTOM_2 = 'reporting.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com';
  const writerAndCustoms = syncConfig({
    mappings: [
      { endpoint: ORDERS, targetGroupArn: TG_A, port: 5432, ipAddressType: 'ipv4' },
      { endpoint: CUSTOM, targetGroupArn: TG_A, port: 5434, ipAddressType: 'ipv4' },
      { endpoint: CUSTOM_2, targetGroupArn: TG_A, port: 5435, ipAddressType: 'ipv4' },
    ],
  });
  const never = () => new Promise<never>(() => undefined);

  it('ends by its bound, watches the writer and reports each lookup that did not answer', async () => {
    const lookup: RdsLookup = { clusterOfInstance: never, clusterOfCustomEndpoint: never, blueGreenMembers: never };
    const started = Date.now();

    const match = await matchRdsEvent({ kind: 'cluster', id: 'orders' }, writerAndCustoms, lookup, started + 300);

    expect(Date.now() - started).toBeLessThan(1500);
    expect(match.watch).toEqual([ORDERS]);
    expect(match.lookupErrors).toEqual([
      expect.stringMatching(/^DescribeDBClusterEndpoints analytics: no answer within \d+ ms \(check the route to the rds API\); matched without it$/),
      expect.stringMatching(/^DescribeDBClusterEndpoints reporting: no answer within \d+ ms/),
    ]);
  });

  it('asks RDS about the instance and every custom endpoint at once, not in turn', async () => {
    const inFlight = { now: 0, max: 0 };
    const slow = <T>(answer: T) => async () => {
      inFlight.max = Math.max(inFlight.max, ++inFlight.now);
      await new Promise((resolve) => setTimeout(resolve, 50));
      inFlight.now--;
      return answer;
    };
    const lookup: RdsLookup = { clusterOfInstance: slow('orders'), clusterOfCustomEndpoint: slow('orders'), blueGreenMembers: slow([]) };

    const match = await matchRdsEvent({ kind: 'instance', id: 'orders-writer-az2' }, writerAndCustoms, lookup);

    expect(match).toEqual({ watch: [ORDERS, CUSTOM, CUSTOM_2], clusters: ['orders'], lookupErrors: [] });
    expect(inFlight.max).toBe(3);
  });
});
