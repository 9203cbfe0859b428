// Doctor checks for one mapping, in the order a connection travels back from the database:
// DNS answer -> target group -> registered targets and their health -> the NLB in front.
// Each check reads through the DoctorReader and leaves the decision to a pure function.
import { BlockList, isIP } from 'node:net';
import type { LoadBalancer, TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Mapping } from '../config.js';
import type { Attributes, DoctorReader, SubnetInfo } from './read.js';
import { servingZones, type DbTopology } from './topology.js';
import { couldNotTell, fail, isFatalAwsError, list, notChecked, pass, warn, worstOf, type Verdict, type Check } from './verdict.js';
import { DnsError } from '../dns.js';
import { isDraining, isTargetable, planTargets, type RegisteredTarget, type Resolution } from '../sync/plan.js';
import { canonicalIp, ipSet } from '../ip.js';

/** Deregistration delay above this leaves clients on the old writer "for minutes". */
export const MAX_DEREGISTRATION_DELAY_S = 60;

const tgName = (arn: string) => arn.split(':targetgroup/')[1]?.split('/')[0] ?? arn;

// ---------------------------------------------------------------------------------------------
// dns.resolves, dns.private

export const dnsResolves: Check<Mapping> = {
  id: 'dns.resolves',
  run: async (m, { reader }) => decideResolves(m.endpoint, await reader.resolve(m.endpoint, m.ipAddressType)),
};

const DNS_FIXES: Record<string, string> = {
  nxdomain:
    'Check the endpoint name (RDS console > Connectivity & security > Endpoint). A name in a private hosted zone resolves only inside its VPC: run doctor there, or pass --dns-servers.',
  timeout: 'No DNS server answered: check --dns-servers / DNS_SERVERS and your network (inside a VPC the resolver is the VPC CIDR base + 2).',
  empty: 'The name exists but has no address of the mapping\'s ipAddressType (A for ipv4, AAAA for ipv6): check the mapping.',
};
const DNS_FIX_OTHER = 'The DNS server failed or refused the query: try another resolver with --dns-servers.';

export function decideResolves(endpoint: string, resolution: Resolution): Verdict {
  if (resolution.ok) return pass(`resolves to ${list(resolution.addresses)}`);
  const kind = resolution.error instanceof DnsError ? resolution.error.kind : 'error';
  return fail(`${endpoint} does not resolve: ${resolution.error.message}`, DNS_FIXES[kind] ?? DNS_FIX_OTHER);
}

export const dnsPrivate: Check<Mapping> = {
  id: 'dns.private',
  run: async (m, { reader }) => decidePrivate(await reader.resolve(m.endpoint, m.ipAddressType)),
};

export function decidePrivate(resolution: Resolution): Verdict {
  if (!resolution.ok) return notChecked('the endpoint did not resolve (dns.resolves)');
  const refused = resolution.addresses.filter((ip) => !isTargetable(ip));
  if (refused.length === 0) return pass(`${list(resolution.addresses)}: private, can be NLB IP targets`);
  return fail(
    `${list(refused)} is not a private address: an NLB cannot target it, and sync refuses such an answer`,
    'Make the DB instance not publicly accessible. A publicly accessible DB answers its own VPC\'s resolver with the private address: run doctor inside the VPC or with --dns-servers set to the VPC resolver.',
  );
}

// ---------------------------------------------------------------------------------------------
// target-group.settings, target-group.deregistration

export const targetGroupSettings: Check<Mapping> = {
  id: 'target-group.settings',
  async run(m, { reader, region }) {
    const tg = await reader.targetGroup(m.targetGroupArn);
    if (!tg) return fail(`target group ${m.targetGroupArn} not found`, `Check TARGET_GROUP_ARN / SYNC_MAPPINGS and the region (${region}).`);
    return decideTargetGroup(tg, m.port);
  },
};

