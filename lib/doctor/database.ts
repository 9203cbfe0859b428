// Doctor checks between the NLB and the database: the database's security groups admit the NLB,
// the NLB's own security group (and its PrivateLink enforcement setting), and MySQL/MariaDB's
// max_connect_errors, which NLB health checks exhaust. The database comes from the RDS API
// (DoctorReader.dbTopology); each decision is a pure function.
import { isIP } from 'node:net';
import type { IpPermission, SecurityGroup } from '@aws-sdk/client-ec2';
import type { LoadBalancer } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Mapping } from '../config.js';
import { inCidr, networkLoadBalancers } from './chain.js';
import type { DoctorReader } from './read.js';
import type { DbInstanceFacts } from './topology.js';
import { fail, list, notChecked, pass, warn, worstOf, type Check, type Verdict } from './verdict.js';

// ---------------------------------------------------------------------------------------------
// Security group rules

/** Whether an inbound or outbound rule covers TCP `port`. */
export function coversPort(rule: IpPermission, port: number): boolean {
  if (rule.IpProtocol === '-1') return true;
  if (rule.IpProtocol !== 'tcp' && rule.IpProtocol !== '6') return false;
  return (rule.FromPort ?? 0) <= port && port <= (rule.ToPort ?? 65535);
}

/** Whether CIDR `outer` contains every address of CIDR (or address) `inner`. */
export function cidrContains(outer: string, inner: string): boolean {
  const [network = inner, bits] = inner.split('/');
  const family = isIP(network) === 6 ? 'ipv6' : 'ipv4';
  const innerBits = bits === undefined ? (family === 'ipv6' ? 128 : 32) : Number(bits);
  const outerBits = Number(outer.split('/')[1] ?? (family === 'ipv6' ? 128 : 32));
  return outerBits <= innerBits && inCidr(network, outer, family);
}

/** The rules of `groups` in one direction that cover TCP `port`. */
const rulesFor = (groups: SecurityGroup[], direction: 'in' | 'out', port: number) =>
  groups.flatMap((g) => (direction === 'in' ? g.IpPermissions : g.IpPermissionsEgress) ?? []).filter((r) => coversPort(r, port));

const refersTo = (rules: IpPermission[], groupIds: string[]) => rules.some((r) => r.UserIdGroupPairs?.some((p) => p.GroupId && groupIds.includes(p.GroupId)));
const rangesOf = (rule: IpPermission) => [
  ...(rule.IpRanges ?? []).flatMap((r) => (r.CidrIp ? [r.CidrIp] : [])),
  ...(rule.Ipv6Ranges ?? []).flatMap((r) => (r.CidrIpv6 ? [r.CidrIpv6] : [])),
];
const coveredBy = (rules: IpPermission[], cidr: string) => rules.some((r) => rangesOf(r).some((range) => cidrContains(range, cidr)));
const usesPrefixLists = (rules: IpPermission[]) => rules.some((r) => (r.PrefixListIds ?? []).length > 0);

// ---------------------------------------------------------------------------------------------
// db.security-groups

export interface DbSecurityFacts {
  port: number;
  /** The DB instances that serve the endpoint now or after a failover, with their groups. */
  instances: { id: string; groupIds: string[] }[];
  /** Every security group named above and the NLB's. */
  groups: SecurityGroup[];
  nlbName: string;
  /** The NLB's security groups; empty for an NLB created without one. */
  nlbGroupIds: string[];
  /** The NLB's subnets: its nodes' addresses (the source of health checks and traffic) are in them. */
  nlbSubnets: { subnetId: string; cidr: string }[];
  /** The endpoint's current addresses: where the NLB's outbound rules must let traffic go. */
  dbAddresses: string[];
}

/**
 * The NLB's nodes connect to the database from their own addresses (health checks and traffic,
 * PrivateLink or not), so every DB instance that can serve the endpoint must admit them on the
 * DB port: by the NLB's security group, or by ranges covering all the NLB's subnets. An NLB with
 * a security group must also let that traffic out: health checks obey its outbound rules.
 */
