// The ELBv2 adapter: read, register and deregister IP targets of one target group.
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  type ElasticLoadBalancingV2Client,
  type TargetDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { RegisteredTarget } from '../sync/plan.js';

/** Every registered target with its health state (DescribeTargetHealth is not paginated). */
export async function describeTargets(elb: ElasticLoadBalancingV2Client, targetGroupArn: string): Promise<RegisteredTarget[]> {
  const out = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  return (out.TargetHealthDescriptions ?? []).flatMap(({ Target, TargetHealth }) =>
    Target?.Id && Target.Port !== undefined
      ? [
          {
            ip: Target.Id,
            port: Target.Port,
            state: TargetHealth?.State ?? 'unavailable',
            ...(Target.AvailabilityZone ? { availabilityZone: Target.AvailabilityZone } : {}),
            ...(TargetHealth?.Reason ? { reason: TargetHealth.Reason } : {}),
            ...(TargetHealth?.Description ? { description: TargetHealth.Description } : {}),
          },
        ]
      : [],
  );
}

/** `availabilityZone: "all"` registers an address outside the load balancer's VPC (peered or on-premises). */
export async function registerTargets(
  elb: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
  ips: string[],
  port: number,
  availabilityZone?: string,
): Promise<void> {
  if (ips.length === 0) return;
  const Targets: TargetDescription[] = ips.map((Id) => ({ Id, Port: port, ...(availabilityZone ? { AvailabilityZone: availabilityZone } : {}) }));
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets }));
}

/**
 * Deregisters with the AZ each target was registered with, as the API expects. Sent ONCE (rule 11):
 * the decision was made on a read that a retry, seconds later, would no longer match (rule 8's
 * bound, lib/sync/overlap.ts), and a failed attempt may have been carried out. A failure fails the
 * mapping; the next run decides again from a fresh read.
 */
export async function deregisterTargets(elb: ElasticLoadBalancingV2Client, targetGroupArn: string, targets: RegisteredTarget[]): Promise<void> {
  if (targets.length === 0) return;
  const Targets: TargetDescription[] = targets.map((t) => ({
    Id: t.ip,
    Port: t.port,
    ...(t.availabilityZone ? { AvailabilityZone: t.availabilityZone } : {}),
  }));
  const command = new DeregisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets });
  // The client's retry loop (finalizeRequest, high priority) stops when the call's abort signal is
  // set: a middleware inside the loop sets it when the first attempt fails, so the loop rethrows
  // that attempt's error instead of retrying. Other calls of the client keep their retries.
  const once = new AbortController();
  command.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        once.abort();
        throw err;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'deregisterOnce' },
  );
  await elb.send(command, { abortSignal: once.signal });
}