export function decideTargetGroup(tg: TargetGroup, port: number): Verdict {
  const verdicts: Verdict[] = [];
  if (tg.TargetType !== 'ip') {
    verdicts.push(
      fail(
        `target type is ${tg.TargetType}, not ip: an RDS address can only be an IP target`,
        `Create a target group of type ip, protocol TCP, port ${port}, and point the mapping at it (the type cannot be changed).`,
      ),
    );
  }
  if (tg.Protocol !== 'TCP') {
    verdicts.push(
      fail(`protocol is ${tg.Protocol}, not TCP: the database speaks its own protocol (and its own TLS) over TCP`, `Use a TCP target group behind a TCP listener.`),
    );
  }
  if (tg.Port !== port) {
    verdicts.push(
      warn(
        `target group port is ${tg.Port}, the database port is ${port}: sync registers each target with port ${port}, so traffic flows, but the console's defaults mislead`,
        `Create the target group with port ${port} when you next replace it.`,
      ),
    );
  }
  return verdicts.length > 0 ? worstOf(verdicts) : pass(`type ip, protocol TCP, port ${port}`);
}

export const deregistration: Check<Mapping> = {
  id: 'target-group.deregistration',
  async run(m, { reader }) {
    if (!(await reader.targetGroup(m.targetGroupArn))) return notChecked('target group not found (target-group.settings)');
    return decideDeregistration(await reader.targetGroupAttributes(m.targetGroupArn), m.targetGroupArn);
  },
};

/**
 * After a failover sync deregisters the old writer, but the NLB keeps existing connections on it
 * for the deregistration delay, and past it unless connection termination is on.
 */
export function decideDeregistration(attributes: Attributes, targetGroupArn: string): Verdict {
  const delay = Number(attributes['deregistration_delay.timeout_seconds'] ?? 300);
  const terminates = attributes['deregistration_delay.connection_termination.enabled'] === 'true';
  const fix =
    `aws elbv2 modify-target-group-attributes --target-group-arn ${targetGroupArn} --attributes ` +
    'Key=deregistration_delay.timeout_seconds,Value=10 Key=deregistration_delay.connection_termination.enabled,Value=true';
  if (!terminates) {
    return warn(
      `connection termination on deregistration is off: after a failover, open connections stay on the old writer until the client or the database closes them (deregistration delay ${delay} s)`,
      `Turn it on, with a short delay: ${fix}`,
    );
  }
  if (delay > MAX_DEREGISTRATION_DELAY_S) {
    return warn(`deregistration delay is ${delay} s: after a failover, open connections stay on the old writer for up to ${Math.round(delay / 60)} min`, `Shorten it: ${fix}`);
  }
  return pass(`deregistration delay ${delay} s with connection termination: after a failover, clients leave the old writer within ${delay} s`);
}

// ---------------------------------------------------------------------------------------------
// targets.registered, targets.health

export const targetsRegistered: Check<Mapping> = {
  id: 'targets.registered',
  async run(m, { reader }) {
    const [resolution, tg] = await Promise.all([reader.resolve(m.endpoint, m.ipAddressType), reader.targetGroup(m.targetGroupArn)]);
    if (!tg) return notChecked('target group not found (target-group.settings)');
    if (!resolution.ok) return notChecked('the endpoint did not resolve: nothing to compare with (dns.resolves)');
    if (!resolution.addresses.every(isTargetable)) return notChecked('the endpoint resolves to a public address (dns.private)');
    return decideRegistered(resolution.addresses, await reader.targetHealth(m.targetGroupArn), m.port);
  },
};

/** The Lambda's own planner decides: in sync, or what a sync run would change. */
export function decideRegistered(resolved: string[], registered: RegisteredTarget[], port: number): Verdict {
  const plan = planTargets({ ok: true, addresses: resolved }, registered, { port, force: false });
  if (plan.add.length === 0 && plan.remove.length === 0) return pass(`registered on port ${port}: ${list(plan.keep)}, as resolved`);
  const parts = [
    ...(plan.add.length > 0 ? [`resolved but not registered: ${list(plan.add)}`] : []),
    ...(plan.remove.length > 0 ? [`registered but no longer resolved (stale): ${list(plan.remove.map((t) => t.ip))}`] : []),
  ];
  return fail(
    `target group does not match DNS: ${parts.join('; ')}`,
    'Run `rds-nlb-sync sync --stage <stage>` to fix it now. The sync function should have done it within a minute: check function.sync and sync.heartbeat, and its "sync run" log line.',
  );
}

