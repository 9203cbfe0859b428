// Doctor checks for the deployed service: the two functions exist and are active, can reach the
// AWS APIs from their subnets, and the sync function's heartbeat says its last run succeeded.
import type { NatGateway, RouteTable, VpcEndpoint } from '@aws-sdk/client-ec2';
import type { FunctionConfiguration } from '@aws-sdk/client-lambda';
import type { Mapping } from '../config.js';
import { isMemberSet } from '../rds-endpoint.js';
import type { AccountConcurrency, HeartbeatPoint } from './read.js';
import { fail, list, notChecked, pass, warn, type Verdict, type Check, type DoctorContext } from './verdict.js';

export type FunctionRole = 'sync' | 'accept';

export interface FunctionSubject {
  role: FunctionRole;
  /** The deployed function's name; undefined when the operator did not say. */
  name?: string;
}

/** The APIs each function calls, as interface VPC endpoint service suffixes. */
export const API_NEEDS: Record<FunctionRole, string[]> = {
  sync: ['elasticloadbalancing', 'monitoring'],
  accept: ['ec2', 'monitoring'],
};

/**
 * The APIs the function calls for these mappings: sync lists a reader or custom endpoint's
 * members with the RDS API (issue 10), so it needs `rds` too when such a mapping exists.
 */
export function apiNeeds(role: FunctionRole, mappings: readonly Pick<Mapping, 'endpoint'>[]): string[] {
  const memberSets = role === 'sync' && mappings.some((m) => isMemberSet(m.endpoint));
  return [...API_NEEDS[role], ...(memberSets ? ['rds'] : [])];
}

/** The sync function's reserved concurrency as deployed (serverless.yml): one run at a time. */
export const SYNC_RESERVED_CONCURRENCY = 1;
/** Lambda refuses a reservation that leaves fewer unreserved executions than this. */
export const MIN_UNRESERVED_CONCURRENCY = 100;
/** Fewer spare executions than this above the minimum: the next reservation anywhere breaks deploys. */
export const CONCURRENCY_MARGIN = 10;

/** The heartbeat window: the schedule runs every minute, so 15 minutes without one is an outage. */
export const HEARTBEAT_MINUTES = 15;

// ---------------------------------------------------------------------------------------------
// function.sync, function.accept

/** function.<role> and function.<role>.network for one of the two functions; account.concurrency with sync. */
export const functionChecks = (role: FunctionRole, mappings: readonly Pick<Mapping, 'endpoint'>[] = []): Check<FunctionSubject>[] => [
  { id: `function.${role}`, run: checkFunction },
  { id: `function.${role}.network`, run: (subject, ctx) => checkNetwork(subject, ctx, apiNeeds(role, mappings)) },
  ...(role === 'sync' ? [accountConcurrency] : []),
];

async function checkFunction({ role, name }: FunctionSubject, { reader, region }: DoctorContext): Promise<Verdict> {
  if (!name) return notChecked(`no ${role} function named`, `Name it: --${role}-function <name> or --stage <stage> (serverless names it rds-nlb-sync-<stage>-${role}).`);
  return decideFunction(name, await reader.functionConfiguration(name), region);
}

export function decideFunction(name: string, config: FunctionConfiguration | undefined, region: string): Verdict {
  if (!config) return fail(`${name} not found in ${region}`, 'Deploy the service (npx serverless deploy --stage <stage>), or check the function name and --region.');
  const state = config.State ?? 'Active';
  if (state === 'Failed') return fail(`${name} is in state Failed: ${config.StateReason ?? 'no reason given'}`, 'Fix the reason above and deploy again.');
  if (config.LastUpdateStatus === 'Failed') {
    return fail(`${name}'s last update failed: ${config.LastUpdateStatusReason ?? 'no reason given'}`, 'Fix the reason above and deploy again.');
  }
  if (state !== 'Active') return warn(`${name} is ${state}`, 'An Inactive function wakes on its next invoke; a Pending one is still being created.');
  return pass(`${name} is Active (${config.Runtime ?? 'runtime unknown'})`);
}

// ---------------------------------------------------------------------------------------------
// function.sync.network, function.accept.network

