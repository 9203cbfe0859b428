// A fake ELBv2 that models what moto does not: targets keyed by IP + port + AZ, deregistration
// -> draining -> gone, and RegisterTargets of a draining target making it `initial` again.
// (moto keys targets by IP only and has no draining.) Health checks and the deregistration delay
// pass only when a test calls tick(), so a test controls time.
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  type ElasticLoadBalancingV2Client,
  type TargetDescription,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';

export interface FakeTarget {
  ip: string;
  port: number;
  az: string;
  state: 'initial' | 'healthy' | 'draining';
}

/** In-VPC IP targets get their AZ from the subnet; this fake puts every VPC address in one. */
const VPC_ZONE = 'eu-west-1a';

export class FakeElb {
  readonly targets = new Map<string, FakeTarget>();
  readonly calls: string[] = [];

  constructor(initial: Omit<FakeTarget, 'az'>[] = []) {
    for (const t of initial) this.targets.set(key(t.ip, t.port, VPC_ZONE), { ...t, az: VPC_ZONE });
  }

  /** Executes one call atomically, as ELB does. */
  handle(command: unknown): unknown {
    this.calls.push((command as object).constructor.name);
    if (command instanceof DescribeTargetHealthCommand) {
      const TargetHealthDescriptions: TargetHealthDescription[] = [...this.targets.values()].map((t) => ({
        Target: { Id: t.ip, Port: t.port, AvailabilityZone: t.az },
        TargetHealth: { State: t.state },
      }));
      return { TargetHealthDescriptions };
    }
    if (command instanceof RegisterTargetsCommand) {
      for (const d of command.input.Targets ?? []) {
        const k = keyOf(d);
        const existing = this.targets.get(k);
        if (!existing || existing.state === 'draining') this.targets.set(k, { ip: d.Id ?? '', port: d.Port ?? 0, az: d.AvailabilityZone ?? VPC_ZONE, state: 'initial' });
      }
      return {};
    }
    if (command instanceof DeregisterTargetsCommand) {
      const ks = (command.input.Targets ?? []).map(keyOf);
      const unknown = ks.filter((k) => !this.targets.has(k));
      if (unknown.length > 0) throw Object.assign(new Error(`The following targets are not registered: ${unknown.join(', ')}`), { name: 'InvalidTargetException' });
      for (const k of ks) {
        const t = this.targets.get(k);
        if (t) t.state = 'draining';
      }
      return {};
    }
    throw new Error(`FakeElb does not model ${(command as object).constructor.name}`);
  }

  /** Health checks pass and drained targets leave. */
  tick(): void {
    for (const [k, t] of this.targets) {
      if (t.state === 'draining') this.targets.delete(k);
      else t.state = 'healthy';
    }
  }

  /** Non-draining targets on the port, sorted. */
  live(port: number): string[] {
    return [...this.targets.values()].filter((t) => t.port === port && t.state !== 'draining').map((t) => t.ip).sort();
  }

  /** A client whose calls run at once. */
  client(): ElasticLoadBalancingV2Client {
    return { send: async (command: unknown) => this.handle(command) } as unknown as ElasticLoadBalancingV2Client;
  }
}

const key = (ip: string, port: number, az: string) => `${ip}|${port}|${az}`;
const keyOf = (d: TargetDescription) => key(d.Id ?? '', d.Port ?? 0, d.AvailabilityZone ?? VPC_ZONE);
