import { describe, expect, it } from 'vitest';
import {
  allSteps,
  decideVerdict,
  isFailoverEvent,
  newTracker,
  observe,
  probeRecord,
  renderSummary,
  renderVerdict,
  type DrillRecord,
  type ProbeAttempt,
  type StepRecord,
  type Tracker,
} from '../../lib/drill/timeline.js';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');
const time = (s: number) => new Date(T0 + s * 1000).toISOString();
const OLD = '10.0.1.11';
const NEW = '10.0.2.12';
const target = (ip: string, state = 'healthy', reason?: string) => ({ ip, port: 5432, state, ...(reason ? { reason } : {}) });

function tracker(): Tracker {
  return newTracker({ port: 5432, addresses: [OLD], targets: [target(OLD)] }, T0);
}

const atOf = (t: Tracker) => Object.fromEntries([...t.steps.values()].map((s) => [s.step, s.at]));

describe('observe', () => {
  it('sees each step once, at the poll that first shows it', () => {
    const t = tracker();

    observe(t, { at: 2, time: time(2), answer: [OLD], targets: [target(OLD)] });
    observe(t, { at: 4, time: time(4), answer: [NEW], targets: [target(OLD)] });
    observe(t, { at: 6, time: time(6), answer: [NEW], targets: [target(OLD), target(NEW, 'initial', 'Elb.RegistrationInProgress')] });
    observe(t, { at: 96, time: time(96), answer: [NEW], targets: [target(OLD, 'draining'), target(NEW)] });
    const lines = observe(t, { at: 120, time: time(120), answer: [NEW], targets: [target(NEW)] });

    expect(atOf(t)).toEqual({ dns: 4, registered: 6, healthy: 96, 'old-gone': 120 });
    expect(t.steps.get('registered')?.detail).toBe(`${NEW} (initial: Elb.RegistrationInProgress)`);
    expect(lines.map((l) => l.text)).toEqual([`  120.0 s  old target gone         ${OLD} no longer in the target group`]);
  });

  it('takes no step from a read that failed: unknown is not a change', () => {
    const t = tracker();

    observe(t, { at: 3, time: time(3), answer: new Error('DNS timeout'), targets: new Error('Throttling'), events: new Error('denied') });

    expect(t.steps.size).toBe(0);
  });

  it('does not call an old target gone before anything new is registered', () => {
    const t = tracker();

    observe(t, { at: 3, time: time(3), answer: [OLD], targets: [] });

    expect(t.steps.has('old-gone')).toBe(false);
  });

  it('counts a draining new address as not registered, and a target on another port as none', () => {
    const t = tracker();

    observe(t, { at: 3, time: time(3), targets: [target(OLD), target(NEW, 'draining'), { ...target('10.0.3.3'), port: 3306 }] });

    expect(t.steps.has('registered')).toBe(false);
  });

  it('takes the first failover event as the event step, with RDS time, and lists the others', () => {
    const t = tracker();
    const events = [
      { message: 'DB instance restarted', time: time(1), categories: ['availability'] },
      { message: 'Started cross AZ failover to DB instance orders-2', time: time(1.5), categories: ['failover'] },
    ];

    const lines = observe(t, { at: 5, time: time(5), events });
    observe(t, { at: 7, time: time(7), events: [...events, { message: 'Completed failover to DB instance orders-2', time: time(6), categories: ['failover'] }] });

    expect(t.steps.get('event')).toMatchObject({ at: 5, detail: 'Started cross AZ failover to DB instance orders-2 (RDS time +1.5 s)' });
    expect(t.events.map((e) => [e.message, e.at, e.seenAt])).toEqual([
      ['DB instance restarted', 1, 5],
      ['Started cross AZ failover to DB instance orders-2', 1.5, 5],
      ['Completed failover to DB instance orders-2', 6, 7],
    ]);
    expect(lines).toHaveLength(2);
  });
});

describe('isFailoverEvent', () => {
  it.each([
    [{ message: 'Multi-AZ instance failover started.', categories: [] }, true],
    [{ message: 'anything', categories: ['failover'] }, true],
    [{ message: 'Finished DB instance backup', categories: ['backup'] }, false],
  ])('%j -> %s', (e, expected) => {
    expect(isFailoverEvent({ ...e, time: time(0) })).toBe(expected);
  });
});