async function checkNetwork({ role, name }: FunctionSubject, { reader, region }: DoctorContext, needs: string[]): Promise<Verdict> {
  if (!name) return notChecked(`no ${role} function named`);
  const config = await reader.functionConfiguration(name);
  if (!config) return notChecked(`function not found (function.${role})`);
  const subnetIds = config.VpcConfig?.SubnetIds ?? [];
  if (subnetIds.length === 0) return pass('not in a VPC: reaches the AWS APIs directly');
  // GetFunctionConfiguration names the VPC, but the emulator does not: ask the subnets.
  const vpcId = config.VpcConfig?.VpcId || (await reader.subnets(subnetIds))[0]?.vpcId;
  if (!vpcId) return notChecked(`could not find the VPC of subnets ${list(subnetIds)}`);
  const [tables, nats, endpoints] = await Promise.all([reader.routeTables(vpcId), reader.natGateways(vpcId), reader.vpcEndpoints(vpcId)]);
  return decideNetwork({
    subnets: subnetIds.map((subnetId) => ({ subnetId, route: defaultRoute(subnetId, tables, nats) })),
    endpoints: interfaceEndpoints(endpoints, region),
    needs,
    region,
  });
}

/** Where a subnet's internet-bound traffic goes. */
export type DefaultRoute =
  | { kind: 'nat'; natGatewayId: string }
  | { kind: 'internet-gateway' }
  | { kind: 'none'; why: string }
  | { kind: 'other'; via: string };

/** The subnet's route table (its own association, else the VPC's main table) and its 0.0.0.0/0 route. */
export function defaultRoute(subnetId: string, tables: RouteTable[], nats: NatGateway[]): DefaultRoute {
  const table =
    tables.find((t) => t.Associations?.some((a) => a.SubnetId === subnetId)) ?? tables.find((t) => t.Associations?.some((a) => a.Main));
  const route = table?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0');
  if (!route) return { kind: 'none', why: `no default route in ${table?.RouteTableId ?? 'its route table'}` };
  if (route.State === 'blackhole') return { kind: 'none', why: `the default route in ${table?.RouteTableId} is a blackhole` };
  if (route.NatGatewayId) {
    const nat = nats.find((n) => n.NatGatewayId === route.NatGatewayId);
    if (nat?.State !== 'available') return { kind: 'none', why: `NAT gateway ${route.NatGatewayId} is ${nat?.State ?? 'gone'}` };
    return { kind: 'nat', natGatewayId: route.NatGatewayId };
  }
  if (route.GatewayId?.startsWith('igw-')) return { kind: 'internet-gateway' };
  const via = route.TransitGatewayId ?? route.NetworkInterfaceId ?? route.InstanceId ?? route.VpcPeeringConnectionId ?? route.GatewayId ?? 'unknown';
  return { kind: 'other', via };
}

/** Suffixes (`monitoring`, `ec2`, ...) of the VPC's usable interface endpoints: available, with private DNS. */
export function interfaceEndpoints(endpoints: VpcEndpoint[], region: string): string[] {
  const prefix = `com.amazonaws.${region}.`;
  return endpoints
    .filter((e) => e.VpcEndpointType === 'Interface' && e.State?.toLowerCase() === 'available' && e.PrivateDnsEnabled && e.ServiceName?.startsWith(prefix))
    .map((e) => (e.ServiceName ?? '').slice(prefix.length));
}

export interface NetworkFacts {
  subnets: { subnetId: string; route: DefaultRoute }[];
  endpoints: string[];
  needs: string[];
  region: string;
}

/**
 * A function in a VPC reaches an AWS API through an interface endpoint with private DNS (from any
 * subnet of the VPC), or through a NAT gateway. Never through an internet gateway: a Lambda
 * network interface has no public IP.
 */
export function decideNetwork(f: NetworkFacts): Verdict {
  const missing = f.needs.filter((api) => !f.endpoints.includes(api));
  if (missing.length === 0) return pass(`interface VPC endpoints with private DNS for ${list(f.needs)}`);
  const missingNames = list(missing.map((api) => `com.amazonaws.${f.region}.${api}`));
  const broken = f.subnets.filter((s) => s.route.kind === 'none' || s.route.kind === 'internet-gateway');
  if (broken.length > 0) {
    const why = (r: DefaultRoute) => (r.kind === 'none' ? r.why : 'only an internet gateway, which gives a Lambda no internet access (no public IP)');
    return fail(
      `cannot reach ${list(missing)} from ${list(broken.map((s) => `${s.subnetId} (${why(s.route)})`))}`,
      `Route 0.0.0.0/0 of these subnets to a NAT gateway, or create interface VPC endpoints with private DNS for ${missingNames}.`,
    );
  }
  const unknown = f.subnets.filter((s) => s.route.kind === 'other');
  if (unknown.length > 0) {
    const via = (r: DefaultRoute) => (r.kind === 'other' ? r.via : '');
    return warn(
      `could not tell whether ${list(unknown.map((s) => `${s.subnetId} (default route via ${via(s.route)})`))} reaches ${list(missing)}`,
      `Make sure that route leads to the internet through a NAT, or create interface VPC endpoints for ${missingNames}.`,
    );
  }
  const nats = [...new Set(f.subnets.flatMap((s) => (s.route.kind === 'nat' ? [s.route.natGatewayId] : [])))];
  return pass(`every subnet routes 0.0.0.0/0 to NAT gateway ${list(nats)}${f.endpoints.length > 0 ? `; interface endpoints for ${list(f.endpoints)}` : ''}`);
}

