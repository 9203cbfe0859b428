// EC2 adapter for a VPC endpoint service's connections: list the pending ones, accept or reject
// them, and find the services in front of a load balancer. No decisions here (see lib/accept/).
// Named imports only: the EC2 client is large and esbuild drops the commands we do not import.
import {
  AcceptVpcEndpointConnectionsCommand,
  paginateDescribeVpcEndpointConnections,
  paginateDescribeVpcEndpointServiceConfigurations,
  RejectVpcEndpointConnectionsCommand,
  type EC2Client,
  type UnsuccessfulItem,
} from '@aws-sdk/client-ec2';
import { describeError } from '../log.js';

export const PENDING_ACCEPTANCE = 'pendingAcceptance';

export interface PendingConnection {
  serviceId: string;
  endpointId: string;
  /** The consumer's account ID; undefined when EC2 did not say. */
  owner?: string;
}

export interface ConnectionFailure {
  endpointId: string;
  code: string;
  message: string;
}

export interface ConnectionsChanged {
  /** Endpoint IDs EC2 did not list as unsuccessful. */
  done: string[];
  failed: ConnectionFailure[];
}

export interface ConnectionInfo {
  endpointId: string;
  /** The consumer's account ID; undefined when EC2 did not say. */
  owner?: string;
  /** EC2's VpcEndpointState: pendingAcceptance, pending, available, rejected, ... */
  state: string;
  created?: Date;
}

export interface ConnectionFilter {
  /** Only these states (EC2's vpc-endpoint-state filter). */
  states?: readonly string[];
  /** Only these consumer accounts (EC2's vpc-endpoint-owner filter). */
  owners?: readonly string[];
}

/** Connections of one endpoint service across all pages: accept, the Fivetran link and doctor read them here. */
export async function listConnections(ec2: EC2Client, serviceId: string, { states = [], owners = [] }: ConnectionFilter = {}): Promise<ConnectionInfo[]> {
  const filters = [
    { Name: 'service-id', Values: [serviceId] },
    ...(states.length > 0 ? [{ Name: 'vpc-endpoint-state', Values: [...states] }] : []),
    ...(owners.length > 0 ? [{ Name: 'vpc-endpoint-owner', Values: [...owners] }] : []),
  ];
  // Case-insensitive: EC2 returns "pendingAcceptance", the SDK's State type says "PendingAcceptance".
  const wantedStates = new Set(states.map((state) => state.toLowerCase()));
  const found: ConnectionInfo[] = [];
  for await (const page of paginateDescribeVpcEndpointConnections({ client: ec2 }, { Filters: filters })) {
    for (const c of page.VpcEndpointConnections ?? []) {
      // Checked again here: an emulator ignoring a filter must never widen what we act on or report.
      if (!c.VpcEndpointId || c.ServiceId !== serviceId) continue;
      if (wantedStates.size > 0 && !wantedStates.has(c.VpcEndpointState?.toLowerCase() ?? '')) continue;
      if (owners.length > 0 && !owners.includes(c.VpcEndpointOwner ?? '')) continue;
      found.push({
        endpointId: c.VpcEndpointId,
        state: c.VpcEndpointState ?? 'unknown',
        ...(c.VpcEndpointOwner ? { owner: c.VpcEndpointOwner } : {}),
        ...(c.CreationTimestamp ? { created: c.CreationTimestamp } : {}),
      });
    }
  }
  return found;
}

/** Connections of one endpoint service waiting in pendingAcceptance, across all pages. */
export async function listPendingConnections(ec2: EC2Client, serviceId: string): Promise<PendingConnection[]> {
  const pending = await listConnections(ec2, serviceId, { states: [PENDING_ACCEPTANCE] });
  return pending.map(({ endpointId, owner }) => ({ serviceId, endpointId, ...(owner ? { owner } : {}) }));
}

/**
 * One AcceptVpcEndpointConnections call. EC2 answers 200 even when some endpoints were not
 * accepted; those come back in `Unsuccessful` and are failures, not successes.
 */
export async function acceptConnections(ec2: EC2Client, serviceId: string, endpointIds: string[]): Promise<ConnectionsChanged> {
  const out = await ec2.send(new AcceptVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: endpointIds }));
  return splitUnsuccessful(endpointIds, out.Unsuccessful);
}

/** One RejectVpcEndpointConnections call; `Unsuccessful` entries are failures, as for accept. */
export async function rejectConnections(ec2: EC2Client, serviceId: string, endpointIds: string[]): Promise<ConnectionsChanged> {
  const out = await ec2.send(new RejectVpcEndpointConnectionsCommand({ ServiceId: serviceId, VpcEndpointIds: endpointIds }));
  return splitUnsuccessful(endpointIds, out.Unsuccessful);
}

/** Every endpoint of a call that threw (network, permissions, throttled past the retries) failed. */
export function failAll(endpointIds: string[], err: unknown): ConnectionFailure[] {
  const { name, message } = describeError(err);
  return endpointIds.map((endpointId) => ({ endpointId, code: name, message }));
}

function splitUnsuccessful(endpointIds: string[], unsuccessful: UnsuccessfulItem[] = []): ConnectionsChanged {
  const reason = (item: UnsuccessfulItem) => ({
    code: item.Error?.Code ?? 'Unsuccessful',
    message: item.Error?.Message ?? 'listed in Unsuccessful without a reason',
  });
  // An item that names no endpoint could be any of them: none counts as done (unknown is not success).
  const anonymous = unsuccessful.find((item) => !item.ResourceId || !endpointIds.includes(item.ResourceId));
  if (anonymous) {
    const { code, message } = reason(anonymous);
    const why = `${message} (EC2 listed a failure without naming which requested endpoint it was)`;
    const named = new Map(unsuccessful.flatMap((item) => (item.ResourceId ? [[item.ResourceId, reason(item)] as const] : [])));
    return { done: [], failed: endpointIds.map((endpointId) => ({ endpointId, ...(named.get(endpointId) ?? { code, message: why }) })) };
  }
  const failed = unsuccessful.map((item) => ({ endpointId: item.ResourceId ?? '', ...reason(item) }));
  const failedIds = new Set(failed.map((f) => f.endpointId));
  return { done: endpointIds.filter((id) => !failedIds.has(id)), failed };
}

/**
 * This account's endpoint services in the region, each with its load balancers. Unfiltered on
 * purpose: EC2 lists only the caller's own services, so an ID missing here is unknown or not ours.
 */
export async function listOwnServices(ec2: EC2Client): Promise<Map<string, string[]>> {
  const services = new Map<string, string[]>();
  for await (const page of paginateDescribeVpcEndpointServiceConfigurations({ client: ec2 }, {})) {
    for (const service of page.ServiceConfigurations ?? []) {
      if (service.ServiceId) services.set(service.ServiceId, service.NetworkLoadBalancerArns ?? []);
    }
  }
  return services;
}

/**
 * The endpoint services in front of each load balancer. DescribeVpcEndpointServiceConfigurations has
 * no load-balancer filter, so every page of our services is read and matched on NetworkLoadBalancerArns.
 */
export async function findServicesForLoadBalancers(ec2: EC2Client, loadBalancerArns: string[]): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>(loadBalancerArns.map((arn) => [arn, []]));
  for (const [serviceId, arns] of await listOwnServices(ec2)) {
    for (const arn of arns) found.get(arn)?.push(serviceId);
  }
  return found;
}