export const targetsHealth: Check<Mapping> = {
  id: 'targets.health',
  async run(m, { reader }) {
    if (!(await reader.targetGroup(m.targetGroupArn))) return notChecked('target group not found (target-group.settings)');
    const resolution = await reader.resolve(m.endpoint, m.ipAddressType);
    return decideHealth(currentTargets(await reader.targetHealth(m.targetGroupArn), m.port, resolution), m.port);
  },
};

/** The mapping's non-draining targets; only the resolved ones when DNS answered. */
function currentTargets(targets: RegisteredTarget[], port: number, resolution: Resolution): RegisteredTarget[] {
  const resolved = resolution.ok ? ipSet(resolution.addresses) : undefined;
  return targets.filter((t) => t.port === port && !isDraining(t) && (!resolved || resolved.has(canonicalIp(t.ip))));
}

const describeTarget = (t: RegisteredTarget) =>
  `${t.ip} ${t.state}${t.reason ? ` (${t.reason}${t.description ? `: ${t.description}` : ''})` : ''}`;

export function decideHealth(targets: RegisteredTarget[], port: number): Verdict {
  if (targets.length === 0) return notChecked('no current target registered (targets.registered)');
  const bad = targets.filter((t) => t.state === 'unhealthy' || t.state === 'unused' || t.state === 'unhealthy.draining');
  if (bad.length > 0) {
    const notInUse = bad.some((t) => t.reason === 'Target.NotInUse');
    return fail(
      `not healthy: ${list(bad.map(describeTarget))}`,
      notInUse
        ? "The target's Availability Zone is not enabled on the NLB: see nlb.zones."
        : `The NLB's health checks cannot reach the database: its security group must allow TCP ${port} from the NLB's subnets or the NLB's security group (see db.security-groups), the NLB's security group must let TCP ${port} out, and the network ACLs must let it through. A MySQL or MariaDB database may have blocked the NLB's addresses: see db.max-connect-errors.`,
    );
  }
  const waiting = targets.filter((t) => t.state !== 'healthy');
  if (waiting.length > 0) {
    return warn(
      `not healthy yet: ${list(waiting.map(describeTarget))}`,
      'A new target is "initial" until it passes the health checks (about 30 s); "unavailable" means health checks are off: turn them on.',
    );
  }
  return pass(`healthy: ${list(targets.map((t) => `${t.ip}:${t.port}`))}`);
}

// ---------------------------------------------------------------------------------------------
// nlb.attached, nlb.zones

export const nlbAttached: Check<Mapping> = {
  id: 'nlb.attached',
  async run(m, { reader }) {
    const tg = await reader.targetGroup(m.targetGroupArn);
    if (!tg) return notChecked('target group not found (target-group.settings)');
    const arns = tg.LoadBalancerArns ?? [];
    if (arns.length === 0) {
      return fail(
        `no load balancer forwards to target group ${tgName(m.targetGroupArn)}`,
        `Add a TCP listener to the NLB that forwards to it: aws elbv2 create-listener --load-balancer-arn <nlb-arn> --protocol TCP --port ${m.port} --default-actions Type=forward,TargetGroupArn=${m.targetGroupArn}`,
      );
    }
    return worstOf(await Promise.all(arns.map(async (arn) => decideLoadBalancer(arn, await reader.loadBalancer(arn)))));
  },
};

export function decideLoadBalancer(arn: string, lb: LoadBalancer | undefined): Verdict {
  if (!lb) return fail(`load balancer ${arn} not found`, 'Attach the target group to the NLB behind the endpoint service.');
  const name = lb.LoadBalancerName ?? arn;
  if (lb.Type !== 'network') {
    return fail(
      `${name} is a ${lb.Type} load balancer: a VPC endpoint service needs a Network Load Balancer`,
      'Put the target group behind a Network Load Balancer (internal, TCP listener).',
    );
  }
  const state = lb.State?.Code ?? 'unknown';
  if (state === 'failed') return fail(`NLB ${name} is in state failed: ${lb.State?.Reason ?? 'no reason given'}`, 'Recreate the NLB.');
  if (state !== 'active') return warn(`NLB ${name} is ${state}`, 'Wait for it to become active, then run doctor again.');
  return pass(`NLB ${name} (${lb.Scheme}, active) forwards to the target group`);
}