// ---------------------------------------------------------------------------------------------
// account.concurrency

export const accountConcurrency: Check<FunctionSubject> = {
  id: 'account.concurrency',
  async run({ name }, { reader }) {
    const [account, reserved] = await Promise.all([reader.accountConcurrency(), name ? reader.reservedConcurrency(name) : undefined]);
    return decideConcurrency(account, reserved ?? 0, SYNC_RESERVED_CONCURRENCY);
  },
};

/**
 * Lambda keeps at least 100 executions of the account unreserved: a reservation that would leave
 * fewer fails, and with it the deploy (new accounts often have a limit of 10). `reserved`: what the
 * sync function holds already (counted out of `unreserved`); `wanted`: what the deployment asks.
 */
export function decideConcurrency(account: AccountConcurrency, reserved: number, wanted: number): Verdict {
  const after = account.unreserved - Math.max(0, wanted - reserved);
  const quotaFix =
    'Ask for a higher Lambda concurrency quota: aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value 1000; or deploy without the reservation (the deployment\'s reserved concurrency parameter), and never run the CLI\'s sync beside the function.';
  const summary = `account limit ${account.limit}, ${account.unreserved} unreserved`;
  if (after < MIN_UNRESERVED_CONCURRENCY) {
    return fail(
      `reserving ${wanted} for the sync function would leave ${after} unreserved executions; Lambda requires ${MIN_UNRESERVED_CONCURRENCY} (${summary}): the deploy fails`,
      quotaFix,
    );
  }
  const held = reserved >= wanted ? `the sync function holds its reserved concurrency (${reserved})` : `reserving ${wanted} for the sync function leaves ${after} unreserved`;
  if (after < MIN_UNRESERVED_CONCURRENCY + CONCURRENCY_MARGIN) {
    return warn(
      `${held}: ${after - MIN_UNRESERVED_CONCURRENCY} above Lambda's minimum of ${MIN_UNRESERVED_CONCURRENCY} (${summary}); one more reservation in the account and deploys start failing`,
      quotaFix,
    );
  }
  return pass(`${held} (${summary})`);
}

// ---------------------------------------------------------------------------------------------
// sync.heartbeat

export const heartbeat: Check<string> = {
  id: 'sync.heartbeat',
  run: async (namespace, { reader, now }) => decideHeartbeat(await reader.heartbeat(namespace, HEARTBEAT_MINUTES), namespace, now()),
};

/** `points`: newest first. Each minute's SampleCount is how many runs reported, its Sum how many succeeded. */
export function decideHeartbeat(points: HeartbeatPoint[], namespace: string, now: number): Verdict {
  const latest = points[0];
  if (!latest) {
    return fail(
      `no SyncSuccess in namespace ${namespace} for ${HEARTBEAT_MINUTES} minutes: the sync function has not finished a run`,
      'Check that the sync function is deployed and scheduled (function.sync) and read its log; `rds-nlb-sync sync --local` runs the same pass from here and shows any error.',
    );
  }
  const ago = `${Math.max(0, Math.round((now - latest.time.getTime()) / 60_000))} min ago`;
  if (latest.successes < latest.runs) {
    return fail(
      `the last sync run failed (${latest.time.toISOString()}, ${ago}: ${latest.runs - latest.successes} of ${latest.runs} runs in that minute)`,
      'Read the "sync run" log line of the sync function (errors per mapping), or run `rds-nlb-sync sync --local` to see the same error here.',
    );
  }
  const runs = points.reduce((n, p) => n + p.runs, 0);
  return pass(`last run succeeded ${ago} (${runs} run${runs === 1 ? '' : 's'} in ${HEARTBEAT_MINUTES} minutes)`);
}
