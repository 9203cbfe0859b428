// Doctor for failoverMode warm: the listener forwards to exactly our slots with one weight, the
// weighted slot holds the writer the endpoint resolves to (healthy), and every slot holds one
// healthy candidate. It replaces targets.registered / targets.health for the warm mapping,
// whose own target group (slot 1) need not hold the writer.
import type { Mapping, WarmConfig } from '../config.js';
import { toListenerAction } from '../aws/listener.js';
import { isDraining, type RegisteredTarget } from '../sync/plan.js';
import { judgeListener, type ListenerAction } from '../warm/decide.js';
import { couldNotTell, fail, list, notChecked, pass, warn, type Check, type Verdict } from './verdict.js';

export interface WarmSubject {
  mapping: Mapping;
  warm: WarmConfig;
}

const FIX = 'Run `rds-nlb-sync sync` (with the FAILOVER_MODE and WARM_ settings) to fix it now; the sync function should have within a minute: check its "sync run" line (mappings[].warm).';

export const warmSlots: Check<WarmSubject> = {
  id: 'warm.slots',
  async run({ mapping, warm }, { reader }) {
    const first = await reader.targetGroup(warm.slotArns[0] ?? '');
    const loadBalancerArn = first?.LoadBalancerArns?.[0];
    if (!loadBalancerArn) return notChecked('slot 1 is not found or not attached to a load balancer (target-group.settings, nlb.attached)');
    const listener = (await reader.listeners(loadBalancerArn)).find((l) => l.ListenerArn === warm.listenerArn);
    if (!listener) return fail(`listener ${warm.listenerArn} is not on load balancer ${loadBalancerArn}`, 'Check WARM_LISTENER_ARN: it must be the stack\'s listener (stack output / serverless info).');
    const [writer, ...slots] = await Promise.all([
      reader.resolve(mapping.endpoint, mapping.ipAddressType),
      ...warm.slotArns.map(async (arn) => ({ targetGroupArn: arn, targets: await reader.targetHealth(arn) })),
    ] as const);
    if (!writer.ok) return couldNotTell(writer.error);
    return judgeWarmSlots(writer.addresses, slots as { targetGroupArn: string; targets: RegisteredTarget[] }[], (listener.DefaultActions ?? []).map(toListenerAction), mapping.port);
  },
};

/** The verdict, pure: a fail when traffic goes nowhere useful, a warn when a failover would be cold. */
export function judgeWarmSlots(writer: string[], slots: { targetGroupArn: string; targets: RegisteredTarget[] }[], actions: ListenerAction[], port: number): Verdict {
  const ours = judgeListener(actions, slots.map((s) => s.targetGroupArn));
  if (!ours.ok) return fail(`the listener is not as warm mode writes it: ${ours.detail}`, 'Someone changed the listener: put back the forward action over every slot (a deploy does), then let the sync set the weight.');
  const weighted = ours.groups.find((g) => g.weight !== 0)?.targetGroupArn;
  const name = (arn: string | undefined) => `slot ${slots.findIndex((s) => s.targetGroupArn === arn) + 1}`;
  const live = (s: { targets: RegisteredTarget[] }) => s.targets.filter((t) => t.port === port && !isDraining(t));
  const serving = live(slots.find((s) => s.targetGroupArn === weighted) ?? { targets: [] });
  if (writer.length !== 1 || !serving.some((t) => t.ip === writer[0])) {
    return fail(`the weighted ${name(weighted)} holds ${list(serving.map((t) => t.ip)) || 'nothing'}, not the writer ${list(writer)}`, FIX);
  }
  if (!serving.some((t) => t.ip === writer[0] && t.state === 'healthy')) return fail(`the writer ${writer[0]} in the weighted ${name(weighted)} is ${serving[0]?.state ?? 'absent'}, not healthy`, FIX);
  const shown = slots.map((s) => `${name(s.targetGroupArn)}${s.targetGroupArn === weighted ? ' (weighted)' : ''}: ${live(s).map((t) => `${t.ip} ${t.state}`).join(', ') || 'empty'}`);
  const cold = slots.filter((s) => live(s).length !== 1 || live(s)[0]?.state !== 'healthy');
  if (cold.length > 0) return warn(`${list(shown)}: ${list(cold.map((s) => name(s.targetGroupArn)))} not one healthy candidate, so a failover there would be cold`, FIX);
  return pass(`${list(shown)}: the writer serves, every slot holds one healthy candidate`);
}