describe('probeRecord', () => {
  const attempts = (pattern: string): ProbeAttempt[] => [...pattern].map((c, i) => ({ at: i - 1, time: time(i - 1), ok: c === '+', ...(c === '-' ? { error: 'ECONNREFUSED' } : {}) }));

  it('spans the first failure to the first success after the last one', () => {
    expect(probeRecord('nlb:5432', 1, attempts('++--+-++'))).toMatchObject({
      attempts: 8,
      failures: 3,
      firstFailure: { at: 1, error: 'ECONNREFUSED' },
      lastFailure: { at: 4 },
      firstSuccessAfter: { at: 5 },
      noConnectionSeconds: 4,
    });
  });

  it('is 0 when nothing failed, and unknown (null) when it never connected again', () => {
    expect(probeRecord('nlb:5432', 1, attempts('+++')).noConnectionSeconds).toBe(0);
    expect(probeRecord('nlb:5432', 1, attempts('++--')).noConnectionSeconds).toBeNull();
  });
});

describe('decideVerdict', () => {
  const steps = (at: Record<string, number | null>): StepRecord[] =>
    allSteps(new Map(Object.entries(at).map(([step, a]) => [step as StepRecord['step'], { step: step as StepRecord['step'], label: step, at: a, time: a === null ? null : time(a) }])));
  const all = { requested: 0, event: 3, dns: 20, registered: 22, healthy: 140, 'old-gone': 150 };

  it('is within budget when every step came in time; end to end is the last one', () => {
    expect(decideVerdict(steps(all), undefined, 600, false)).toEqual({ outcome: 'within-budget', ok: true, budgetSeconds: 600, endToEndSeconds: 150, missing: [], late: [] });
  });

  it('is over budget when a step came after it', () => {
    expect(decideVerdict(steps(all), undefined, 120, false)).toMatchObject({ outcome: 'over-budget', ok: false, endToEndSeconds: 150, late: ['healthy', 'old-gone'] });
  });

  it('is incomplete, with no end to end, when a step was not seen (not seen is never 0)', () => {
    const { event: _, ...noEvent } = all;

    expect(decideVerdict(steps(noEvent), undefined, 600, false)).toMatchObject({ outcome: 'incomplete', ok: false, endToEndSeconds: null, missing: ['event'] });
  });

  it('counts the probe: its recovery is part of end to end, and no recovery is missing', () => {
    const recovered = probeRecord('nlb:5432', 1, [
      { at: 1, time: time(1), ok: false },
      { at: 170, time: time(170), ok: true },
    ]);
    const down = probeRecord('nlb:5432', 1, [{ at: 1, time: time(1), ok: false }]);

    expect(decideVerdict(steps(all), recovered, 600, false).endToEndSeconds).toBe(170);
    expect(decideVerdict(steps(all), down, 600, false)).toMatchObject({ outcome: 'incomplete', missing: ['probe'] });
  });

  it('says interrupted after Ctrl-C, whatever was seen', () => {
    expect(decideVerdict(steps(all), undefined, 600, true)).toMatchObject({ outcome: 'interrupted', ok: false });
  });
});

describe('rendering', () => {
  it('names what was not seen in the verdict', () => {
    expect(renderVerdict({ outcome: 'incomplete', ok: false, budgetSeconds: 600, endToEndSeconds: null, missing: ['event', 'probe'], late: [] })).toBe(
      'verdict: INCOMPLETE: not seen within the budget 600 s: RDS event seen, probe connected again; end to end unknown',
    );
  });

  it('prints every step in order, "not seen" ones too, then the verdict', () => {
    const record: DrillRecord = {
      database: { kind: 'cluster', id: 'orders', endpoint: 'orders.cluster-x.eu-west-1.rds.amazonaws.com' },
      watch: { endpoint: 'orders.cluster-x.eu-west-1.rds.amazonaws.com', targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tg/0123', port: 5432 },
      sync: 'deployed',
      budgetSeconds: 600,
      requestedAt: time(0),
      before: { addresses: [OLD], targets: [{ ip: OLD, state: 'healthy' }] },
      steps: allSteps(new Map([['requested', { step: 'requested', label: 'failover requested', at: 0, time: time(0), detail: 'FailoverDBCluster orders' }]])),
      events: [],
      pollErrors: [{ what: 'DNS', message: 'DNS timeout for x', firstAt: 3, count: 2 }],
      verdict: { outcome: 'incomplete', ok: false, budgetSeconds: 600, endToEndSeconds: null, missing: ['event', 'dns', 'registered', 'healthy', 'old-gone'], late: [] },
    };

    expect(renderSummary(record).split('\n')).toEqual([
      'timeline (seconds since the failover was requested):',
      '    0.0 s  failover requested      FailoverDBCluster orders',
      '      -    RDS event seen          not seen',
      '      -    DNS answer changed      not seen',
      '      -    new target registered   not seen',
      '      -    new target healthy      not seen',
      '      -    old target gone         not seen',
      '    3.0 s  poll error              DNS: DNS timeout for x (2 times)',
      '',
      'verdict: INCOMPLETE: not seen within the budget 600 s: RDS event seen, DNS answer changed, new target registered, new target healthy, old target gone; end to end unknown',
    ]);
  });
});
