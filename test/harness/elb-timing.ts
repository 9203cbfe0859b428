// AWS's timing of an NLB IP target, as DescribeTargetHealth reports it: a pure model driven by a
// clock the caller supplies (no I/O, no timers). The ELBv2 front (elb-front.ts), `npm run local`
// and the bench's fake AWS share it, so every emulator shows the minutes AWS takes rather than
// moto's instant `healthy`.
//
// A target's life (keyed by IP + port + AZ, as ELB keys it):
//   RegisterTargets        -> initial   Elb.RegistrationInProgress    for registrationMs
//                          -> initial   Elb.InitialHealthChecking     for intervalMs x healthyThreshold
//                          -> healthy                                 if the address serves
//                             unhealthy Target.FailedHealthChecks     if not
//   healthy, stops serving -> unhealthy after intervalMs x unhealthyThreshold
//   unhealthy, serves      -> healthy   after intervalMs x healthyThreshold
//   DeregisterTargets      -> draining  Target.DeregistrationInProgress for deregistrationMs, then gone
//   RegisterTargets of a draining target restarts its life at `initial`.
// A listener's weights (warm standby): ModifyListener changing them is recorded with the time new
// connections follow them, changedAt + weightPropagationMs (unknown: AWS documents no figure).
// Reason codes and descriptions are those of the ELBv2 API reference (TargetHealth).
//
// Health checks run every intervalMs from the end of registration. `serving(ip, port, at)` says
// whether the address accepted a connection at `at` (the emulated database); the model asks it
// when it advances past a check, so a predicate that ignores `at` is sampled when advance()
// runs: call advance() at least every interval (the front does) for accurate timestamps.

export interface ElbTiming {
  /**
   * RegisterTargets -> health checks start. AWS documents no figure: "it can take a few minutes
   * for the registration process to complete and health checks to start" (ELB User Guide for
   * NLBs, "Register targets"). Reported: 90-180 s; 180-300 s in an AWS support answer quoted in
   * kubernetes-sigs/aws-load-balancer-controller#1834. Default 180 s.
   */
  readonly registrationMs: number;
  /** HealthCheckIntervalSeconds: 5 s in serverless.yml's TargetGroup (NLB allows 5-300). */
  readonly intervalMs: number;
  /** HealthyThresholdCount: 2 in serverless.yml (NLB allows 2-10). */
  readonly healthyThreshold: number;
  /** UnhealthyThresholdCount: 2 in serverless.yml (NLB allows 2-10). */
  readonly unhealthyThreshold: number;
  /** deregistration_delay.timeout_seconds: 10 s in serverless.yml (AWS's default is 300 s). */
  readonly deregistrationMs: number;
  /**
   * ModifyListener changed the forward action's target group weights -> new connections follow
   * the new weights. Unknown: AWS documents none ("new connections are routed to the newly
   * configured target group", NLB guide, "Update a listener"); assumed 10 s. Connections opened
   * before the change stay where they are (up to an hour, or the idle timeout).
   */
  readonly weightPropagationMs: number;
}

/** AWS's terms with this service's target group settings (serverless.yml), unscaled. */
export const AWS_ELB_TIMING: ElbTiming = {
  registrationMs: 180_000,
  intervalMs: 5_000,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  deregistrationMs: 10_000,
  weightPropagationMs: 10_000,
};

/** Every duration multiplied by `scale` (thresholds are counts and stay). */
export function scaleTiming(scale: number, timing: ElbTiming = AWS_ELB_TIMING): ElbTiming {
  if (!(scale > 0)) throw new Error(`ELB timing scale must be > 0, got ${scale}`);
  return {
    ...timing,
    registrationMs: timing.registrationMs * scale,
    intervalMs: timing.intervalMs * scale,
    deregistrationMs: timing.deregistrationMs * scale,
    weightPropagationMs: timing.weightPropagationMs * scale,
  };
}

/** RegisterTargets -> healthy for an address that serves: registration + interval x healthy threshold. */
export const toHealthyMs = (timing: ElbTiming): number => timing.registrationMs + timing.intervalMs * timing.healthyThreshold;

export type TargetState = 'initial' | 'healthy' | 'unhealthy' | 'draining';

export interface TargetRef {
  readonly ip: string;
  readonly port: number;
  /** As given to RegisterTargets; absent for an address in the VPC registered without one. */
  readonly availabilityZone?: string;
}

export interface TargetHealthView extends TargetRef {
  readonly state: TargetState | 'unused';
  readonly reason?: string;
  readonly description?: string;
}

/** One registration of a target, from RegisterTargets to gone. Times are the model's clock. */
export interface TargetHistory extends TargetRef {
  readonly targetGroupArn: string;
  registeredAt: number;
  /** When registration completed and health checks started (registeredAt + registrationMs). */
  healthChecksFrom: number;
  firstHealthyAt?: number;
  deregisteredAt?: number;
  goneAt?: number;
}

