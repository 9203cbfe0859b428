// The ELB timing model on a virtual clock: states, reasons and timestamps as AWS reports them.
import { describe, expect, it } from 'vitest';
import { AWS_ELB_TIMING, ElbTimingModel, InvalidTargetError, scaleTiming, toHealthyMs, type TargetRef } from './elb-timing.js';

const TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/orders/1';
const NEW: TargetRef = { ip: '10.0.2.47', port: 5432 };
const OLD: TargetRef = { ip: '10.0.1.23', port: 5432 };

function setup(serves: (ip: string, port: number, at: number) => boolean = () => true) {
  let t = 0;
  const model = new ElbTimingModel({ now: () => t, serving: serves });
  const at = (ms: number) => {
    t = ms;
    return model.describe(TG).map(({ ip, state, reason }) => ({ ip, state, ...(reason ? { reason } : {}) }));
  };
  return { model, at };
}

describe('ELB timing model', () => {
  it("has AWS's terms and this service's target group settings as defaults", () => {
    expect(AWS_ELB_TIMING).toEqual({ registrationMs: 180_000, intervalMs: 5_000, healthyThreshold: 2, unhealthyThreshold: 2, deregistrationMs: 10_000, weightPropagationMs: 10_000 });
    expect(toHealthyMs(AWS_ELB_TIMING)).toBe(190_000);
  });

  it('scales every duration, not the thresholds, and refuses a scale that is not positive', () => {
    expect(scaleTiming(0.001)).toEqual({ registrationMs: 180, intervalMs: 5, healthyThreshold: 2, unhealthyThreshold: 2, deregistrationMs: 10, weightPropagationMs: 10 });
    expect(() => scaleTiming(0)).toThrow('ELB timing scale must be > 0, got 0');
  });

  it('reports a registered address initial (registration, then initial health checks), then healthy', () => {
    const { model, at } = setup();
    model.register(TG, [NEW]);

    expect(at(0)).toEqual([{ ip: NEW.ip, state: 'initial', reason: 'Elb.RegistrationInProgress' }]);
    expect(at(179_999)).toEqual([{ ip: NEW.ip, state: 'initial', reason: 'Elb.RegistrationInProgress' }]);
    expect(at(180_000)).toEqual([{ ip: NEW.ip, state: 'initial', reason: 'Elb.InitialHealthChecking' }]);
    expect(at(189_999)).toEqual([{ ip: NEW.ip, state: 'initial', reason: 'Elb.InitialHealthChecking' }]);
    expect(at(190_000)).toEqual([{ ip: NEW.ip, state: 'healthy' }]);
    expect(model.describe(TG)[0]).not.toHaveProperty('description');
    expect(model.history(TG)).toEqual([{ targetGroupArn: TG, ...NEW, registeredAt: 0, healthChecksFrom: 180_000, firstHealthyAt: 190_000 }]);
  });

  it('gives the descriptions AWS gives with each reason', () => {
    const { model } = setup(() => false);
    model.register(TG, [NEW]);
    expect(model.describe(TG)[0]).toMatchObject({ description: 'Target registration is in progress' });
  });

  it('reports an address that does not serve unhealthy (Target.FailedHealthChecks) after the initial checks', () => {
    const { model, at } = setup(() => false);
    model.register(TG, [NEW]);

    expect(at(189_999)).toEqual([{ ip: NEW.ip, state: 'initial', reason: 'Elb.InitialHealthChecking' }]);
    expect(at(190_000)).toEqual([{ ip: NEW.ip, state: 'unhealthy', reason: 'Target.FailedHealthChecks' }]);
    expect(model.describe(TG)[0]?.description).toBe('Health checks failed');
    expect(model.history(TG)[0]?.firstHealthyAt).toBeUndefined();
  });

  it('turns a healthy target unhealthy after interval x unhealthy threshold, and healthy again once it serves', () => {
    let down = false;
    const { model, at } = setup(() => !down);
    model.register(TG, [NEW]);
    at(200_000);
    down = true; // the checks at 205 s and 210 s fail
    expect(at(205_000)).toEqual([{ ip: NEW.ip, state: 'healthy' }]);
    expect(at(210_000)).toEqual([{ ip: NEW.ip, state: 'unhealthy', reason: 'Target.FailedHealthChecks' }]);
    down = false;
    expect(at(215_000)).toEqual([{ ip: NEW.ip, state: 'unhealthy', reason: 'Target.FailedHealthChecks' }]);
    expect(at(220_000)).toEqual([{ ip: NEW.ip, state: 'healthy' }]);
    expect(model.history(TG)[0]?.firstHealthyAt).toBe(190_000);
  });

  it('asks the predicate at each check time, even when the clock jumps past several', () => {
    // The database accepts connections from 300 s on.
    const { model, at } = setup((_ip, _port, t) => t >= 300_000);
    model.register(TG, [NEW]);
    expect(at(1_000_000)).toEqual([{ ip: NEW.ip, state: 'healthy' }]);
    expect(model.history(TG)[0]?.firstHealthyAt).toBe(305_000);
  });

  it('drains a deregistered target (Target.DeregistrationInProgress) for the deregistration delay, then it is gone', () => {
    const { model, at } = setup();
    model.register(TG, [OLD]);
    at(200_000);
    model.deregister(TG, [OLD]);

    expect(at(209_999)).toEqual([{ ip: OLD.ip, state: 'draining', reason: 'Target.DeregistrationInProgress' }]);
    expect(at(210_000)).toEqual([]);
    expect(model.history(TG)[0]).toMatchObject({ deregisteredAt: 200_000, goneAt: 210_000 });
  });

  it('restarts a draining target that is registered again, with a new history entry', () => {
    const { model, at } = setup();
    model.register(TG, [OLD]);
    at(200_000);
    model.deregister(TG, [OLD]);
    at(205_000);
    model.register(TG, [OLD]);

    expect(at(205_000)).toEqual([{ ip: OLD.ip, state: 'initial', reason: 'Elb.RegistrationInProgress' }]);
    expect(at(395_000)).toEqual([{ ip: OLD.ip, state: 'healthy' }]);
    expect(model.history(TG).map((h) => [h.registeredAt, h.firstHealthyAt, h.deregisteredAt])).toEqual([
      [0, 190_000, 200_000],
      [205_000, 395_000, undefined],
    ]);
  });

  it('leaves a registered target alone when it is registered again', () => {
    const { model, at } = setup();
    model.register(TG, [NEW]);
    at(100_000);
    model.register(TG, [NEW]);
    expect(at(190_000)).toEqual([{ ip: NEW.ip, state: 'healthy' }]);
    expect(model.history(TG)).toHaveLength(1);
  });

  it('keys targets by IP, port and AZ', () => {
    const { model } = setup();
    model.register(TG, [NEW, { ...NEW, port: 3306 }, { ...NEW, availabilityZone: 'all' }]);
    expect(model.describe(TG).map((t) => [t.ip, t.port, t.availabilityZone])).toEqual([
      [NEW.ip, 5432, undefined],
      [NEW.ip, 3306, undefined],
      [NEW.ip, 5432, 'all'],
    ]);
    model.deregister(TG, [{ ...NEW, port: 3306 }]);
    expect(model.describe(TG).map((t) => t.state)).toEqual(['initial', 'draining', 'initial']);
  });

  it('refuses to deregister a target the group does not hold (InvalidTarget), changing nothing', () => {
    const { model } = setup();
    model.register(TG, [OLD]);
    const attempt = () => model.deregister(TG, [OLD, { ip: '10.0.9.9', port: 5432 }]);

    expect(attempt).toThrow(InvalidTargetError);
    expect(attempt).toThrow("The following targets are not registered in the target group: '10.0.9.9:5432'");
    expect(model.describe(TG).map((t) => t.state)).toEqual(['initial']);
  });

  it('describes named targets, unused (Target.NotRegistered) when the group does not hold them', () => {
    const { model } = setup();
    model.register(TG, [OLD]);
    expect(model.describe(TG, [OLD, NEW]).map((t) => [t.ip, t.state, t.reason])).toEqual([
      [OLD.ip, 'initial', 'Elb.RegistrationInProgress'],
      [NEW.ip, 'unused', 'Target.NotRegistered'],
    ]);
  });

  it('runs scaled: the same life in a thousandth of the time', () => {
    let t = 0;
    const model = new ElbTimingModel({ now: () => t, timing: scaleTiming(0.001) });
    model.register(TG, [NEW]);
    t = 189;
    expect(model.describe(TG)[0]?.state).toBe('initial');
    t = 190;
    expect(model.describe(TG)[0]?.state).toBe('healthy');
  });

  it('keeps target groups apart and forgets everything on reset', () => {
    const { model } = setup();
    model.register(TG, [NEW]);
    expect(model.describe(`${TG}x`)).toEqual([]);
    model.reset();
    expect(model.describe(TG)).toEqual([]);
    expect(model.history()).toEqual([]);
  });
});

