import { describe, expect, it } from 'vitest';
import {
  classSize,
  decideWarm,
  judgeListener,
  rankCandidates,
  WEIGHT_ON,
  type Candidate,
  type ListenerAction,
  type Slot,
  type WarmDecision,
  type WarmInput,
} from '../../lib/warm/decide.js';
import type { RegisteredTarget } from '../../lib/sync/plan.js';

const tg = (n: number) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/orders-slot${n}/${String(n).repeat(16)}`;
const S1 = tg(1);
const S2 = tg(2);
const S3 = tg(3);
const PORT = 5432;

const target = (ip: string, state = 'healthy', port = PORT): RegisteredTarget => ({ ip, port, state });
const slot = (arn: string, ...targets: RegisteredTarget[]): Slot => ({ targetGroupArn: arn, targets });
const forward = (...weights: number[]): ListenerAction[] => [{ type: 'forward', targetGroups: [S1, S2, S3].map((arn, i) => ({ targetGroupArn: arn, weight: weights[i] ?? 0 })) }];

// writer a (10.0.0.1), tier-0 reader b (10.0.0.2), tier-1 reader c (10.0.0.3), tier-5 reader d (10.0.0.4).
const member = (id: string, address: string | null, promotionTier: number, writer = false, instanceClass = 'db.r6g.large'): Candidate => ({
  id,
  address,
  writer,
  promotionTier,
  instanceClass,
});
const MEMBERS: Candidate[] = [member('a', '10.0.0.1', 1, true), member('b', '10.0.0.2', 0), member('c', '10.0.0.3', 1), member('d', '10.0.0.4', 5)];

function input(overrides: Partial<WarmInput> = {}): WarmInput {
  return {
    writer: { ok: true, addresses: ['10.0.0.1'] },
    members: { ok: true, members: MEMBERS },
    slots: [slot(S1, target('10.0.0.1')), slot(S2, target('10.0.0.2')), slot(S3, target('10.0.0.3'))],
    actions: forward(1, 0, 0),
    port: PORT,
    ...overrides,
  };
}

const nonZero = (d: WarmDecision) => (d.weights ?? []).filter((w) => w.weight !== 0);

describe('decideWarm: weights', () => {
  it('changes nothing when the weighted slot holds the writer and every slot a candidate', () => {
    const d = decideWarm(input());
    expect(d).toEqual({ reason: 'in-sync', writer: '10.0.0.1', weightedSlot: S1, slots: [] });
  });

  it('moves the weight to the slot already holding the new writer, with no registration', () => {
    const d = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.2'] } }));
    expect(d.reason).toBe('weights-changed');
    expect(d.weights).toEqual([
      { targetGroupArn: S1, weight: 0 },
      { targetGroupArn: S2, weight: WEIGHT_ON },
      { targetGroupArn: S3, weight: 0 },
    ]);
    expect(d.weightedSlot).toBe(S2);
    // Neither the slot weighted as read (S1) nor the new one (S2) is touched in this run.
    expect(d.slots.filter((c) => c.targetGroupArn === S1 || c.targetGroupArn === S2)).toEqual([]);
    expect(d.slots.flatMap((c) => c.register)).toEqual([]);
  });

  it('weights the only slot holding the writer even while it is not healthy yet', () => {
    const d = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.2'] }, slots: [slot(S1, target('10.0.0.1')), slot(S2, target('10.0.0.2', 'initial')), slot(S3)] }));
    expect(d.weightedSlot).toBe(S2);
    expect(nonZero(d)).toEqual([{ targetGroupArn: S2, weight: WEIGHT_ON }]);
  });

  it('prefers the healthy slot when two slots hold the writer', () => {
    const slots = [slot(S1, target('10.0.0.1')), slot(S2, target('10.0.0.2', 'unhealthy')), slot(S3, target('10.0.0.2'))];
    const d = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.2'] }, slots }));
    expect(d.weightedSlot).toBe(S3);
  });

  it('keeps the weight on the weighted slot when another slot holds the writer too', () => {
    const slots = [slot(S1, target('10.0.0.1', 'unhealthy')), slot(S2, target('10.0.0.1')), slot(S3, target('10.0.0.2'))];
    const d = decideWarm(input({ slots }));
    expect(d.weights).toBeUndefined();
    expect(d.weightedSlot).toBe(S1);
    // The duplicate in S2 makes room for a candidate: c (tier 1) replaces it, registered before the old one goes.
    expect(d.slots).toEqual([{ targetGroupArn: S2, register: ['10.0.0.3'], deregister: [target('10.0.0.1')] }]);
  });

  it('compares addresses in canonical form (IPv6 spelled two ways)', () => {
    const slots = [slot(S1, target('fd00::1')), slot(S2, target('fd00:0:0:0:0:0:0:2')), slot(S3, target('fd00::3'))];
    const members = [member('a', 'fd00::1', 1), member('b', 'fd00::2', 0, true), member('c', 'fd00::3', 1)];
    const d = decideWarm(input({ writer: { ok: true, addresses: ['FD00::2'] }, members: { ok: true, members }, slots }));
    expect(d.weightedSlot).toBe(S2);
    expect(d.slots).toEqual([]);
  });
});

describe('decideWarm: unknown changes nothing', () => {
  const unchanged = (d: WarmDecision) => {
    expect(d.weights).toBeUndefined();
    expect(d.slots).toEqual([]);
  };

  it('leaves everything alone when DNS fails, even while the RDS API says the writer moved', () => {
    const members = MEMBERS.map((m) => ({ ...m, writer: m.id === 'b' }));
    const d = decideWarm(input({ writer: { ok: false, error: new Error('queryA ETIMEOUT') }, members: { ok: true, members } }));
    expect(d.reason).toBe('dns-failed');
    expect(d.detail).toContain('ETIMEOUT');
    unchanged(d);
  });

  it('treats an empty answer as a DNS failure', () => {
    const d = decideWarm(input({ writer: { ok: true, addresses: [] } }));
    expect(d.reason).toBe('dns-failed');
    unchanged(d);
  });

  it('leaves everything alone when the writer endpoint answers several addresses', () => {
    const d = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.1', '10.0.0.2'] } }));
    expect(d.reason).toBe('writer-ambiguous');
    unchanged(d);
  });

  it('refuses a public answer (resolved from the wrong place)', () => {
    const d = decideWarm(input({ writer: { ok: true, addresses: ['52.1.2.3'] } }));
    expect(d.reason).toBe('address-refused');
    unchanged(d);
  });

  it('leaves everything alone when the RDS API fails, even with DNS pointing at another slot', () => {
    const d = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.2'] }, members: { ok: false, error: new Error('Throttling') } }));
    expect(d.reason).toBe('members-unknown');
    unchanged(d);
  });
});

describe('decideWarm: a listener someone else changed is reported, never overwritten', () => {
  const cases: [string, ListenerAction[], RegExp][] = [
    ['another action type', [{ type: 'fixed-response' }], /fixed-response, not forward/],
    ['two default actions', [...forward(1, 0, 0), ...forward(1, 0, 0)], /2 default actions/],
    ['no default action', [], /0 default actions/],
    [
      'a target group not ours',
      [{ type: 'forward', targetGroups: [{ targetGroupArn: S1, weight: 1 }, { targetGroupArn: S2, weight: 0 }, { targetGroupArn: tg(9), weight: 0 }] }],
      /not ours: .*slot9.*slots missing: .*slot3/,
    ],
    ['a slot missing', [{ type: 'forward', targetGroups: [{ targetGroupArn: S1, weight: 1 }, { targetGroupArn: S2, weight: 0 }] }], /slots missing/],
    ['two non-zero weights', forward(1, 1, 0), /2 non-zero weights/],
    ['every weight zero', forward(0, 0, 0), /0 non-zero weights/],
  ];
  it.each(cases)('%s', (_name, actions, detail) => {
    const d = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.2'] }, actions }));
    expect(d.reason).toBe('listener-foreign');
    expect(d.detail).toMatch(detail);
    expect(d.weights).toBeUndefined();
    expect(d.slots).toEqual([]);
  });

  it('accepts our forward action in any order and with any non-zero weight', () => {
    const actions: ListenerAction[] = [{ type: 'forward', targetGroups: [{ targetGroupArn: S3, weight: 0 }, { targetGroupArn: S1, weight: 100 }, { targetGroupArn: S2, weight: 0 }] }];
    expect(judgeListener(actions, [S1, S2, S3])).toEqual({ ok: true, groups: actions[0]?.targetGroups });
    expect(decideWarm(input({ actions })).reason).toBe('in-sync');
  });
});

describe('decideWarm: the cold path (the writer sits in no slot)', () => {
  it('registers the writer into an empty slot and keeps the weight where it is', () => {
    const slots = [slot(S1, target('10.0.0.1')), slot(S2, target('10.0.0.2')), slot(S3)];
    const d = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.9'] }, slots }));
    expect(d.reason).toBe('cold');
    expect(d.weights).toBeUndefined();
    expect(d.weightedSlot).toBe(S1);
    expect(d.slots).toEqual([{ targetGroupArn: S3, register: ['10.0.0.9'], deregister: [] }]);
    expect(d.detail).toMatch(/sits in no slot.*cold path/);
  });

  it('replaces the least valuable non-weighted slot when none is empty, never the weighted one', () => {
    // S1 weighted (old writer), S2 holds d (tier 5), S3 holds b (tier 0): d's slot goes.
    const slots = [slot(S1, target('10.0.0.1')), slot(S2, target('10.0.0.4')), slot(S3, target('10.0.0.2'))];
    const d = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.9'] }, slots }));
    expect(d.slots).toEqual([{ targetGroupArn: S2, register: ['10.0.0.9'], deregister: [target('10.0.0.4')] }]);
  });

  it('prefers a slot holding no candidate over one holding a candidate', () => {
    const slots = [slot(S1, target('10.0.0.1')), slot(S2, target('10.0.0.2')), slot(S3, target('10.9.9.9'))];
    const d = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.9'] }, slots }));
    expect(d.slots.map((c) => c.targetGroupArn)).toEqual([S3]);
  });

  it('weights the writer on the next pass, once ELB lists it (state initial)', () => {
    const slots = [slot(S1, target('10.0.0.1')), slot(S2, target('10.0.0.2')), slot(S3, target('10.0.0.9', 'initial'))];
    const d = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.9'] }, slots }));
    expect(d.reason).toBe('weights-changed');
    expect(nonZero(d)).toEqual([{ targetGroupArn: S3, weight: WEIGHT_ON }]);
  });

  it('treats a draining writer as absent (registered again)', () => {
    const slots = [slot(S1, target('10.0.0.1')), slot(S2, target('10.0.0.2', 'draining')), slot(S3)];
    const d = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.2'] }, slots }));
    expect(d.reason).toBe('cold');
    expect(d.slots[0]?.register).toEqual(['10.0.0.2']);
  });

  it('says so when the only slot is the weighted one', () => {
    const d = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.9'] }, slots: [slot(S1, target('10.0.0.1'))], actions: [{ type: 'forward', targetGroups: [{ targetGroupArn: S1, weight: 1 }] }] }));
    expect(d.reason).toBe('cold');
    expect(d.slots).toEqual([]);
    expect(d.detail).toMatch(/add warmSlots/);
  });
});

describe('decideWarm: slot maintenance', () => {
  it('fills empty slots with the next candidates in failover order', () => {
    const d = decideWarm(input({ slots: [slot(S1, target('10.0.0.1')), slot(S2), slot(S3)] }));
    expect(d.reason).toBe('slots-changed');
    expect(d.slots).toEqual([
      { targetGroupArn: S2, register: ['10.0.0.2'], deregister: [] },
      { targetGroupArn: S3, register: ['10.0.0.3'], deregister: [] },
    ]);
  });

  it('replaces a departed instance in its slot: the candidate registered, the old address deregistered after', () => {
    const members = MEMBERS.filter((m) => m.id !== 'c');
    const d = decideWarm(input({ members: { ok: true, members } }));
    expect(d.slots).toEqual([{ targetGroupArn: S3, register: ['10.0.0.4'], deregister: [target('10.0.0.3')] }]);
  });

  it('never touches the weighted slot, even when it holds a stale extra address', () => {
    const slots = [slot(S1, target('10.0.0.1'), target('10.9.9.9')), slot(S2, target('10.0.0.2')), slot(S3, target('10.0.0.3'))];
    expect(decideWarm(input({ slots })).slots).toEqual([]);
  });

  it('leaves targets on other ports alone (rule 5)', () => {
    const slots = [slot(S1, target('10.0.0.1')), slot(S2, target('10.0.0.2'), target('10.7.7.7', 'healthy', 3306)), slot(S3, target('10.0.0.3'))];
    expect(decideWarm(input({ slots })).slots).toEqual([]);
  });

  it('skips members without an address (being created, or unresolved)', () => {
    const members = [member('a', '10.0.0.1', 1, true), member('b', null, 0), member('c', '10.0.0.3', 1)];
    const d = decideWarm(input({ members: { ok: true, members }, slots: [slot(S1, target('10.0.0.1')), slot(S2), slot(S3)] }));
    expect(d.slots).toEqual([{ targetGroupArn: S2, register: ['10.0.0.3'], deregister: [] }]);
  });

  it('after a failover, reassigns the old writer slot only on a later pass', () => {
    // Pass 1: DNS moved to b (S2): weights only, S1 untouched.
    const first = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.2'] } }));
    expect(first.slots.find((c) => c.targetGroupArn === S1)).toBeUndefined();
    // Pass 2: S2 weighted; a was removed from the cluster, d takes S1.
    const members = MEMBERS.filter((m) => m.id !== 'a').map((m) => ({ ...m, writer: m.id === 'b' }));
    const second = decideWarm(input({ writer: { ok: true, addresses: ['10.0.0.2'] }, members: { ok: true, members }, actions: forward(0, 1, 0) }));
    expect(second.weights).toBeUndefined();
    expect(second.slots).toEqual([{ targetGroupArn: S1, register: ['10.0.0.4'], deregister: [target('10.0.0.1')] }]);
  });
});

describe('rankCandidates (AWS: lowest tier, then the largest instance, then arbitrary)', () => {
  it('puts the RDS writer first, then tiers ascending, then size, then id', () => {
    const ranked = rankCandidates([
      member('z', '10.0.0.9', 2),
      member('small', '10.0.0.5', 1, false, 'db.r6g.large'),
      member('big', '10.0.0.6', 1, false, 'db.r6g.4xlarge'),
      member('w', '10.0.0.1', 3, true),
      member('t0', '10.0.0.7', 0, false, 'db.t4g.medium'),
      member('a', '10.0.0.8', 2),
    ]);
    expect(ranked.map((m) => m.id)).toEqual(['w', 't0', 'big', 'small', 'a', 'z']);
  });

  it.each([
    ['db.r6g.large', 1],
    ['db.r6g.xlarge', 2],
    ['db.r6g.16xlarge', 32],
    ['db.t4g.medium', 0.5],
    ['db.serverless', 0],
    [undefined, 0],
  ])('classSize(%s) = %s', (cls, size) => {
    expect(classSize(cls)).toBe(size);
  });
});

// A small world (listener, slots) the decisions are applied to, as the run does: weights first
// (whole config), then registrations, then deregistrations.
interface World {
  weights: number[];
  slots: Slot[];
}
function apply(world: World, d: WarmDecision): void {
  if (d.weights) world.weights = [S1, S2, S3].map((arn) => d.weights?.find((w) => w.targetGroupArn === arn)?.weight ?? 0);
  for (const c of d.slots) {
    const s = world.slots.find((x) => x.targetGroupArn === c.targetGroupArn);
    if (!s) continue;
    s.targets.push(...c.register.map((ip) => target(ip, 'initial')));
  }
  for (const c of d.slots) {
    const s = world.slots.find((x) => x.targetGroupArn === c.targetGroupArn);
    if (s) s.targets = s.targets.filter((t) => !c.deregister.some((r) => r.ip === t.ip));
  }
}
const snapshot = (w: World): Pick<WarmInput, 'slots' | 'actions'> => ({
  slots: w.slots.map((s) => ({ ...s, targets: [...s.targets] })),
  actions: forward(...w.weights),
});
const weightedIps = (w: World) => w.slots[w.weights.findIndex((x) => x !== 0)]?.targets.map((t) => t.ip);

describe('two runs with different answers', () => {
  it('converge on the current writer within one pass, whatever order they write in, never all zero', () => {
    const after = MEMBERS.map((m) => ({ ...m, writer: m.id === 'b' }));
    for (const staleWritesLast of [true, false]) {
      const world: World = { weights: [1, 0, 0], slots: [slot(S1, target('10.0.0.1')), slot(S2, target('10.0.0.2')), slot(S3, target('10.0.0.3'))] };
      // Both read the same listener; run A saw the old answer, run B the new one.
      const seen = snapshot(world);
      const a = decideWarm(input({ ...seen, writer: { ok: true, addresses: ['10.0.0.1'] } }));
      const b = decideWarm(input({ ...seen, writer: { ok: true, addresses: ['10.0.0.2'] }, members: { ok: true, members: after } }));
      for (const d of staleWritesLast ? [b, a] : [a, b]) {
        apply(world, d);
        expect(world.weights.filter((w) => w !== 0)).toHaveLength(1);
      }
      // The next pass reads afresh (DNS now says b everywhere) and ends on b.
      const next = decideWarm(input({ ...snapshot(world), writer: { ok: true, addresses: ['10.0.0.2'] }, members: { ok: true, members: after } }));
      apply(world, next);
      expect(weightedIps(world)).toEqual(['10.0.0.2']);
      expect(world.weights.filter((w) => w !== 0)).toHaveLength(1);
    }
  });

  it('a stale run writing after a cold registration cannot empty the slot the writer is in', () => {
    const world: World = { weights: [1, 0, 0], slots: [slot(S1, target('10.0.0.1')), slot(S2, target('10.0.0.2')), slot(S3, target('10.0.0.3'))] };
    const seen = snapshot(world);
    const cold = decideWarm(input({ ...seen, writer: { ok: true, addresses: ['10.0.0.9'] } }));
    apply(world, cold);
    const weighNew = decideWarm(input({ ...snapshot(world), writer: { ok: true, addresses: ['10.0.0.9'] } }));
    apply(world, weighNew);
    expect(weightedIps(world)).toEqual(['10.0.0.9']);
    // A stale run (read before the cold registration) decides on the old slots; the run re-reads
    // the listener before deregistering (lib/warm/run.ts), so it sees the slot weighted now.
    const stale = decideWarm(input({ ...seen, writer: { ok: true, addresses: ['10.0.0.1'] } }));
    expect(stale.weights).toBeUndefined();
    expect(stale.slots).toEqual([]);
  });
});

describe('never all zero', () => {
  it('every decision over many random worlds writes exactly one non-zero weight, on a slot holding the DNS writer', () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const states = ['healthy', 'initial', 'unhealthy', 'draining', 'unused'];
    for (let i = 0; i < 500; i++) {
      const slots = [S1, S2, S3].map((arn) => slot(arn, ...Array.from({ length: rand(3) }, () => target(`10.0.0.${1 + rand(5)}`, states[rand(states.length)]))));
      const weights = [0, 0, 0];
      weights[rand(3)] = 1;
      const writer = `10.0.0.${1 + rand(5)}`;
      const d = decideWarm(input({ slots, actions: forward(...weights), writer: { ok: true, addresses: [writer] } }));
      if (d.weights) {
        expect(nonZero(d)).toHaveLength(1);
        const chosen = slots.find((s) => s.targetGroupArn === nonZero(d)[0]?.targetGroupArn);
        expect(chosen?.targets.some((t) => t.ip === writer && t.state !== 'draining')).toBe(true);
      }
      // Slot changes never touch the slot weighted as read or the one about to be weighted.
      const weightedNow = [S1, S2, S3][weights.indexOf(1)];
      expect(d.slots.map((c) => c.targetGroupArn)).not.toContain(weightedNow);
      if (d.weightedSlot) expect(d.slots.map((c) => c.targetGroupArn)).not.toContain(d.weightedSlot);
    }
  });
});
