// The failover timeline record and its metrics, from the facts a follow collected (pure).
import { describe, expect, it } from 'vitest';
import { MetricsBatch } from '../../lib/aws/metrics.js';
import { addTimelineMetrics, buildTimeline, timelineOutcome, type FollowFacts } from '../../lib/sync/timeline.js';
import { ORDERS, TG_A } from '../fixtures.js';

const mapping = { endpoint: ORDERS, targetGroupArn: TG_A, port: 5432 };
const T = Date.parse('2026-12-07T02:00:00.000Z');
const s = (seconds: number) => T + seconds * 1000;
const facts = (extra: Partial<FollowFacts> = {}): FollowFacts => ({
  newAddresses: ['10.0.2.9'],
  oldAddresses: ['10.0.1.5'],
  seenAt: s(14.2),
  registeredAt: s(14.5),
  end: 'settled',
  reads: 25,
  failedReads: 0,
  boundSeconds: 600,
  ...extra,
});
const event = { time: '2026-12-07T02:00:00Z', eventId: 'RDS-EVENT-0073' };
const dims = [
  { Name: 'TargetGroup', Value: 'targetgroup/orders/0123456789abcdef' },
  { Name: 'Endpoint', Value: ORDERS },
  { Name: 'Port', Value: '5432' },
];

