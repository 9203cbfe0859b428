// EC2 reads for linking Fivetran: one endpoint service's name and load balancers, and every
// connection to it in any state (lib/aws/endpoint-connections.ts lists only the pending ones,
// for accept). Named imports only, as there.
import { DescribeVpcEndpointServiceConfigurationsCommand, paginateDescribeVpcEndpointConnections, type EC2Client } from '@aws-sdk/client-ec2';

export interface EndpointServiceInfo {
  serviceId: string;
  /** com.amazonaws.vpce.<region>.vpce-svc-..., as EC2 names it. */
  serviceName: string;
  loadBalancerArns: string[];
  /** The account that owns the service, read from its NLB's ARN (no STS call needed). */
  account?: string;
}

export interface ConnectionInfo {
  endpointId: string;
  owner?: string;
  /** EC2's VpcEndpointState: pendingAcceptance, pending, available, rejected, ... */
  state: string;
}

export class EndpointServiceNotFoundError extends Error {
  override name = 'EndpointServiceNotFoundError';
}

export async function describeEndpointService(ec2: EC2Client, serviceId: string): Promise<EndpointServiceInfo> {
  const { ServiceConfigurations = [] } = await ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [serviceId] }));
  const service = ServiceConfigurations.find((s) => s.ServiceId === serviceId);
  if (!service?.ServiceName) throw new EndpointServiceNotFoundError(`no VPC endpoint service ${serviceId} in this account and region`);
  const loadBalancerArns = service.NetworkLoadBalancerArns ?? [];
  const account = loadBalancerArns[0]?.split(':')[4];
  return { serviceId, serviceName: service.ServiceName, loadBalancerArns, ...(account ? { account } : {}) };
}

/** Every connection to the service (all pages), optionally only those of some owners. */
export async function listConnections(ec2: EC2Client, serviceId: string, owners: readonly string[] = []): Promise<ConnectionInfo[]> {
  const filters = [{ Name: 'service-id', Values: [serviceId] }, ...(owners.length > 0 ? [{ Name: 'vpc-endpoint-owner', Values: [...owners] }] : [])];
  const found: ConnectionInfo[] = [];
  for await (const page of paginateDescribeVpcEndpointConnections({ client: ec2 }, { Filters: filters })) {
    for (const c of page.VpcEndpointConnections ?? []) {
      // Checked again: an emulator ignoring a filter must not widen what we report.
      if (!c.VpcEndpointId || c.ServiceId !== serviceId || (owners.length > 0 && !owners.includes(c.VpcEndpointOwner ?? ''))) continue;
      found.push({ endpointId: c.VpcEndpointId, state: c.VpcEndpointState ?? 'unknown', ...(c.VpcEndpointOwner ? { owner: c.VpcEndpointOwner } : {}) });
    }
  }
  return found;
}