describe('ELB timing model, seeded', () => {
  it('seeds a steady group: healthy at once, no history, and drains like any target', () => {
    let t = 1000;
    const model = new ElbTimingModel({ now: () => t });
    model.seedHealthy(TG, [OLD]);
    expect(model.describe(TG).map((x) => x.state)).toEqual(['healthy']);
    expect(model.history(TG)).toEqual([]);
    model.deregister(TG, [OLD]);
    t += 10_000;
    expect(model.describe(TG)).toEqual([]);
  });

  it('records a listener weight change with when new connections follow it (weightPropagationMs), and ignores a write that changed nothing', () => {
    let t = 1_000;
    const model = new ElbTimingModel({ now: () => t });
    const L = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/nlb/1/2';
    expect(model.listenerModified(L, { a: 1, b: 0 }, { a: 1, b: 0 })).toBeUndefined();
    expect(model.effectiveWeights(L)).toBeUndefined();

    expect(model.listenerModified(L, { a: 1, b: 0 }, { a: 0, b: 1 })).toEqual({ listenerArn: L, from: { a: 1, b: 0 }, to: { a: 0, b: 1 }, changedAt: 1_000, effectiveAt: 11_000 });
    expect(model.effectiveWeights(L, 10_999)).toEqual({ a: 1, b: 0 });
    expect(model.effectiveWeights(L, 11_000)).toEqual({ a: 0, b: 1 });
    t = 20_000;
    model.listenerModified(L, { a: 0, b: 1 }, { a: 1, b: 0 });
    expect(model.effectiveWeights(L, 29_999)).toEqual({ a: 0, b: 1 });
    expect(model.effectiveWeights(L)).toEqual({ a: 0, b: 1 });
    expect(model.weightHistory(L).map((c) => [c.changedAt, c.effectiveAt])).toEqual([
      [1_000, 11_000],
      [20_000, 30_000],
    ]);
    model.reset();
    expect(model.weightHistory()).toEqual([]);
  });
});
