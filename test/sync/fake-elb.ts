// A fake ELBv2 that models what moto does not: targets keyed by IP + port + AZ, ELB's health
// states with their reason codes (initial, healthy, unhealthy, draining, unhealthy.draining,
// unused), deregistration -> draining -> gone, and RegisterTargets of a draining target making it
// `initial` again. (moto keys targets by IP only, registers instantly and has no draining.)
// Health checks and the deregistration delay pass only when a test calls tick() or setHealth(),
// so a test controls time. States and reasons as ELB's API reference (TargetHealth) lists them.
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  type ElasticLoadBalancingV2Client,
  type TargetDescription,
  type TargetHealthReasonEnum,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { canonicalIp } from '../../lib/ip.js';

export type FakeState = 'initial' | 'healthy' | 'unhealthy' | 'draining' | 'unhealthy.draining' | 'unused';

export interface FakeTarget {
  ip: string;
  port: number;
  az: string;
  state: FakeState;
  /** ELB's reason code for the state (none when healthy). */
  reason?: string;
}

/** The reason ELB gives for each state (one of the documented codes). */
export const REASONS: Record<FakeState, string | undefined> = {
  initial: 'Elb.RegistrationInProgress',
  healthy: undefined,
  unhealthy: 'Target.FailedHealthChecks',
  draining: 'Target.DeregistrationInProgress',
  // NLB: an unhealthy target whose connections are drained (unhealthy draining interval).
  'unhealthy.draining': 'Target.FailedHealthChecks',
  unused: 'Target.NotInUse',
};

/** In-VPC IP targets get their AZ from the subnet; this fake puts every VPC address in one. */
const VPC_ZONE = 'eu-west-1a';

export interface FakeElbOptions {
  /** How ELB spells target IDs in DescribeTargetHealth (IPv6 may come back in another form than registered). */
  spell?: (ip: string) => string;
  /** Addresses whose health checks fail: tick() takes them from initial to unhealthy. */
  failing?: string[];
}

export class FakeElb {
  readonly targets = new Map<string, FakeTarget>();
  readonly calls: string[] = [];
  private readonly spell: (ip: string) => string;
  readonly failing: Set<string>;

  constructor(initial: (Omit<FakeTarget, 'az' | 'reason'> & { az?: string })[] = [], options: FakeElbOptions = {}) {
    this.spell = options.spell ?? ((ip) => ip);
    this.failing = new Set(options.failing ?? []);
    for (const t of initial) this.put({ ...t, az: t.az ?? VPC_ZONE });
  }

  private put(t: Omit<FakeTarget, 'reason'>): void {
    const reason = REASONS[t.state];
    this.targets.set(key(t.ip, t.port, t.az), { ...t, ...(reason ? { reason } : {}) });
  }

  /** Executes one call atomically, as ELB does. */
  handle(command: unknown): unknown {
    this.calls.push((command as object).constructor.name);
    if (command instanceof DescribeTargetHealthCommand) {
      const TargetHealthDescriptions: TargetHealthDescription[] = [...this.targets.values()].map((t) => ({
        Target: { Id: this.spell(t.ip), Port: t.port, AvailabilityZone: t.az },
        TargetHealth: { State: t.state, ...(t.reason ? { Reason: t.reason as TargetHealthReasonEnum } : {}) },
      }));
      return { TargetHealthDescriptions };
    }
    if (command instanceof RegisterTargetsCommand) {
      for (const d of command.input.Targets ?? []) {
        const existing = this.targets.get(keyOf(d));
        if (!existing || isLeaving(existing.state)) this.put({ ip: d.Id ?? '', port: d.Port ?? 0, az: d.AvailabilityZone ?? VPC_ZONE, state: 'initial' });
      }
      return {};
    }
    if (command instanceof DeregisterTargetsCommand) {
      const ks = (command.input.Targets ?? []).map(keyOf);
      const unknown = ks.filter((k) => !this.targets.has(k));
      if (unknown.length > 0) throw Object.assign(new Error(`The following targets are not registered: ${unknown.join(', ')}`), { name: 'InvalidTargetException' });
      for (const k of ks) {
        const t = this.targets.get(k);
        if (t && !isLeaving(t.state)) this.put({ ...t, state: 'draining' });
      }
      return {};
    }
    throw new Error(`FakeElb does not model ${(command as object).constructor.name}`);
  }

  /** Health checks complete (initial -> healthy, or unhealthy for failing addresses) and drained targets leave. Returns whether anything changed. */
  tick(): boolean {
    let changed = false;
    for (const [k, t] of this.targets) {
      if (t.state === 'draining') {
        this.targets.delete(k);
        changed = true;
      } else if (t.state === 'unhealthy.draining') {
        this.put({ ...t, state: 'unhealthy' });
        changed = true;
      } else if (t.state === 'initial') {
        this.put({ ...t, state: this.failing.has(t.ip) ? 'unhealthy' : 'healthy' });
        changed = true;
      }
    }
    return changed;
  }

  /** Sets one target's state, as ELB's health checks or the load balancer's zones would. */
  setHealth(ip: string, port: number, state: FakeState): void {
    for (const t of this.targets.values()) if (t.ip === ip && t.port === port) this.put({ ...t, state });
  }

  /** Whether tick() would change anything (a health check or a drain is pending). */
  pending(): boolean {
    return [...this.targets.values()].some((t) => t.state === 'initial' || isLeaving(t.state));
  }

  /** Non-draining targets on the port, sorted. */
  live(port: number): string[] {
    return [...this.targets.values()].filter((t) => t.port === port && !isLeaving(t.state)).map((t) => t.ip).sort();
  }

  /** A client whose calls run at once. */
  client(): ElasticLoadBalancingV2Client {
    return { send: async (command: unknown) => this.handle(command) } as unknown as ElasticLoadBalancingV2Client;
  }
}

/** On its way out: receives no new connections. */
const isLeaving = (state: FakeState) => state === 'draining' || state === 'unhealthy.draining';
// ELB parses the address: any spelling of one IPv6 address names the same target.
const key = (ip: string, port: number, az: string) => `${canonicalIp(ip)}|${port}|${az}`;
const keyOf = (d: TargetDescription) => key(d.Id ?? '', d.Port ?? 0, d.AvailabilityZone ?? VPC_ZONE);