describe('buildTimeline', () => {
  it('counts every moment from the RDS event, in ISO and seconds', () => {
    const line = buildTimeline(mapping, facts({ healthyAt: s(124.5), oldGoneAt: s(79.5) }), { trigger: 'rds-event', event });

    expect(line).toEqual({
      endpoint: ORDERS,
      targetGroupArn: TG_A,
      port: 5432,
      newAddresses: ['10.0.2.9'],
      oldAddresses: ['10.0.1.5'],
      trigger: 'rds-event',
      outcome: 'healthy',
      secondsFrom: 'event',
      eventId: 'RDS-EVENT-0073',
      eventTime: '2026-12-07T02:00:00.000Z',
      seenAt: '2026-12-07T02:00:14.200Z',
      seenSeconds: 14.2,
      registeredAt: '2026-12-07T02:00:14.500Z',
      registeredSeconds: 14.5,
      healthyAt: '2026-12-07T02:02:04.500Z',
      healthySeconds: 124.5,
      oldGoneAt: '2026-12-07T02:01:19.500Z',
      oldGoneSeconds: 79.5,
      registeredToHealthySeconds: 110,
      followBoundSeconds: 600,
      reads: 25,
    });
  });

  it('counts from the first sighting when no event started the run', () => {
    const line = buildTimeline(mapping, facts({ healthyAt: s(124.5) }), { trigger: 'schedule' });

    expect(line).toMatchObject({ secondsFrom: 'first-seen', seenSeconds: 0, registeredSeconds: 0.3, healthySeconds: 110.3, registeredToHealthySeconds: 110 });
    expect(line).not.toHaveProperty('eventTime');
    expect(line).not.toHaveProperty('oldGoneAt');
    expect(line).not.toHaveProperty('oldGoneSeconds');
  });

  it('does not count from an event time no EventBridge delivery can have (a replayed payload, a skewed clock)', () => {
    for (const time of ['2026-11-25T10:15:32Z', '2026-12-07T02:05:00Z']) {
      const line = buildTimeline(mapping, facts({ healthyAt: s(124.5) }), { trigger: 'rds-event', event: { ...event, time } });
      expect(line).toMatchObject({ secondsFrom: 'first-seen', eventTime: new Date(time).toISOString(), seenSeconds: 0 });
      expect(addTimelineMetrics(new MetricsBatch(), [line], 'all').data.map((d) => d.MetricName)).not.toContain('FailoverEventToHealthy');
    }
  });

  it("says when the target was not healthy within the bound, with ELB's last state, reason and description", () => {
    const last = { state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' };
    const line = buildTimeline(mapping, facts({ end: 'bound', last, oldGoneAt: s(79.5) }), { trigger: 'rds-event', event });

    expect(line).toMatchObject({ outcome: 'not-healthy-within-bound', lastState: 'unhealthy', lastReason: 'Target.FailedHealthChecks', lastDescription: 'Health checks failed' });
    expect(line).not.toHaveProperty('healthyAt');
    expect(line).not.toHaveProperty('registeredToHealthySeconds');
  });

  it.each([
    [{ end: 'deadline' as const }, 'cut-by-deadline'],
    [{ end: 'left-group' as const }, 'left-group'],
    [{ end: 'bound' as const, lastError: { name: 'ThrottlingException', message: 'Rate exceeded' } }, 'unknown'],
    [{ end: 'bound' as const }, 'not-healthy-within-bound'],
    [{ end: 'deadline' as const, healthyAt: s(100) }, 'healthy'],
  ])('outcome of %j is %s', (extra, outcome) => {
    expect(timelineOutcome(facts(extra))).toBe(outcome);
  });
});

describe('addTimelineMetrics', () => {
  const sent = (batch: MetricsBatch) => batch.data.map((d) => ({ name: d.MetricName, value: d.Value, unit: d.Unit, perGroup: (d.Dimensions ?? []).length > 0 }));

  it('publishes event-to-registered, event-to-healthy and registered-to-healthy, per target group and for the run', () => {
    const batch = addTimelineMetrics(new MetricsBatch(), [buildTimeline(mapping, facts({ healthyAt: s(124.5) }), { trigger: 'rds-event', event })], 'all');

    expect(sent(batch)).toEqual([
      { name: 'FailoverEventToRegistered', value: 14.5, unit: 'Seconds', perGroup: true },
      { name: 'FailoverEventToRegistered', value: 14.5, unit: 'Seconds', perGroup: false },
      { name: 'FailoverEventToHealthy', value: 124.5, unit: 'Seconds', perGroup: true },
      { name: 'FailoverEventToHealthy', value: 124.5, unit: 'Seconds', perGroup: false },
      { name: 'FailoverRegisteredToHealthy', value: 110, unit: 'Seconds', perGroup: true },
      { name: 'FailoverRegisteredToHealthy', value: 110, unit: 'Seconds', perGroup: false },
      { name: 'FailoversNotHealthy', value: 0, unit: 'Count', perGroup: true },
      { name: 'FailoversNotHealthy', value: 0, unit: 'Count', perGroup: false },
    ]);
    expect(batch.data[0]?.Dimensions).toEqual(dims);
  });

  it('keeps the timings per target group but not a 0 count under MAPPING_METRICS=changes, and no per-group datum under none', () => {
    const line = buildTimeline(mapping, facts({ healthyAt: s(124.5) }), { trigger: 'rds-event', event });
    const perGroup = (mode: 'changes' | 'none') => sent(addTimelineMetrics(new MetricsBatch(), [line], mode)).filter((d) => d.perGroup).map((d) => d.name);

    expect(perGroup('changes')).toEqual(['FailoverEventToRegistered', 'FailoverEventToHealthy', 'FailoverRegisteredToHealthy']);
    expect(perGroup('none')).toEqual([]);
    // The run-level series stay whatever the mode: the alarms read them.
    expect(sent(addTimelineMetrics(new MetricsBatch(), [line], 'none')).map((d) => d.name)).toEqual([
      'FailoverEventToRegistered',
      'FailoverEventToHealthy',
      'FailoverRegisteredToHealthy',
      'FailoversNotHealthy',
    ]);
  });

  it('publishes a not-healthy follow per target group under MAPPING_METRICS=changes (a count that is not 0)', () => {
    const batch = addTimelineMetrics(new MetricsBatch(), [buildTimeline(mapping, facts({ end: 'bound' }), { trigger: 'schedule' })], 'changes');

    expect(sent(batch).filter((d) => d.name === 'FailoversNotHealthy')).toEqual([
      { name: 'FailoversNotHealthy', value: 1, unit: 'Count', perGroup: true },
      { name: 'FailoversNotHealthy', value: 1, unit: 'Count', perGroup: false },
    ]);
  });

  it('publishes no timing it did not observe, and counts a target not healthy within the bound', () => {
    const batch = addTimelineMetrics(new MetricsBatch(), [buildTimeline(mapping, facts({ end: 'bound' }), { trigger: 'schedule' })], 'all');

    expect(sent(batch)).toEqual([
      { name: 'FailoversNotHealthy', value: 1, unit: 'Count', perGroup: true },
      { name: 'FailoversNotHealthy', value: 1, unit: 'Count', perGroup: false },
    ]);
  });

  it('counts nothing for a follow the deadline cut short (unknown is not zero)', () => {
    const batch = addTimelineMetrics(new MetricsBatch(), [buildTimeline(mapping, facts({ end: 'deadline' }), { trigger: 'rds-event', event })], 'all');

    expect(sent(batch)).toEqual([
      { name: 'FailoverEventToRegistered', value: 14.5, unit: 'Seconds', perGroup: true },
      { name: 'FailoverEventToRegistered', value: 14.5, unit: 'Seconds', perGroup: false },
    ]);
  });

  it('adds nothing for a run without a followed failover', () => {
    expect(addTimelineMetrics(new MetricsBatch(), [], 'all').data).toEqual([]);
  });
});
