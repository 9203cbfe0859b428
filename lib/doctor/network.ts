// nlb.idle-timeout and vpc.dns: what a long query and the VPC's own DNS need from the network.
import type { Mapping } from '../config.js';
import { networkLoadBalancers } from './chain.js';
import type { Attributes } from './read.js';
import { list, notChecked, pass, warn, worstOf, type Check, type Verdict } from './verdict.js';

/** ELB's default TCP idle timeout for NLB listeners (ELB docs, "Update the TCP idle timeout"). */
export const ELB_DEFAULT_IDLE_TIMEOUT_S = 350;
/** What the stack sets by default (deploy parameter nlbIdleTimeoutSeconds). */
export const RECOMMENDED_IDLE_TIMEOUT_S = 3600;

export const nlbIdleTimeout: Check<Mapping> = {
  id: 'nlb.idle-timeout',
  async run(m, { reader }) {
    const lbs = await networkLoadBalancers(m, reader);
    if (lbs.length === 0) return notChecked('no Network Load Balancer forwards to the target group (nlb.attached)');
    const verdicts: Verdict[] = [];
    for (const lb of lbs) {
      const listeners = (await reader.listeners(lb.LoadBalancerArn ?? '')).filter((l) =>
        (l.DefaultActions ?? []).some((a) => a.TargetGroupArn === m.targetGroupArn || a.ForwardConfig?.TargetGroups?.some((g) => g.TargetGroupArn === m.targetGroupArn)),
      );
      for (const l of listeners) verdicts.push(decideIdleTimeout(l.ListenerArn ?? '', l.Port, await reader.listenerAttributes(l.ListenerArn ?? '')));
    }
    return verdicts.length > 0 ? worstOf(verdicts) : notChecked('no listener forwards to the target group (nlb.attached)');
  },
};

/** A TCP listener's idle timeout: ELB cuts a flow quiet for longer, without a FIN or RST. */
export function decideIdleTimeout(listenerArn: string, port: number | undefined, attributes: Attributes): Verdict {
  const seconds = Number(attributes['tcp.idle_timeout.seconds'] ?? ELB_DEFAULT_IDLE_TIMEOUT_S);
  if (seconds < RECOMMENDED_IDLE_TIMEOUT_S) {
    return warn(
      `listener on port ${port ?? '?'} drops a connection idle for ${seconds} s without a FIN or RST: a long query that sends nothing for longer loses its connection`,
      `Raise it (60-6000 s) and keep the database's TCP keepalives below it (docs/deploy.md): aws elbv2 modify-listener-attributes --listener-arn ${listenerArn} --attributes Key=tcp.idle_timeout.seconds,Value=${RECOMMENDED_IDLE_TIMEOUT_S}`,
    );
  }
  return pass(`listener on port ${port ?? '?'}: TCP idle timeout ${seconds} s`);
}

export const vpcDns: Check<Mapping> = {
  id: 'vpc.dns',
  async run(m, { reader }) {
    const tg = await reader.targetGroup(m.targetGroupArn);
    if (!tg) return notChecked('target group not found (target-group.settings)');
    if (!tg.VpcId) return notChecked('the target group names no VPC');
    return decideVpcDns(tg.VpcId, await reader.vpcDnsAttributes(tg.VpcId));
  },
};

/**
 * The VPC's resolver answers RDS names with private addresses, and interface endpoints with
 * private DNS (createApiEndpoints) take over the API names, only with both attributes on
 * (EC2 CreateVpcEndpoint, PrivateDnsEnabled).
 */
export function decideVpcDns(vpcId: string, attributes: { dnsSupport: boolean; dnsHostnames: boolean }): Verdict {
  const off = [...(attributes.dnsSupport ? [] : ['enableDnsSupport']), ...(attributes.dnsHostnames ? [] : ['enableDnsHostnames'])];
  if (off.length === 0) return pass(`${vpcId}: enableDnsSupport and enableDnsHostnames on`);
  return warn(
    `${vpcId}: ${list(off)} off: the functions in the VPC cannot use the VPC resolver${attributes.dnsSupport ? '' : ' at all'}, and interface endpoints with private DNS (createApiEndpoints) cannot be created`,
    off.map((a) => `aws ec2 modify-vpc-attribute --vpc-id ${vpcId} --${a === 'enableDnsSupport' ? 'enable-dns-support' : 'enable-dns-hostnames'} '{"Value":true}'`).join('; '),
  );
}
