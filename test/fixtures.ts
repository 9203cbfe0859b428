// Shared test data: target groups, configs and a log recorder.
import { loadSyncConfig, type Mapping, type SyncConfig } from '../lib/config.js';
import type { Log } from '../lib/log.js';

export const TG_A = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/orders/0123456789abcdef';
export const TG_B = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/billing/fedcba9876543210';
export const ORDERS = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
export const BILLING = 'billing.c0ffee.eu-west-1.rds.amazonaws.com';

/** The i-th of many mappings: db<i>.c0ffee… on target group tg<i>, port 5432. */
export const numberedMapping = (i: number): Mapping => ({
  endpoint: `db${i}.c0ffee.eu-west-1.rds.amazonaws.com`,
  targetGroupArn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/tg${i}/0123456789abcdef`,
  port: 5432,
  ipAddressType: 'ipv4',
});

export function syncConfig(overrides: Partial<SyncConfig> = {}): SyncConfig {
  const base = loadSyncConfig({
    SYNC_MAPPINGS: JSON.stringify([
      { endpoint: ORDERS, targetGroupArn: TG_A, port: 5432 },
      { endpoint: BILLING, targetGroupArn: TG_B, port: 3306 },
    ]),
  });
  // Not followed unless a test asks (test/sync/follow.test.ts): a follow reads the group for minutes.
  return { ...base, failoverFollowMs: 0, ...overrides };
}

export interface RecordedLog extends Log {
  lines: { level: string; message: string; extra: Record<string, unknown> }[];
}

export function recordLog(): RecordedLog {
  const lines: RecordedLog['lines'] = [];
  const at = (level: string) => (message: string, ...extra: Record<string, unknown>[]) => {
    lines.push({ level, message, extra: Object.assign({}, ...extra) });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}
