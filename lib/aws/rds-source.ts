// The RDS reads that tie an RDS event's source to the mappings it concerns: Aurora instance names
// need not start with their cluster's name, a custom endpoint's name is not its cluster's, and a
// blue/green deployment names neither. One call each; a resource RDS does not know is undefined.
import {
  DescribeBlueGreenDeploymentsCommand,
  DescribeDBClusterEndpointsCommand,
  DescribeDBInstancesCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';

const NOT_FOUND = new Set(['DBInstanceNotFoundFault', 'DBInstanceNotFound', 'DBClusterNotFoundFault', 'BlueGreenDeploymentNotFoundFault']);

async function orUndefinedIfNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (NOT_FOUND.has((err as Error).name)) return undefined;
    throw err;
  }
}

/** The cluster an instance belongs to (DescribeDBInstances -> DBClusterIdentifier); undefined for a standalone instance. */
export async function clusterOfInstance(rds: RDSClient, instanceId: string): Promise<string | undefined> {
  const out = await orUndefinedIfNotFound(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instanceId })));
  return out?.DBInstances?.[0]?.DBClusterIdentifier?.toLowerCase();
}

/** The cluster of a custom endpoint, by the endpoint's name (the first label of its DNS name). */
export async function clusterOfCustomEndpoint(rds: RDSClient, endpointName: string): Promise<string | undefined> {
  const out = await orUndefinedIfNotFound(rds.send(new DescribeDBClusterEndpointsCommand({ DBClusterEndpointIdentifier: endpointName })));
  return out?.DBClusterEndpoints?.[0]?.DBClusterIdentifier?.toLowerCase();
}

/** Every resource ARN of a blue/green deployment: source and target, and each switchover member. */
export async function blueGreenMembers(rds: RDSClient, deploymentId: string): Promise<string[]> {
  const out = await orUndefinedIfNotFound(rds.send(new DescribeBlueGreenDeploymentsCommand({ BlueGreenDeploymentIdentifier: deploymentId })));
  const d = out?.BlueGreenDeployments?.[0];
  if (!d) return [];
  const arns = [d.Source, d.Target, ...(d.SwitchoverDetails ?? []).flatMap((s) => [s.SourceMember, s.TargetMember])];
  return [...new Set(arns.filter((a): a is string => Boolean(a)))];
}

/** The three reads as the event matcher takes them (lib/sync/event.ts RdsLookup). */
export const rdsLookup = (rds: RDSClient) => ({
  clusterOfInstance: (id: string) => clusterOfInstance(rds, id),
  clusterOfCustomEndpoint: (name: string) => clusterOfCustomEndpoint(rds, name),
  blueGreenMembers: (id: string) => blueGreenMembers(rds, id),
});
