import { describe, expect, it } from 'vitest';
import { ConfigError, loadSyncConfig } from '../../lib/config.js';

const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/net/rds-nlb/0123456789abcdef/fedcba9876543210';
const slot = (n: number) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/slot${n}/${String(n).repeat(16)}`;
const WRITER = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const base = {
  RDS_ENDPOINT: WRITER,
  TARGET_GROUP_ARN: slot(1),
  TARGET_PORT: '5432',
  FAILOVER_MODE: 'warm',
  WARM_LISTENER_ARN: LISTENER,
  WARM_SLOT_TARGET_GROUP_ARNS: [slot(1), slot(2), slot(3)].join(','),
};

const problems = (env: Record<string, string | undefined>) => {
  try {
    loadSyncConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('warm standby config', () => {
  it('reads the listener and the slots', () => {
    expect(loadSyncConfig(base).warm).toEqual({ listenerArn: LISTENER, slotArns: [slot(1), slot(2), slot(3)] });
  });

  it('is off by default (cold)', () => {
    expect(loadSyncConfig({ RDS_ENDPOINT: WRITER, TARGET_GROUP_ARN: slot(1), TARGET_PORT: '5432' }).warm).toBeUndefined();
  });

  it('refuses warm settings in cold mode', () => {
    expect(problems({ ...base, FAILOVER_MODE: 'cold' })).toEqual([
      'WARM_LISTENER_ARN is only used with FAILOVER_MODE=warm',
      'WARM_SLOT_TARGET_GROUP_ARNS is only used with FAILOVER_MODE=warm',
    ]);
  });

  it('names each missing or bad warm setting', () => {
    expect(problems({ ...base, WARM_LISTENER_ARN: undefined })).toEqual([expect.stringMatching(/^WARM_LISTENER_ARN is required with FAILOVER_MODE=warm/)]);
    expect(problems({ ...base, WARM_LISTENER_ARN: slot(1) })).toEqual([expect.stringMatching(/^WARM_LISTENER_ARN must be an NLB listener ARN/)]);
    expect(problems({ ...base, WARM_SLOT_TARGET_GROUP_ARNS: slot(1) })).toEqual([expect.stringMatching(/^WARM_SLOT_TARGET_GROUP_ARNS must list 2-5 slot target group ARNs/)]);
    expect(problems({ ...base, WARM_SLOT_TARGET_GROUP_ARNS: [1, 2, 3, 4, 5, 6].map(slot).join(',') })).toEqual([expect.stringMatching(/must list 2-5/)]);
    expect(problems({ ...base, WARM_SLOT_TARGET_GROUP_ARNS: [slot(1), slot(1)].join(',') })).toEqual(['WARM_SLOT_TARGET_GROUP_ARNS names a target group twice']);
    expect(problems({ ...base, FAILOVER_MODE: 'hot' })).toEqual([expect.stringMatching(/^FAILOVER_MODE/)]);
  });

  it('needs the mapping\'s target group among the slots', () => {
    expect(problems({ ...base, WARM_SLOT_TARGET_GROUP_ARNS: [slot(2), slot(3)].join(',') })).toEqual([
      'WARM_SLOT_TARGET_GROUP_ARNS must include the target group of exactly one mapping (the warm one), got 0',
    ]);
  });

  it.each([
    ['reader', 'orders.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com'],
    ['instance', 'orders-1.c0ffee.eu-west-1.rds.amazonaws.com'],
    ['custom', 'analytics.cluster-custom-c0ffee.eu-west-1.rds.amazonaws.com'],
    ['proxy', 'orders.proxy-c0ffee.eu-west-1.rds.amazonaws.com'],
  ])('refuses a %s endpoint, naming why', (kind, endpoint) => {
    expect(problems({ ...base, RDS_ENDPOINT: endpoint })).toEqual([expect.stringContaining(`FAILOVER_MODE warm needs a cluster writer endpoint`)]);
    expect(problems({ ...base, RDS_ENDPOINT: endpoint }).join()).toContain(`is a ${kind} endpoint`);
  });
});