/** The Network Load Balancers that forward to the mapping's target group. */
export async function networkLoadBalancers(m: Mapping, reader: DoctorReader): Promise<LoadBalancer[]> {
  const tg = await reader.targetGroup(m.targetGroupArn);
  const lbs = await Promise.all((tg?.LoadBalancerArns ?? []).map((arn) => reader.loadBalancer(arn)));
  return lbs.filter((lb): lb is LoadBalancer => lb?.Type === 'network');
}

export const nlbZones: Check<Mapping> = {
  id: 'nlb.zones',
  async run(m, { reader }) {
    const tg = await reader.targetGroup(m.targetGroupArn);
    if (!tg) return notChecked('target group not found (target-group.settings)');
    const lbs = await networkLoadBalancers(m, reader);
    if (lbs.length === 0) return notChecked('no Network Load Balancer forwards to the target group (nlb.attached)');
    const targets = (await reader.targetHealth(m.targetGroupArn)).filter((t) => t.port === m.port && !isDraining(t));
    const [tgAttributes, subnets, topology] = await Promise.all([
      reader.targetGroupAttributes(m.targetGroupArn),
      tg.VpcId ? reader.vpcSubnets(tg.VpcId) : [],
      readTopologyOrSay(m.endpoint, reader),
    ]);
    const zoned = targets.map((t) => ({ ip: t.ip, zone: zoneOf(t, subnets) }));
    const verdicts = await Promise.all(
      lbs.map(async (lb) =>
        decideZones({
          targets: zoned,
          database: topology,
          loadBalancerName: lb.LoadBalancerName ?? '',
          loadBalancerArn: lb.LoadBalancerArn ?? '',
          loadBalancerZones: (lb.AvailabilityZones ?? []).flatMap((z) => (z.ZoneName ? [z.ZoneName] : [])),
          loadBalancerSubnets: (lb.AvailabilityZones ?? []).flatMap((z) => (z.SubnetId ? [z.SubnetId] : [])),
          crossZone: crossZoneEnabled(tgAttributes, await reader.loadBalancerAttributes(lb.LoadBalancerArn ?? '')),
        }),
      ),
    );
    return worstOf(verdicts);
  },
};

/** The database's topology; an RDS API error that says nothing about the chain becomes "could not read". */
async function readTopologyOrSay(endpoint: string, reader: DoctorReader): Promise<DbTopology> {
  try {
    return await reader.dbTopology(endpoint);
  } catch (err) {
    if (isFatalAwsError(err)) throw err;
    return { known: false, why: `the RDS API did not say (${couldNotTell(err).message})` };
  }
}

/** The target group's own setting wins; `use_load_balancer_configuration` (the default) defers to the NLB's. */
export function crossZoneEnabled(targetGroup: Attributes, loadBalancer: Attributes): boolean {
  const own = targetGroup['load_balancing.cross_zone.enabled'];
  if (own === 'true' || own === 'false') return own === 'true';
  return loadBalancer['load_balancing.cross_zone.enabled'] === 'true';
}

/**
 * ELB names the zone of a target when it knows it ("all" for an address outside the VPC);
 * otherwise (and in the emulator) the zone of the VPC subnet that holds the address.
 */
export function zoneOf(target: RegisteredTarget, subnets: SubnetInfo[]): string | undefined {
  if (target.availabilityZone) return target.availabilityZone;
  const family = isIP(target.ip) === 6 ? 'ipv6' : 'ipv4';
  return subnets.find((s) => s.cidrs.some((cidr) => inCidr(target.ip, cidr, family)))?.zone;
}

export function inCidr(ip: string, cidr: string, family: 'ipv4' | 'ipv6'): boolean {
  const [network, bits] = cidr.split('/');
  if (!network || bits === undefined || (isIP(network) === 6) !== (family === 'ipv6')) return false;
  const block = new BlockList();
  block.addSubnet(network, Number(bits), family);
  return block.check(ip, family);
}

