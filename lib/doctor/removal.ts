// doctor --removal: what would make `serverless remove` end in DELETE_FAILED, with the command that
// clears each. Read-only. The stack's PrivateLink side (createPrivateLink) is what AWS refuses to
// delete while something else holds on to it:
// - an endpoint service with connections that are available or pendingAcceptance (AWS: reject or
//   delete them first; Fivetran's Private Link keeps its endpoint, so delete that first);
// - the NLB's security group while another group's rule references it (DependencyViolation);
// - connection notifications made by hand on the service (the stack deletes only its own);
// - the NLB with deletion protection on.
// The stack's resources are found by the tag CloudFormation puts on what it creates
// (aws:cloudformation:stack-name), or given as load balancer ARNs; the endpoint services are the
// ones in front of those NLBs. Resources the stack did not create are left in place by a removal
// and block nothing.
import {
  paginateDescribeSecurityGroupRules,
  paginateDescribeSecurityGroups,
  paginateDescribeVpcEndpointConnectionNotifications,
  paginateDescribeVpcEndpointServiceConfigurations,
  type EC2Client,
  type SecurityGroupRule,
  type ServiceConfiguration,
} from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  paginateDescribeLoadBalancers,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { listConnections } from '../aws/endpoint-connections.js';
import { report, type DoctorReport } from './run.js';
import { couldNotTell, fail, isFatalAwsError, list, pass, type CheckResult, type Verdict } from './verdict.js';
import { DoctorAbortedError } from './run.js';

export interface RemovalInput {
  /** The serverless stage: the stack is `<service>-<stage>`, its connection topic `<service>-<stage>-connections`. */
  stage: string;
  /** The serverless service name (default rds-nlb-sync). */
  service?: string;
  /** NLBs to examine besides those tagged with the stack's name. */
  loadBalancerArns: string[];
}

export interface RemovalDeps {
  ec2: EC2Client;
  elb: ElasticLoadBalancingV2Client;
}

/** The description of the stack's own ingress rule in the database's group (DbIngressFromNlb): the stack deletes it. */
export const STACK_DB_RULE_DESCRIPTION = 'rds-nlb-sync NLB (Fivetran PrivateLink) - connections and health checks';
const STACK_TAG = 'aws:cloudformation:stack-name';
/** Connection states that make DeleteVpcEndpointServiceConfigurations fail. */
const HOLDING_STATES = ['pendingAcceptance', 'pending', 'available'];

export async function runRemovalPreflight(input: RemovalInput, deps: RemovalDeps): Promise<DoctorReport> {
  const service = input.service ?? 'rds-nlb-sync';
  const stackName = `${service}-${input.stage}`;
  const topicSuffix = `:${service}-${input.stage}-connections`;
  const results: CheckResult[] = [];
  const add = async (id: string, subject: string, run: () => Promise<Verdict>) => {
    let verdict: Verdict;
    try {
      verdict = await run();
    } catch (err) {
      if (isFatalAwsError(err)) throw new DoctorAbortedError(`doctor cannot read AWS: ${(err as Error).message}`, { cause: err });
      // Unknown is not clear: a read that failed fails the preflight (doctor's chain checks only warn).
      verdict = { ...couldNotTell(err), status: 'fail' };
    }
    results.push({ id, subject, ...verdict });
  };

  let loadBalancerArns: string[] = [];
  await add('removal.stack', `stack ${stackName}`, async () => {
    const tagged = await loadBalancersOfStack(deps.elb, stackName);
    loadBalancerArns = [...new Set([...input.loadBalancerArns, ...tagged])];
    if (loadBalancerArns.length === 0) {
      return pass(`no load balancer tagged ${STACK_TAG}=${stackName}: the stack has no PrivateLink side (createPrivateLink off), nothing here blocks its removal`);
    }
    return pass(`load balancer(s) to clear before the removal: ${list(loadBalancerArns.map(shortName))}`);
  });

  const services = loadBalancerArns.length > 0 ? await serviceConfigurations(deps.ec2).catch((err: unknown) => err as Error) : [];
  for (const arn of loadBalancerArns) {
    const lbLabel = `load balancer ${shortName(arn)}`;
    await add('removal.deletion-protection', lbLabel, () => deletionProtection(deps.elb, arn));
    await add('removal.security-group-references', lbLabel, () => securityGroupReferences(deps, arn));
    if (services instanceof Error) {
      // Unknown is not "no connections": the check says it could not tell.
      await add('removal.connections', lbLabel, () => Promise.reject(services));
      continue;
    }
    for (const svc of services.filter((s) => s.NetworkLoadBalancerArns?.includes(arn))) {
      const serviceId = svc.ServiceId ?? '';
      const label = `endpoint service ${serviceId}`;
      await add('removal.connections', label, () => connectionsHolding(deps.ec2, serviceId));
      await add('removal.connection-notifications', label, () => handMadeNotifications(deps.ec2, serviceId, topicSuffix));
    }
  }
  return report(results);
}

