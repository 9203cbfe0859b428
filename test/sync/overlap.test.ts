import { describe, expect, it } from 'vitest';
import { decideRemoval } from '../../lib/sync/overlap.js';
import type { RegisteredTarget } from '../../lib/sync/plan.js';

const t = (ip: string, state = 'healthy', port = 5432): RegisteredTarget => ({ ip, port, state });
const A = '10.0.1.5';
const B = '10.0.2.9';
const C = '10.0.3.3';

describe('decideRemoval', () => {
  it('deregisters the stale target when the group is as this run left it', () => {
    expect(decideRemoval({ port: 5432, before: [t(A)], added: [B], planned: [t(A)], now: [t(A), t(B, 'initial')] })).toEqual({ remove: [t(A)], deferred: [] });
  });

  it('defers everything when someone else registered a target since the first read', () => {
    const decision = decideRemoval({ port: 5432, before: [t(A)], added: [B], planned: [t(A)], now: [t(A), t(B, 'initial'), t(C, 'initial')] });
    expect(decision).toEqual({ remove: [], deferred: [t(A)], reason: 'changed-under-run' });
  });

  it('leaves a stale target in initial alone: another run registered it moments ago', () => {
    const decision = decideRemoval({ port: 5432, before: [t(A), t(B, 'initial')], added: [], planned: [t(B, 'initial')], now: [t(A), t(B, 'initial')] });
    expect(decision).toEqual({ remove: [], deferred: [t(B, 'initial')], reason: 'recently-registered' });
  });

  it('never deregisters the last non-draining targets on the port', () => {
    // Someone deregistered B (ours) after we registered it: removing A would leave nothing.
    const decision = decideRemoval({ port: 5432, before: [t(A)], added: [B], planned: [t(A)], now: [t(A), t(B, 'draining')] });
    expect(decision).toEqual({ remove: [], deferred: [t(A)], reason: 'last-target' });
  });

  it('counts a just-registered target the read does not show yet (eventual consistency) as staying', () => {
    expect(decideRemoval({ port: 5432, before: [t(A)], added: [B], planned: [t(A)], now: [t(A)] })).toEqual({ remove: [t(A)], deferred: [] });
  });

  it('skips planned targets that are already draining, and ignores other ports', () => {
    const decision = decideRemoval({ port: 5432, before: [t(A), t(C, 'healthy', 3306)], added: [B], planned: [t(A)], now: [t(A, 'draining'), t(B), t(C, 'healthy', 3306), t(B, 'initial', 3306)] });
    expect(decision).toEqual({ remove: [], deferred: [] });
  });

  it('deregisters with the AZ of the fresh read', () => {
    const fresh = { ...t(A), availabilityZone: 'all' };
    expect(decideRemoval({ port: 5432, before: [t(A)], added: [B], planned: [t(A)], now: [fresh, t(B, 'initial')] }).remove).toEqual([fresh]);
  });
});
