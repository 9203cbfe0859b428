// EC2 read for linking Fivetran: one endpoint service's name, load balancers and account (its
// connections are listed by lib/aws/endpoint-connections.ts). Named imports only, as there.
import { DescribeVpcEndpointServiceConfigurationsCommand, type EC2Client } from '@aws-sdk/client-ec2';

export interface EndpointServiceInfo {
  serviceId: string;
  /** com.amazonaws.vpce.<region>.vpce-svc-..., as EC2 names it. */
  serviceName: string;
  loadBalancerArns: string[];
  /** The account that owns the service, read from its NLB's ARN (no STS call needed). */
  account?: string;
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