async function deletionProtection(elb: ElasticLoadBalancingV2Client, arn: string): Promise<Verdict> {
  const { Attributes = [] } = await elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }));
  const on = Attributes.find((a) => a.Key === 'deletion_protection.enabled')?.Value === 'true';
  if (!on) return pass('deletion protection is off');
  return fail(
    'deletion protection is on: CloudFormation cannot delete the load balancer',
    `aws elbv2 modify-load-balancer-attributes --load-balancer-arn ${arn} --attributes Key=deletion_protection.enabled,Value=false`,
  );
}

/** Rules of other groups that name the NLB's groups: each makes the group's deletion fail (DependencyViolation). */
async function securityGroupReferences(deps: RemovalDeps, arn: string): Promise<Verdict> {
  const { LoadBalancers = [] } = await deps.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }));
  const ownGroups = LoadBalancers[0]?.SecurityGroups ?? [];
  if (ownGroups.length === 0) return pass('the load balancer has no security group');
  const blocking: SecurityGroupRule[] = [];
  for (const groupId of ownGroups) {
    const referencing = new Set<string>();
    // The stack's own rule in the database's group goes with the stack: known by its description,
    // read from the group's permissions too (DescribeSecurityGroupRules may leave it out: moto does).
    const stackRules = new Set<string>();
    for (const filter of ['ip-permission.group-id', 'egress.ip-permission.group-id']) {
      for await (const page of paginateDescribeSecurityGroups({ client: deps.ec2 }, { Filters: [{ Name: filter, Values: [groupId] }] })) {
        for (const g of page.SecurityGroups ?? []) {
          if (!g.GroupId || g.GroupId === groupId) continue;
          referencing.add(g.GroupId);
          for (const p of g.IpPermissions ?? []) {
            if (p.UserIdGroupPairs?.some((pair) => pair.GroupId === groupId && pair.Description === STACK_DB_RULE_DESCRIPTION)) {
              stackRules.add(ruleKey(g.GroupId, p.IpProtocol, p.FromPort, p.ToPort));
            }
          }
        }
      }
    }
    if (referencing.size === 0) continue;
    for await (const page of paginateDescribeSecurityGroupRules({ client: deps.ec2 }, { Filters: [{ Name: 'group-id', Values: [...referencing] }] })) {
      for (const rule of page.SecurityGroupRules ?? []) {
        if (rule.ReferencedGroupInfo?.GroupId !== groupId) continue;
        const own = rule.Description === STACK_DB_RULE_DESCRIPTION || stackRules.has(ruleKey(rule.GroupId, rule.IpProtocol, rule.FromPort, rule.ToPort));
        if (!rule.IsEgress && own) continue;
        blocking.push(rule);
      }
    }
  }
  if (blocking.length === 0) return pass(`no other security group's rule references ${list(ownGroups)}`);
  const commands = blocking.map(
    (r) => `aws ec2 revoke-security-group-${r.IsEgress ? 'egress' : 'ingress'} --group-id ${r.GroupId} --security-group-rule-ids ${r.SecurityGroupRuleId}`,
  );
  const what = blocking.map((r) => `${r.SecurityGroupRuleId} in ${r.GroupId} (${r.IsEgress ? 'outbound' : 'inbound'}${r.Description ? `, "${r.Description}"` : ''})`);
  return fail(
    `${blocking.length} rule(s) of other security groups reference the NLB's group ${list(ownGroups)}, so it cannot be deleted: ${list(what)}`,
    `remove them (or point them elsewhere): ${commands.join('; ')}`,
  );
}