export function decideDbSecurityGroups(f: DbSecurityFacts): Verdict {
  const group = (id: string) => f.groups.find((g) => g.GroupId === id);
  const verdicts: Verdict[] = [];
  const sets = new Map<string, { ids: string[]; instances: string[] }>();
  for (const i of f.instances) {
    const key = [...i.groupIds].sort().join(',');
    sets.set(key, { ids: i.groupIds, instances: [...(sets.get(key)?.instances ?? []), i.id] });
  }
  for (const { ids, instances } of sets.values()) {
    const rules = rulesFor(ids.flatMap((id) => group(id) ?? []), 'in', f.port);
    const uncovered = f.nlbSubnets.filter((s) => !coveredBy(rules, s.cidr));
    const who = `${list(instances)} (security group${ids.length === 1 ? '' : 's'} ${list(ids)})`;
    if (f.nlbSubnets.length === 0 && !(f.nlbGroupIds.length > 0 && refersTo(rules, f.nlbGroupIds))) {
      verdicts.push(warn(`could not tell whether ${who} admit NLB ${f.nlbName}: its subnets could not be read`));
      continue;
    }
    if ((f.nlbGroupIds.length > 0 && refersTo(rules, f.nlbGroupIds)) || uncovered.length === 0) {
      verdicts.push(pass(`${who} admit${instances.length === 1 ? 's' : ''} NLB ${f.nlbName} on TCP ${f.port}`));
      continue;
    }
    const dbGroup = ids[0] ?? '<db-security-group>';
    const one = instances.length === 1;
    const source = f.nlbGroupIds.length > 0 ? `admit${one ? 's' : ''} neither NLB security group ${list(f.nlbGroupIds)} nor` : `do${one ? 'es' : ''} not admit`;
    const message = `${who} ${source} NLB ${f.nlbName}'s subnets ${list(uncovered.map((s) => `${s.cidr} (${s.subnetId})`))} on TCP ${f.port}: health checks fail and Fivetran cannot connect`;
    if (usesPrefixLists(rules)) {
      verdicts.push(warn(`${message}, unless a prefix list of their rules holds those ranges (doctor does not read prefix lists)`, 'Check the prefix lists, or add the rule below.'));
      continue;
    }
    const fix =
      f.nlbGroupIds.length > 0
        ? `aws ec2 authorize-security-group-ingress --group-id ${dbGroup} --protocol tcp --port ${f.port} --source-group ${f.nlbGroupIds[0]} (the deployment adds this rule when given --param dbSecurityGroupId=${dbGroup})`
        : uncovered.map((s) => `aws ec2 authorize-security-group-ingress --group-id ${dbGroup} --protocol tcp --port ${f.port} --cidr ${s.cidr}`).join('; ');
    verdicts.push(fail(message, fix));
  }
  if (f.nlbGroupIds.length > 0) {
    const out = rulesFor(f.nlbGroupIds.flatMap((id) => group(id) ?? []), 'out', f.port);
    const dbGroupIds = [...new Set(f.instances.flatMap((i) => i.groupIds))];
    const reaches = refersTo(out, dbGroupIds) || (f.dbAddresses.length > 0 ? f.dbAddresses.every((ip) => coveredBy(out, ip)) : out.some((r) => rangesOf(r).length > 0));
    if (!reaches && !usesPrefixLists(out)) {
      verdicts.push(
        fail(
          `NLB security group ${list(f.nlbGroupIds)} lets no TCP ${f.port} out to the database${f.dbAddresses.length > 0 ? ` (${list(f.dbAddresses)})` : ''}: health checks obey the NLB's outbound rules, so every target turns unhealthy`,
          `aws ec2 authorize-security-group-egress --group-id ${f.nlbGroupIds[0]} --ip-permissions 'IpProtocol=tcp,FromPort=${f.port},ToPort=${f.port},UserIdGroupPairs=[{GroupId=${dbGroupIds[0] ?? '<db-security-group>'}}]'`,
        ),
      );
    }
  }
  return worstOf(verdicts);
}