export interface ZoneFacts {
  targets: { ip: string; zone: string | undefined }[];
  /** The DB instances that serve the endpoint now or after a failover, or why they are unknown. */
  database: DbTopology;
  loadBalancerName: string;
  loadBalancerArn: string;
  loadBalancerZones: string[];
  loadBalancerSubnets: string[];
  crossZone: boolean;
}

/**
 * ELB: targets in an Availability Zone the NLB has not enabled receive no traffic, cross-zone load
 * balancing or not. So the NLB needs a subnet in the zone of every current target and of every
 * instance the endpoint can move to: a Multi-AZ standby, any member of a cluster.
 */
export function decideZones(f: ZoneFacts): Verdict {
  const name = f.loadBalancerName;
  const inNlb = (zone: string) => zone === 'all' || f.loadBalancerZones.includes(zone);
  const lacking = [
    // "all": an address outside the VPC, which every NLB zone reaches.
    ...f.targets.flatMap((t) => (t.zone !== undefined && !inNlb(t.zone) ? [{ zone: t.zone, who: `target ${t.ip}` }] : [])),
    ...(f.database.known ? servingZones(f.database.instances).filter((s) => !inNlb(s.zone)) : []),
  ];
  if (lacking.length > 0) {
    const missing = [...new Set(lacking.map((l) => l.zone))];
    return fail(
      `NLB ${name} is only in ${list(f.loadBalancerZones)}, but ${list(lacking.map((l) => `${l.who} is in ${l.zone}`))}: targets in a zone the NLB has not enabled get no traffic, cross-zone load balancing or not, so a failover there cuts Fivetran off`,
      `Give the NLB a subnet in ${list(missing)}: add one per missing zone to nlbSubnetIds and deploy, or for an NLB you manage: aws elbv2 set-subnets --load-balancer-arn ${f.loadBalancerArn} --subnets ${[...f.loadBalancerSubnets, ...missing.map((z) => `<subnet-in-${z}>`)].join(' ')}`,
    );
  }
  const verdicts: Verdict[] = [];
  const unknown = f.targets.filter((t) => t.zone === undefined);
  if (unknown.length > 0) {
    verdicts.push(
      warn(
        `could not tell the zone of ${list(unknown.map((t) => t.ip))} (in no subnet of the target group's VPC)`,
        `Make sure NLB ${name} has a subnet in its zone.`,
      ),
    );
  }
  const db = f.database;
  const gap = !db.known ? db.why : db.instances.length === 0 ? `${db.name} lists no DB instance` : undefined;
  if (gap !== undefined) {
    verdicts.push(
      warn(
        `could not check the zones the database can fail over to: ${gap}`,
        `Make sure NLB ${name} has a subnet in every Availability Zone of the database's DB subnet group.`,
      ),
    );
  }
  const spare = db.known ? [...new Set(db.instances.flatMap((i) => i.subnetGroupZones))].filter((z) => !inNlb(z)) : [];
  if (spare.length > 0) {
    verdicts.push(
      warn(
        `the DB subnet group also spans ${list(spare)}, where NLB ${name} has no subnet: an instance RDS replaces or adds there would get no traffic`,
        `Add a subnet in ${list(spare)} to nlbSubnetIds (or to the NLB), or remove the zone from the DB subnet group.`,
      ),
    );
  }
  if (verdicts.length > 0) return worstOf(verdicts);
  const where = f.database.known ? `${f.database.name} (${list(servingZones(f.database.instances).map((s) => `${s.who} in ${s.zone}`))})` : '';
  const zones = [...new Set(f.targets.map((t) => t.zone ?? 'unknown'))];
  return pass(
    `NLB ${name} is in ${list(f.loadBalancerZones)}: every zone of ${where || `the targets (${list(zones)})`}; cross-zone load balancing is ${f.crossZone ? 'on' : 'off'}`,
  );
}

export const MAPPING_CHECKS: Check<Mapping>[] = [
  dnsResolves,
  dnsPrivate,
  targetGroupSettings,
  targetsRegistered,
  targetsHealth,
  nlbAttached,
  nlbZones,
  deregistration,
];
