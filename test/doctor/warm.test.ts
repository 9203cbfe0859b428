import { describe, expect, it } from 'vitest';
import { judgeWarmSlots } from '../../lib/doctor/warm.js';
import type { RegisteredTarget } from '../../lib/sync/plan.js';
import type { ListenerAction } from '../../lib/warm/decide.js';

const S = [1, 2, 3].map((n) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/slot${n}/${String(n).repeat(16)}`);
const t = (ip: string, state = 'healthy'): RegisteredTarget => ({ ip, port: 5432, state });
const slots = (...held: RegisteredTarget[][]) => held.map((targets, i) => ({ targetGroupArn: S[i] ?? '', targets }));
const forward = (...w: number[]): ListenerAction[] => [{ type: 'forward', targetGroups: S.map((arn, i) => ({ targetGroupArn: arn, weight: w[i] ?? 0 })) }];

describe('doctor warm.slots', () => {
  it('passes when the weighted slot serves the writer and every slot holds one healthy candidate', () => {
    const v = judgeWarmSlots(['10.0.0.1'], slots([t('10.0.0.1')], [t('10.0.0.2')], [t('10.0.0.3')]), forward(1, 0, 0), 5432);
    expect(v).toEqual({ status: 'pass', message: 'slot 1 (weighted): 10.0.0.1 healthy, slot 2: 10.0.0.2 healthy, slot 3: 10.0.0.3 healthy: the writer serves, every slot holds one healthy candidate' });
  });

  it('fails when the weighted slot does not hold the writer (a failover not followed)', () => {
    const v = judgeWarmSlots(['10.0.0.2'], slots([t('10.0.0.1')], [t('10.0.0.2')], [t('10.0.0.3')]), forward(1, 0, 0), 5432);
    expect(v).toMatchObject({ status: 'fail', message: 'the weighted slot 1 holds 10.0.0.1, not the writer 10.0.0.2' });
  });

  it('fails when the writer in the weighted slot is not healthy', () => {
    const v = judgeWarmSlots(['10.0.0.1'], slots([t('10.0.0.1', 'unhealthy')], [t('10.0.0.2')], [t('10.0.0.3')]), forward(1, 0, 0), 5432);
    expect(v).toMatchObject({ status: 'fail', message: 'the writer 10.0.0.1 in the weighted slot 1 is unhealthy, not healthy' });
  });

  it('fails for a listener someone else changed', () => {
    const v = judgeWarmSlots(['10.0.0.1'], slots([t('10.0.0.1')], [t('10.0.0.2')], [t('10.0.0.3')]), forward(1, 1, 0), 5432);
    expect(v).toMatchObject({ status: 'fail', message: expect.stringContaining('2 non-zero weights') });
  });

  it('warns when a slot holds no healthy candidate: a failover there would be cold', () => {
    const v = judgeWarmSlots(['10.0.0.1'], slots([t('10.0.0.1')], [t('10.0.0.2', 'initial')], []), forward(1, 0, 0), 5432);
    expect(v).toMatchObject({ status: 'warn', message: expect.stringMatching(/slot 2, slot 3 not one healthy candidate, so a failover there would be cold$/) });
  });
});