export const dbSecurityGroups: Check<Mapping> = {
  id: 'db.security-groups',
  async run(m, { reader }) {
    const topology = await reader.dbTopology(m.endpoint);
    if (!topology.known) return notChecked(topology.why, `Check by hand that the database's security groups admit the NLB on TCP ${m.port}.`);
    if (topology.instances.length === 0) return notChecked(`${topology.name} has no instance`);
    const lbs = await networkLoadBalancers(m, reader);
    if (lbs.length === 0) return notChecked('no Network Load Balancer forwards to the target group (nlb.attached)');
    const resolution = await reader.resolve(m.endpoint, m.ipAddressType);
    const verdicts = await Promise.all(
      lbs.map(async (lb) => {
        const nlbGroupIds = lb.SecurityGroups ?? [];
        const subnetIds = (lb.AvailabilityZones ?? []).flatMap((z) => (z.SubnetId ? [z.SubnetId] : []));
        const groupIds = [...new Set([...topology.instances.flatMap((i) => i.securityGroupIds), ...nlbGroupIds])];
        const [groups, subnets] = await Promise.all([reader.securityGroups(groupIds), subnetIds.length > 0 ? reader.subnets(subnetIds) : []]);
        return decideDbSecurityGroups({
          port: m.port,
          instances: topology.instances.map((i) => ({ id: i.id, groupIds: i.securityGroupIds })),
          groups,
          nlbName: lb.LoadBalancerName ?? '',
          nlbGroupIds,
          // IPv4 only: an NLB node's health checks to an IPv4 target come from its IPv4 address.
          nlbSubnets: subnets.flatMap((s) => s.cidrs.filter((c) => isIP(c.split('/')[0] ?? '') === 4).map((cidr) => ({ subnetId: s.subnetId, cidr }))),
          dbAddresses: resolution.ok ? resolution.addresses : [],
        });
      }),
    );
    return worstOf(verdicts);
  },
};

// ---------------------------------------------------------------------------------------------
// nlb.security-group (one per NLB)

export interface NlbSecurityFacts {
  name: string;
  /** The NLB's security groups; empty when it was created without one. */
  groupIds: string[];
  groups: SecurityGroup[];
  /** EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: on (AWS's default) or off. */
  enforcement: string;
  listenerPorts: number[];
}

/**
 * With enforcement on, the NLB's inbound rules apply to PrivateLink traffic, whose source is the
 * client's own private address (Fivetran's, unknown to us): connections the rules do not admit
 * are dropped without a trace. An NLB created without a security group can never get one.
 */
export function decideNlbSecurityGroup(f: NlbSecurityFacts): Verdict {
  if (f.groupIds.length === 0) {
    return warn(
      `NLB ${f.name} has no security group, and one can never be added to it: the database's security group must trust the NLB's whole subnet ranges`,
      'When you next rebuild the chain, create the NLB with its own security group (the deployment\'s createPrivateLink does), a new endpoint service on it, and give Fivetran the new service name; then delete the old NLB and service.',
    );
  }
  const groups = list(f.groupIds);
  if (f.enforcement === 'off') {
    return pass(`security group ${groups}; EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic is off: its inbound rules do not filter Fivetran's PrivateLink traffic`);
  }
  const rules = (port: number) => rulesFor(f.groups.filter((g) => g.GroupId && f.groupIds.includes(g.GroupId)), 'in', port);
  const offFix = `Turn PrivateLink enforcement off (Fivetran's addresses are not yours to list): aws elbv2 set-security-groups --load-balancer-arn <nlb-arn> --security-groups ${f.groupIds.join(' ')} --enforce-security-group-inbound-rules-on-private-link-traffic off`;
  const closed = f.listenerPorts.filter((port) => rules(port).length === 0);
  if (closed.length > 0) {
    return fail(
      `EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic is on and security group ${groups} admits nothing on listener port ${list(closed.map(String))}: Fivetran's PrivateLink connections are dropped silently`,
      offFix,
    );
  }
  const open = (port: number) => rules(port).some((r) => rangesOf(r).some((c) => c === '0.0.0.0/0' || c === '::/0'));
  const narrow = f.listenerPorts.filter((port) => !open(port) && !usesPrefixLists(rules(port)));
  if (narrow.length > 0) {
    return warn(
      `EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic is on: PrivateLink traffic comes from the client's own private address, and security group ${groups} admits only some sources on port ${list(narrow.map(String))}`,
      `Make sure those sources include Fivetran's, or: ${offFix}`,
    );
  }
  return pass(`security group ${groups}; EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic is on and its inbound rules admit listener port${f.listenerPorts.length === 1 ? '' : 's'} ${list(f.listenerPorts.map(String))}`);
}

