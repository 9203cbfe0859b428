// The ELBv2 listener adapter for warm standby: read the listener's default actions (the forward
// action's target groups and weights) and write a whole forward config with one ModifyListener,
// read back afterwards. Each call goes through the client's timeouts (lib/aws/clients.ts).
import {
  DescribeListenersCommand,
  ModifyListenerCommand,
  type Action,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { RegisteredTarget } from '../sync/plan.js';
import type { ListenerAction, WeightedGroup } from '../warm/decide.js';
import { describeTargets } from './targets.js';

/** The listener, read back after a write, does not carry what was written (someone raced us, or ELB ignored it). */
export class ListenerWriteError extends Error {
  override name = 'ListenerWriteError';
}

/** An action as warm mode judges it: a forward action's target groups and weights, or just its type. */
export function toListenerAction(action: Action): ListenerAction {
  if (action.Type !== 'forward') return { type: action.Type ?? 'unknown' };
  const groups = action.ForwardConfig?.TargetGroups;
  // A forward action written with TargetGroupArn alone forwards everything to that group.
  if (!groups || groups.length === 0) return { type: 'forward', targetGroups: action.TargetGroupArn ? [{ targetGroupArn: action.TargetGroupArn, weight: 1 }] : [] };
  // ELB's documented default weight is 1 when a group is named without one.
  return { type: 'forward', targetGroups: groups.map((g) => ({ targetGroupArn: g.TargetGroupArn ?? '', weight: g.Weight ?? 1 })) };
}

/** The listener's default actions, in order. */
export async function describeListenerActions(elb: ElasticLoadBalancingV2Client, listenerArn: string): Promise<ListenerAction[]> {
  const out = await elb.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }));
  const listener = out.Listeners?.find((l) => l.ListenerArn === listenerArn);
  if (!listener) throw new Error(`listener ${listenerArn} not found (DescribeListeners)`);
  return [...(listener.DefaultActions ?? [])].sort((a, b) => (a.Order ?? 0) - (b.Order ?? 0)).map(toListenerAction);
}

/**
 * Warm standby: the targets of the slot the listener weights now (what serves). Not exactly one
 * of our slots weighted is unknown, not empty: it throws.
 */
export async function describeServingTargets(elb: ElasticLoadBalancingV2Client, listenerArn: string, slotArns: string[]): Promise<RegisteredTarget[]> {
  const actions = await describeListenerActions(elb, listenerArn);
  const on = actions.length === 1 ? (actions[0]?.targetGroups ?? []).filter((g) => g.weight !== 0 && slotArns.includes(g.targetGroupArn)) : [];
  const serving = on.length === 1 ? on[0]?.targetGroupArn : undefined;
  if (!serving) throw new Error(`listener ${listenerArn} does not weight exactly one of the slots (${JSON.stringify(actions)}): which slot serves is unknown`);
  return describeTargets(elb, serving);
}

const sameWeights = (a: WeightedGroup[], b: WeightedGroup[]) =>
  a.length === b.length && a.every((g) => b.some((h) => h.targetGroupArn === g.targetGroupArn && h.weight === g.weight));

/**
 * Writes the whole forward config (every slot with its weight) in one ModifyListener, then reads
 * the listener back: a write that did not stick throws, so the run fails and the next pass
 * decides again from a fresh read.
 */
export async function writeListenerWeights(elb: ElasticLoadBalancingV2Client, listenerArn: string, groups: WeightedGroup[]): Promise<void> {
  if (groups.filter((g) => g.weight !== 0).length !== 1) throw new Error(`refusing to write ${groups.length} weights without exactly one non-zero`);
  await elb.send(
    new ModifyListenerCommand({
      ListenerArn: listenerArn,
      DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: groups.map((g) => ({ TargetGroupArn: g.targetGroupArn, Weight: g.weight })) } }],
    }),
  );
  const [action, ...rest] = await describeListenerActions(elb, listenerArn);
  if (!action?.targetGroups || rest.length > 0 || !sameWeights(action.targetGroups, groups)) {
    throw new ListenerWriteError(
      `listener ${listenerArn} read back after ModifyListener does not carry the weights written (${JSON.stringify(groups)}): another writer raced this run; the next pass decides again`,
    );
  }
}