/** A listener's forward weights, target group ARN -> weight. */
export type ListenerWeights = Readonly<Record<string, number>>;

/** One ModifyListener that changed a listener's weights, and when (per weightPropagationMs) new connections follow them. */
export interface WeightChange {
  readonly listenerArn: string;
  readonly from: ListenerWeights;
  readonly to: ListenerWeights;
  readonly changedAt: number;
  /** changedAt + weightPropagationMs: modelled, AWS documents no figure. */
  readonly effectiveAt: number;
}

export const REASONS = {
  registering: { reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' },
  checking: { reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' },
  failed: { reason: 'Target.FailedHealthChecks', description: 'Health checks failed' },
  draining: { reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' },
  notRegistered: { reason: 'Target.NotRegistered', description: 'Target is not registered to the target group' },
} as const;

/** DeregisterTargets naming a target the group does not hold (ELB's InvalidTarget). */
export class InvalidTargetError extends Error {
  readonly code = 'InvalidTarget';
  constructor(readonly targets: TargetRef[]) {
    super(`The following targets are not registered in the target group: ${targets.map(label).join(', ')}`);
  }
}

export interface ElbTimingModelOptions {
  /** The clock, in ms (Date.now for real time, a virtual clock in tests). */
  readonly now: () => number;
  /** Default AWS_ELB_TIMING. */
  readonly timing?: ElbTiming;
  /** Whether the address accepts connections at `at`. Default: every address serves. */
  readonly serving?: (ip: string, port: number, at: number) => boolean;
}

interface Tracked {
  ref: TargetRef;
  state: TargetState;
  nextCheckAt: number;
  checks: number;
  passes: number;
  fails: number;
  drainingUntil?: number;
  history: TargetHistory;
}

export class ElbTimingModel {
  readonly timing: ElbTiming;
  private readonly groups = new Map<string, Map<string, Tracked>>();
  private readonly log: TargetHistory[] = [];
  private readonly weightLog: WeightChange[] = [];
  private serving: (ip: string, port: number, at: number) => boolean;

  constructor(private readonly options: ElbTimingModelOptions) {
    this.timing = options.timing ?? AWS_ELB_TIMING;
    this.serving = options.serving ?? (() => true);
  }

  setServing(serving: (ip: string, port: number, at: number) => boolean): void {
    this.advance(); // checks already due saw the old answer
    this.serving = serving;
  }

  /** RegisterTargets: new or draining targets start at `initial`; others are left as they are. */
  register(targetGroupArn: string, targets: readonly TargetRef[]): void {
    this.advance();
    const now = this.options.now();
    const group = this.group(targetGroupArn);
    for (const ref of targets) {
      const k = key(ref);
      const existing = group.get(k);
      if (existing && existing.state !== 'draining') continue;
      const healthChecksFrom = now + this.timing.registrationMs;
      const history: TargetHistory = { targetGroupArn, ...clean(ref), registeredAt: now, healthChecksFrom };
      this.log.push(history);
      group.set(k, { ref: clean(ref), state: 'initial', nextCheckAt: healthChecksFrom + this.timing.intervalMs, checks: 0, passes: 0, fails: 0, history });
    }
  }

  /** Makes these the group's only targets, `healthy` since long ago (no history): a group in steady state. */
  seedHealthy(targetGroupArn: string, targets: readonly TargetRef[]): void {
    const now = this.options.now();
    const group = this.group(targetGroupArn);
    group.clear();
    for (const ref of targets) {
      const history: TargetHistory = { targetGroupArn, ...clean(ref), registeredAt: -Infinity, healthChecksFrom: -Infinity, firstHealthyAt: -Infinity };
      const { healthyThreshold: n } = this.timing;
      group.set(key(ref), { ref: clean(ref), state: 'healthy', nextCheckAt: now + this.timing.intervalMs, checks: n, passes: n, fails: 0, history });
    }
  }

  /** DeregisterTargets: all or nothing; a target the group does not hold is InvalidTarget. Draining ones stay as they are. */
  deregister(targetGroupArn: string, targets: readonly TargetRef[]): void {
    this.advance();
    const now = this.options.now();
    const group = this.group(targetGroupArn);
    const unknown = targets.filter((t) => !group.has(key(t)));
    if (unknown.length > 0) throw new InvalidTargetError(unknown);
    for (const ref of targets) {
      const t = group.get(key(ref));
      if (!t || t.state === 'draining') continue;
      t.state = 'draining';
      t.drainingUntil = now + this.timing.deregistrationMs;
      t.history.deregisteredAt = now;
    }
  }

  /** DescribeTargetHealth: every target of the group, or the named ones (`unused` when not registered). */
  describe(targetGroupArn: string, targets?: readonly TargetRef[]): TargetHealthView[] {
    this.advance();
    const now = this.options.now();
    const group = this.group(targetGroupArn);
    if (targets && targets.length > 0) {
      return targets.map((ref) => {
        const t = group.get(key(ref)) ?? [...group.values()].find((x) => x.ref.ip === ref.ip && x.ref.port === ref.port && ref.availabilityZone === undefined);
        return t ? view(t, now) : { ...clean(ref), state: 'unused', ...REASONS.notRegistered };
      });
    }
    return [...group.values()].map((t) => view(t, now));
  }

  /** Every registration so far, oldest first (a target registered twice appears twice). */
  history(targetGroupArn?: string): TargetHistory[] {
    this.advance();
    return this.log.filter((h) => targetGroupArn === undefined || h.targetGroupArn === targetGroupArn).map((h) => ({ ...h }));
  }

  /** ModifyListener wrote `to` over `from`: recorded (with when it takes effect) only if a weight changed. */
  listenerModified(listenerArn: string, from: ListenerWeights, to: ListenerWeights): WeightChange | undefined {
    const arns = new Set([...Object.keys(from), ...Object.keys(to)]);
    if ([...arns].every((arn) => (from[arn] ?? 0) === (to[arn] ?? 0))) return undefined;
    const changedAt = this.options.now();
    const change: WeightChange = { listenerArn, from: { ...from }, to: { ...to }, changedAt, effectiveAt: changedAt + this.timing.weightPropagationMs };
    this.weightLog.push(change);
    return change;
  }

  /** Every weight change so far, oldest first; one listener or all. */
  weightHistory(listenerArn?: string): WeightChange[] {
    return this.weightLog.filter((c) => listenerArn === undefined || c.listenerArn === listenerArn).map((c) => ({ ...c }));
  }

  /**
   * The weights new connections follow at `at`, per the model: the last change in effect by then,
   * else the weights before the first change; undefined for a listener never changed.
   */
  effectiveWeights(listenerArn: string, at: number = this.options.now()): ListenerWeights | undefined {
    const changes = this.weightLog.filter((c) => c.listenerArn === listenerArn);
    if (changes.length === 0) return undefined;
    const inEffect = changes.filter((c) => c.effectiveAt <= at).at(-1);
    return inEffect ? inEffect.to : changes[0]?.from;
  }

  /** Forget every target, weight change and their history. */
  reset(): void {
    this.groups.clear();
    this.log.length = 0;
    this.weightLog.length = 0;
  }

  /** Runs the health checks and drains that are due by now. */
  advance(): void {
    const now = this.options.now();
    const { intervalMs } = this.timing;
    if (!(intervalMs > 0)) throw new Error(`ELB timing: intervalMs must be > 0, got ${intervalMs}`);
    for (const group of this.groups.values()) {
      for (const [k, t] of group) {
        if (t.state === 'draining') {
          if (t.drainingUntil !== undefined && now >= t.drainingUntil) {
            t.history.goneAt = t.drainingUntil;
            group.delete(k);
          }
          continue;
        }
        for (; t.nextCheckAt <= now; t.nextCheckAt += intervalMs) this.check(t, this.serving(t.ref.ip, t.ref.port, t.nextCheckAt), t.nextCheckAt);
      }
    }
  }

  private check(t: Tracked, ok: boolean, at: number): void {
    const { healthyThreshold, unhealthyThreshold } = this.timing;
    t.checks += 1;
    if (ok) {
      t.passes += 1;
      t.fails = 0;
    } else {
      t.fails += 1;
      t.passes = 0;
    }
    if (t.state === 'initial') {
      if (t.checks >= healthyThreshold) t.state = t.passes >= healthyThreshold ? 'healthy' : 'unhealthy';
    } else if (t.state === 'healthy') {
      if (t.fails >= unhealthyThreshold) t.state = 'unhealthy';
    } else if (t.state === 'unhealthy' && t.passes >= healthyThreshold) {
      t.state = 'healthy';
    }
    if (t.state === 'healthy') t.history.firstHealthyAt ??= at;
  }

  private group(arn: string): Map<string, Tracked> {
    let g = this.groups.get(arn);
    if (!g) this.groups.set(arn, (g = new Map()));
    return g;
  }
}

function view(t: Tracked, now: number): TargetHealthView {
  const base = { ...t.ref, state: t.state };
  switch (t.state) {
    case 'initial':
      return { ...base, ...(now < t.history.healthChecksFrom ? REASONS.registering : REASONS.checking) };
    case 'unhealthy':
      return { ...base, ...REASONS.failed };
    case 'draining':
      return { ...base, ...REASONS.draining };
    default:
      return base;
  }
}

const key = (t: TargetRef) => `${t.ip}|${t.port}|${t.availabilityZone ?? ''}`;
const clean = (t: TargetRef): TargetRef => ({ ip: t.ip, port: t.port, ...(t.availabilityZone ? { availabilityZone: t.availabilityZone } : {}) });
const label = (t: TargetRef) => `'${t.ip}:${t.port}${t.availabilityZone ? ` (${t.availabilityZone})` : ''}'`;