export const nlbSecurityGroup: Check<string> = {
  id: 'nlb.security-group',
  async run(loadBalancerArn, { reader }) {
    const lb: LoadBalancer | undefined = await reader.loadBalancer(loadBalancerArn);
    if (!lb) return notChecked('load balancer not found (nlb.attached)');
    const groupIds = lb.SecurityGroups ?? [];
    const enforcement = lb.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic ?? 'on';
    // The listener ports matter only where the inbound rules filter PrivateLink traffic.
    const enforced = groupIds.length > 0 && enforcement !== 'off';
    const [groups, listeners] = await Promise.all([enforced ? reader.securityGroups(groupIds) : [], enforced ? reader.listeners(loadBalancerArn) : []]);
    return decideNlbSecurityGroup({
      name: lb.LoadBalancerName ?? loadBalancerArn,
      groupIds,
      groups,
      enforcement,
      listenerPorts: [...new Set(listeners.flatMap((l) => (l.Port !== undefined ? [l.Port] : [])))],
    });
  },
};

// ---------------------------------------------------------------------------------------------
// db.max-connect-errors

/** Engines with MySQL's host cache: `aurora` is Aurora MySQL 5.6. */
export const MYSQL_ENGINES = ['mysql', 'mariadb', 'aurora-mysql', 'aurora'];
/** MySQL's and MariaDB's default since 5.6.6 / 10.0. */
export const DEFAULT_MAX_CONNECT_ERRORS = 100;
/** What the fix sets: with a check every 5 s, 680 years of health checks. */
export const RECOMMENDED_MAX_CONNECT_ERRORS = '4294967295';
/** Below a year of health checks at the target group's interval, the value fails. */
export const MIN_DAYS_OF_HEALTH_CHECKS = 365;
const PARAMETER = 'max_connect_errors';

export interface ConnectErrorsSetting {
  instance: DbInstanceFacts;
  value: number;
  /** Where the value comes from: `parameter group x`, `cluster parameter group y`, `engine default`. */
  source: string;
}

/**
 * MySQL counts a connection that closes before the handshake as an error of the client host, and
 * blocks the host after max_connect_errors of them. An NLB TCP health check is exactly that, so
 * each NLB node's address gets blocked after max_connect_errors health checks: the target turns
 * unhealthy and Fivetran's connections through that node fail ("Host ... is blocked").
 */
export function decideMaxConnectErrors(settings: ConnectErrorsSetting[], healthCheckIntervalSeconds: number): Verdict {
  const lasts = (value: number) => (value * healthCheckIntervalSeconds) / 86_400;
  const low = settings.filter((s) => lasts(s.value) < MIN_DAYS_OF_HEALTH_CHECKS);
  if (low.length === 0) {
    return pass(`${PARAMETER} ${list(settings.map((s) => `${s.value} on ${s.instance.id}`))}: NLB health checks never reach it`);
  }
  const duration = (value: number) => {
    const minutes = (value * healthCheckIntervalSeconds) / 60;
    return minutes < 120 ? `${Math.round(minutes)} min` : minutes < 2880 ? `${Math.round(minutes / 60)} h` : `${Math.round(minutes / 1440)} days`;
  };
  return fail(
    `${PARAMETER} is ${list(low.map((s) => `${s.value} on ${s.instance.id} (${s.source})`))}: MySQL blocks an NLB node's address after that many health checks that connect and close without a handshake, about ${duration(Math.min(...low.map((s) => s.value)))} at one check every ${healthCheckIntervalSeconds} s; then the target turns unhealthy and Fivetran's connections fail with "Host is blocked"`,
    low.map((s) => connectErrorsFix(s.instance)).join(' '),
  );
}

