import { DescribeListenersCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand, type Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { describeListenerActions, ListenerWriteError, toListenerAction, writeListenerWeights } from '../../lib/aws/listener.js';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const elb = new ElasticLoadBalancingV2Client({});
const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/rds-nlb/0123456789abcdef/fedcba9876543210';
const S1 = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/slot1/1111111111111111';
const S2 = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/slot2/2222222222222222';

const forward = (w1: number, w2: number): Action => ({
  Type: 'forward',
  ForwardConfig: { TargetGroups: [{ TargetGroupArn: S1, Weight: w1 }, { TargetGroupArn: S2, Weight: w2 }], TargetGroupStickinessConfig: { Enabled: false } },
});
const listener = (...actions: Action[]) => ({ Listeners: [{ ListenerArn: LISTENER, DefaultActions: actions }] });

beforeEach(() => elbMock.reset());

describe('describeListenerActions', () => {
  it('reads the forward action\'s target groups and weights for exactly our listener', async () => {
    elbMock.on(DescribeListenersCommand, { ListenerArns: [LISTENER] }).resolves(listener(forward(0, 1)));
    await expect(describeListenerActions(elb, LISTENER)).resolves.toEqual([
      { type: 'forward', targetGroups: [{ targetGroupArn: S1, weight: 0 }, { targetGroupArn: S2, weight: 1 }] },
    ]);
    expect(elbMock).toHaveReceivedCommandTimes(DescribeListenersCommand, 1);
  });

  it('fails when the listener is gone (unknown is not "no actions")', async () => {
    elbMock.on(DescribeListenersCommand).resolves({ Listeners: [] });
    await expect(describeListenerActions(elb, LISTENER)).rejects.toThrow(/not found/);
  });

  it('passes an SDK error through', async () => {
    elbMock.on(DescribeListenersCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    await expect(describeListenerActions(elb, LISTENER)).rejects.toThrow('not authorized');
  });
});

describe('toListenerAction', () => {
  it('reads a plain TargetGroupArn forward as one group of weight 1, and another type by name', () => {
    expect(toListenerAction({ Type: 'forward', TargetGroupArn: S1 })).toEqual({ type: 'forward', targetGroups: [{ targetGroupArn: S1, weight: 1 }] });
    expect(toListenerAction({ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: S1 }] } })).toEqual({ type: 'forward', targetGroups: [{ targetGroupArn: S1, weight: 1 }] });
    expect(toListenerAction({ Type: 'fixed-response' })).toEqual({ type: 'fixed-response' });
  });
});

describe('writeListenerWeights', () => {
  const groups = [
    { targetGroupArn: S1, weight: 0 },
    { targetGroupArn: S2, weight: 1 },
  ];

  it('writes the whole forward config with one ModifyListener, then reads it back', async () => {
    elbMock.on(ModifyListenerCommand).resolves({});
    elbMock.on(DescribeListenersCommand).resolves(listener(forward(0, 1)));
    await writeListenerWeights(elb, LISTENER, groups);
    expect(elbMock).toHaveReceivedCommandTimes(ModifyListenerCommand, 1);
    expect(elbMock).toHaveReceivedCommandWith(ModifyListenerCommand, {
      ListenerArn: LISTENER,
      DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: S1, Weight: 0 }, { TargetGroupArn: S2, Weight: 1 }] } }],
    });
    const calls = elbMock.calls().map((c) => c.args[0].constructor.name);
    expect(calls).toEqual(['ModifyListenerCommand', 'DescribeListenersCommand']);
  });

  it('throws ListenerWriteError when the read-back differs (another writer raced)', async () => {
    elbMock.on(ModifyListenerCommand).resolves({});
    elbMock.on(DescribeListenersCommand).resolves(listener(forward(1, 0)));
    await expect(writeListenerWeights(elb, LISTENER, groups)).rejects.toThrow(ListenerWriteError);
  });

  it('refuses to write all-zero or two non-zero weights, without calling ELB', async () => {
    await expect(writeListenerWeights(elb, LISTENER, [{ targetGroupArn: S1, weight: 0 }, { targetGroupArn: S2, weight: 0 }])).rejects.toThrow(/exactly one non-zero/);
    await expect(writeListenerWeights(elb, LISTENER, [{ targetGroupArn: S1, weight: 1 }, { targetGroupArn: S2, weight: 1 }])).rejects.toThrow(/exactly one non-zero/);
    expect(elbMock.calls()).toHaveLength(0);
  });

  it('passes a failed ModifyListener through and reads nothing back', async () => {
    elbMock.on(ModifyListenerCommand).rejects(Object.assign(new Error('User is not authorized to perform: elasticloadbalancing:ModifyListener'), { name: 'AccessDenied' }));
    await expect(writeListenerWeights(elb, LISTENER, groups)).rejects.toThrow(/ModifyListener/);
    expect(elbMock).toHaveReceivedCommandTimes(DescribeListenersCommand, 0);
  });
});
