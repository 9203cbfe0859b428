import { describe, expect, it } from 'vitest';
import { decideRemoval, MAX_DECISION_AGE_MS, type RemovalInput } from '../../lib/sync/overlap.js';
import type { RegisteredTarget } from '../../lib/sync/plan.js';

const t = (ip: string, state = 'healthy', port = 5432): RegisteredTarget => ({ ip, port, state });
const A = '10.0.1.5';
const B = '10.0.2.9';
const C = '10.0.3.3';
/** A run's reads and decision a fraction of a second apart, as usual. */
const decide = (input: Omit<RemovalInput, 'ageMs' | 'port'> & { ageMs?: number }) => decideRemoval({ port: 5432, ageMs: 200, ...input });

describe('decideRemoval', () => {
  it('deregisters the stale target when the group is as this run left it', () => {
    expect(decide({ before: [t(A)], added: [B], planned: [t(A)], now: [t(A), t(B, 'initial')] })).toEqual({ remove: [t(A)], deferred: [] });
  });

  it('defers everything when someone else registered a target since the first read', () => {
    const decision = decide({ before: [t(A)], added: [B], planned: [t(A)], now: [t(A), t(B, 'initial'), t(C, 'initial')] });
    expect(decision).toEqual({ remove: [], deferred: [t(A)], reason: 'changed-under-run' });
  });

  it('defers when a target draining at the first read is live again at the re-read (someone registered it again)', () => {
    const decision = decide({ before: [t(A), t(C, 'draining')], added: [B], planned: [t(A)], now: [t(A), t(B, 'initial'), t(C, 'initial')] });
    expect(decision).toEqual({ remove: [], deferred: [t(A)], reason: 'changed-under-run' });
  });

  it('defers when a target on another port at the first read is live on the mapping port at the re-read', () => {
    const decision = decide({ before: [t(A), t(C, 'healthy', 3306)], added: [B], planned: [t(A)], now: [t(A), t(B, 'initial'), t(C, 'healthy', 3306), t(C, 'initial')] });
    expect(decision).toEqual({ remove: [], deferred: [t(A)], reason: 'changed-under-run' });
  });

  it('leaves a stale target in initial alone: another run registered it moments ago', () => {
    const decision = decide({ before: [t(A), t(B, 'initial')], added: [], planned: [t(B, 'initial')], now: [t(A), t(B, 'initial')] });
    expect(decision).toEqual({ remove: [], deferred: [t(B, 'initial')], reason: 'recently-registered' });
  });

  it('leaves a stale target alone that was initial at the first read and healthy at the re-read (health checks passed between)', () => {
    // Run 1 (answer B) registered B and removes A; this run (answer A) must not remove B as well.
    const decision = decide({ before: [t(A), t(B, 'initial')], added: [], planned: [t(B, 'initial')], now: [t(A), t(B, 'healthy')] });
    expect(decision).toEqual({ remove: [], deferred: [t(B, 'healthy')], reason: 'recently-registered' });
  });

  it('removes the other stale targets and holds back only the recent one', () => {
    const decision = decide({ before: [t(A), t(B, 'initial'), t(C)], added: [], planned: [t(B, 'initial'), t(C)], now: [t(A), t(B), t(C)] });
    expect(decision).toEqual({ remove: [t(C)], deferred: [t(B)], reason: 'recently-registered' });
  });

  it('never deregisters the last non-draining targets on the port', () => {
    // Someone deregistered B (ours) after we registered it: removing A would leave nothing.
    const decision = decide({ before: [t(A)], added: [B], planned: [t(A)], now: [t(A), t(B, 'draining')] });
    expect(decision).toEqual({ remove: [], deferred: [t(A)], reason: 'last-target' });
  });

  it('counts a target shown unhealthy.draining as absent: it does not keep the group usable', () => {
    const decision = decide({ before: [t(A)], added: [B], planned: [t(A)], now: [t(A), t(B, 'unhealthy.draining')] });
    expect(decision).toEqual({ remove: [], deferred: [t(A)], reason: 'last-target' });
  });

  it('needs no call for a planned target already unhealthy.draining', () => {
    expect(decide({ before: [t(A)], added: [B], planned: [t(A)], now: [t(A, 'unhealthy.draining'), t(B, 'initial')] })).toEqual({ remove: [], deferred: [] });
  });

  it('counts a just-registered target the read does not show yet (eventual consistency) as staying', () => {
    expect(decide({ before: [t(A)], added: [B], planned: [t(A)], now: [t(A)] })).toEqual({ remove: [t(A)], deferred: [] });
  });

  it('skips planned targets that are already draining, and ignores other ports', () => {
    const decision = decide({ before: [t(A), t(C, 'healthy', 3306)], added: [B], planned: [t(A)], now: [t(A, 'draining'), t(B), t(C, 'healthy', 3306), t(B, 'initial', 3306)] });
    expect(decision).toEqual({ remove: [], deferred: [] });
  });

  it('deregisters with the AZ of the fresh read', () => {
    const fresh = { ...t(A), availabilityZone: 'all' };
    expect(decide({ before: [t(A)], added: [B], planned: [t(A)], now: [fresh, t(B, 'initial')] }).remove).toEqual([fresh]);
  });

  it('with IPv6 spelled differently by ELB in both reads, removes the stale target and recognises its own', () => {
    const stale = t('2600:1F18:AAAA:0:0:0:0:5');
    const own = '2600:1f18:aaaa::9';
    const decision = decide({ before: [stale], added: [own], planned: [stale], now: [stale, t('2600:1F18:AAAA:0000:0:0:0:9', 'initial')] });
    expect(decision).toEqual({ remove: [stale], deferred: [] });
  });

  it(`defers every removal when the first read is older than ${MAX_DECISION_AGE_MS} ms: newer runs may be acting`, () => {
    const input = { before: [t(A)], added: [B], planned: [t(A)], now: [t(A), t(B, 'initial')] };
    expect(decide({ ...input, ageMs: MAX_DECISION_AGE_MS })).toEqual({ remove: [t(A)], deferred: [] });
    expect(decide({ ...input, ageMs: MAX_DECISION_AGE_MS + 1 })).toEqual({ remove: [], deferred: [t(A)], reason: 'read-too-old' });
  });
});