async function connectionsHolding(ec2: EC2Client, serviceId: string): Promise<Verdict> {
  const connections = (await listConnections(ec2, serviceId, { states: HOLDING_STATES })).filter((c) => HOLDING_STATES.includes(c.state));
  if (connections.length === 0) return pass('no connection is pendingAcceptance, pending or available');
  const ids = connections.map((c) => c.endpointId);
  return fail(
    `${connections.length} endpoint connection(s) keep the endpoint service: ${list(connections.map((c) => `${c.endpointId} (${c.state}, account ${c.owner})`))}`,
    `first delete Fivetran's Private Link (rds-nlb-sync fivetran unlink, docs/deploy.md "Remove"), then reject what is left: ` +
      `aws ec2 reject-vpc-endpoint-connections --service-id ${serviceId} --vpc-endpoint-ids ${ids.join(' ')}`,
  );
}

async function handMadeNotifications(ec2: EC2Client, serviceId: string, stackTopicSuffix: string): Promise<Verdict> {
  const foreign: { id: string; arn: string }[] = [];
  for await (const page of paginateDescribeVpcEndpointConnectionNotifications({ client: ec2 }, { Filters: [{ Name: 'service-id', Values: [serviceId] }] })) {
    for (const n of page.ConnectionNotificationSet ?? []) {
      if (n.ServiceId !== serviceId || n.ConnectionNotificationArn?.endsWith(stackTopicSuffix)) continue;
      foreign.push({ id: n.ConnectionNotificationId ?? '', arn: n.ConnectionNotificationArn ?? '' });
    }
  }
  if (foreign.length === 0) return pass('only the stack\'s own connection notification');
  return fail(
    `${foreign.length} connection notification(s) made outside the stack: ${list(foreign.map((n) => `${n.id} -> ${n.arn}`))}`,
    `aws ec2 delete-vpc-endpoint-connection-notifications --connection-notification-ids ${foreign.map((n) => n.id).join(' ')}`,
  );
}

async function loadBalancersOfStack(elb: ElasticLoadBalancingV2Client, stackName: string): Promise<string[]> {
  const arns: string[] = [];
  for await (const page of paginateDescribeLoadBalancers({ client: elb }, {})) {
    for (const lb of page.LoadBalancers ?? []) if (lb.Type === 'network' && lb.LoadBalancerArn) arns.push(lb.LoadBalancerArn);
  }
  const ours: string[] = [];
  // DescribeTags takes at most 20 ARNs.
  for (let i = 0; i < arns.length; i += 20) {
    const { TagDescriptions = [] } = await elb.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of TagDescriptions) if (d.ResourceArn && d.Tags?.some((t) => t.Key === STACK_TAG && t.Value === stackName)) ours.push(d.ResourceArn);
  }
  return ours;
}

async function serviceConfigurations(ec2: EC2Client): Promise<ServiceConfiguration[]> {
  const services: ServiceConfiguration[] = [];
  for await (const page of paginateDescribeVpcEndpointServiceConfigurations({ client: ec2 }, {})) services.push(...(page.ServiceConfigurations ?? []));
  return services;
}

const ruleKey = (groupId?: string, protocol?: string, from?: number, to?: number) => `${groupId}|${protocol}|${from}|${to}`;
const shortName = (arn: string) => arn.split('/').slice(-2, -1)[0] ?? arn;
