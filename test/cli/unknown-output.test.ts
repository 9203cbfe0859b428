// Rule 10 in the CLI's words: a target group that could not be read is "unknown", never "-" (none).
import { describe, expect, it } from 'vitest';
import { renderPlan, renderSync } from '../../cli/output.js';
import type { SyncSummary } from '../../lib/sync/run.js';
import { ORDERS, TG_A } from '../fixtures.js';

const plain = { color: false };
const error = { name: 'AccessDenied', message: 'not authorized to perform elasticloadbalancing:DescribeTargetHealth' };

describe('CLI output for a target group that could not be read', () => {
  it('plan says the registered targets are unknown', () => {
    const out = renderPlan({ ok: false, force: false, mappings: [{ endpoint: ORDERS, targetGroupArn: TG_A, port: 5432, resolved: ['10.0.2.9'], registered: null, add: [], remove: [], keep: [], reason: 'error', error }] }, plain);

    expect(out).toContain('  registered   (unknown: the target group could not be read)\n');
    expect(out).not.toContain('  registered   -');
  });

  it('sync says the registered targets are unknown', () => {
    const summary: SyncSummary = {
      trigger: 'manual',
      outcome: 'failed',
      dryRun: false,
      force: false,
      durationMs: 12,
      failed: 1,
      metricsSent: true,
      mappings: [{ endpoint: ORDERS, targetGroupArn: TG_A, port: 5432, resolved: ['10.0.2.9'], registered: null, healthy: null, added: [], removed: [], reason: 'error', durationMs: 10, error }],
    };

    const out = renderSync(summary, plain);

    expect(out).toContain('  registered   (unknown: the target group could not be read)\n');
    expect(out).toContain('sync FAILED: 1 mapping, 0 added, 0 removed, 1 failed, 12 ms');
  });

  it('sync says a settled group was not read on purpose, not that it could not be read', () => {
    const summary: SyncSummary = {
      trigger: 'schedule',
      outcome: 'success',
      dryRun: false,
      force: false,
      durationMs: 12,
      failed: 0,
      metricsSent: true,
      settled: 1,
      mappings: [{ endpoint: ORDERS, targetGroupArn: TG_A, port: 5432, resolved: ['10.0.2.9'], registered: null, healthy: null, added: [], removed: [], reason: 'settled', durationMs: 10 }],
    };

    const out = renderSync(summary, plain);

    expect(out).toContain('  registered   (not read this run: settled at its last read, and DNS answers as then)\n  settled: read in a later run');
    expect(out).not.toContain('could not be read');
  });
});