/** How to raise the value for one instance: its custom parameter group, or a new one (a default group cannot be changed). */
export function connectErrorsFix(i: DbInstanceFacts): string {
  const set = `"ParameterName=${PARAMETER},ParameterValue=${RECOMMENDED_MAX_CONNECT_ERRORS},ApplyMethod=immediate"`;
  // A Multi-AZ DB cluster takes its parameters from the cluster parameter group only.
  const clusterLevel = i.role !== 'instance' && !i.engine.startsWith('aurora');
  const kind = clusterLevel ? 'db-cluster-parameter-group' : 'db-parameter-group';
  const current = clusterLevel ? i.clusterParameterGroup : i.parameterGroup;
  if (current && !current.startsWith('default.')) {
    return `${i.id}: aws rds modify-${kind} --${kind}-name ${current} --parameters ${set} (dynamic: applies at once).`;
  }
  const family = current?.slice('default.'.length) || '<family, e.g. mysql8.0>';
  const name = `rds-nlb-sync-${family.replace(/[^a-zA-Z0-9]/g, '-')}`;
  const attach = clusterLevel
    ? `aws rds modify-db-cluster --db-cluster-identifier <cluster> --db-cluster-parameter-group-name ${name} --apply-immediately`
    : `aws rds modify-db-instance --db-instance-identifier ${i.id} --db-parameter-group-name ${name} --apply-immediately`;
  return (
    `${i.id} uses the default group ${current ?? ''}, which cannot be changed: aws rds create-${kind} --${kind}-name ${name} --${kind}-family ${family} --description "max_connect_errors for NLB health checks"; ` +
    `aws rds modify-${kind} --${kind}-name ${name} --parameters ${set}; ${attach}; then reboot it once for the new group to apply. Meanwhile "mysqladmin flush-hosts" (FLUSH HOSTS) unblocks the addresses.`
  );
}

/** The value that applies: the instance's parameter group, else its cluster's, else the engine default. */
async function effectiveSetting(i: DbInstanceFacts, reader: DoctorReader): Promise<ConnectErrorsSetting> {
  const own = i.parameterGroup ? await reader.dbParameter(i.parameterGroup, PARAMETER) : undefined;
  if (own !== undefined) return { instance: i, value: Number(own), source: `parameter group ${i.parameterGroup}` };
  const cluster = i.clusterParameterGroup ? await reader.clusterParameter(i.clusterParameterGroup, PARAMETER) : undefined;
  if (cluster !== undefined) return { instance: i, value: Number(cluster), source: `cluster parameter group ${i.clusterParameterGroup}` };
  return { instance: i, value: DEFAULT_MAX_CONNECT_ERRORS, source: 'engine default' };
}

export const maxConnectErrors: Check<Mapping> = {
  id: 'db.max-connect-errors',
  async run(m, { reader }) {
    const topology = await reader.dbTopology(m.endpoint);
    if (!topology.known) {
      return notChecked(topology.why, `For a MySQL or MariaDB database, make sure ${PARAMETER} is at least ${RECOMMENDED_MAX_CONNECT_ERRORS} (see db.max-connect-errors in the docs).`);
    }
    const mysql = topology.instances.filter((i) => MYSQL_ENGINES.includes(i.engine));
    if (mysql.length === 0) {
      return pass(`${topology.name} runs ${list([...new Set(topology.instances.map((i) => i.engine || 'an unknown engine'))])}: ${PARAMETER} does not apply`);
    }
    const interval = (await reader.targetGroup(m.targetGroupArn))?.HealthCheckIntervalSeconds ?? 5;
    return decideMaxConnectErrors(await Promise.all(mysql.map((i) => effectiveSetting(i, reader))), interval);
  },
};

export const DATABASE_CHECKS: Check<Mapping>[] = [dbSecurityGroups, maxConnectErrors];
