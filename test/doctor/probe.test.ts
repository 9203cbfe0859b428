import { describe, expect, it } from 'vitest';
import { decideProbe } from '../../lib/doctor/probe.js';

const now = Date.parse('2026-12-07T03:00:30Z');
const at = (minutesAgo: number, runs: number, successes: number) => ({ time: new Date(now - 30_000 - minutesAgo * 60_000), runs, successes });

describe('probe.last (ProbeSuccess read from CloudWatch)', () => {
  it('passes when every probe of the window was answered', () => {
    expect(decideProbe([at(0, 1, 1), at(1, 1, 1)], 'RdsNlbSync', now)).toEqual({ status: 'pass', message: 'the database answered through the NLB 1 min ago (2 probes in 15 minutes, all answered)' });
  });

  it('fails when the last probe failed, naming when and how many answered, with the fix', () => {
    const verdict = decideProbe([at(0, 1, 0), at(1, 1, 1)], 'RdsNlbSync', now);
    expect(verdict).toMatchObject({ status: 'fail', message: 'the last probe through the NLB failed (2026-12-07T03:00:00.000Z, 1 min ago; 1 of 2 answered in 15 minutes)' });
    expect(verdict.fix).toMatch(/1129/);
    expect(verdict.fix).toContain('probe.failed names the listeners that did not answer');
  });

  it('warns when the last probe answered after failures', () => {
    expect(decideProbe([at(0, 1, 1), at(1, 1, 0)], 'RdsNlbSync', now)).toMatchObject({ status: 'warn', message: expect.stringContaining('1 of 2 failed') });
  });

  it('warns, not passes, when no probe reported: it cannot tell', () => {
    expect(decideProbe([], 'RdsNlbSync', now)).toMatchObject({ status: 'warn', message: expect.stringContaining('no ProbeSuccess in namespace RdsNlbSync for 15 minutes') });
  });
});
