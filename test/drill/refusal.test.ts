import { describe, expect, it } from 'vitest';
import type { DatabaseInfo } from '../../lib/aws/failover.js';
import type { Mapping } from '../../lib/config.js';
import { baselineMismatch, failoverRefusal, pickMapping } from '../../lib/drill/refusal.js';

const WRITER = 'orders.cluster-c0ffee.eu-west-1.rds.amazonaws.com';
const TG = 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/orders/0123456789abcdef';
const cluster = (members: { id: string; writer: boolean }[], over: Partial<DatabaseInfo> = {}): DatabaseInfo => ({ kind: 'cluster', id: 'orders', status: 'available', endpoint: WRITER, port: 5432, members, ...over });
const instance = (over: Partial<DatabaseInfo> = {}): DatabaseInfo => ({ kind: 'instance', id: 'billing', status: 'available', endpoint: 'billing.c0ffee.eu-west-1.rds.amazonaws.com', port: 5432, multiAz: true, ...over });
const TWO = [
  { id: 'orders-1', writer: true },
  { id: 'orders-2', writer: false },
];

describe('failoverRefusal', () => {
  it('lets a cluster with a reader, and a Multi-AZ instance, fail over', () => {
    expect(failoverRefusal(cluster(TWO))).toBeUndefined();
    expect(failoverRefusal(cluster(TWO), 'orders-2')).toBeUndefined();
    expect(failoverRefusal(instance())).toBeUndefined();
  });

  it.each([
    [cluster([{ id: 'orders-1', writer: true }]), undefined, 'DB cluster orders has one instance (orders-1) and no reader or standby to fail over to: add a reader first'],
    [cluster([]), undefined, 'DB cluster orders has no instances and no reader or standby to fail over to: add a reader first'],
    [cluster(TWO), 'orders-9', '--target-instance orders-9 is not a member of DB cluster orders (members: orders-1, orders-2)'],
    [cluster(TWO), 'orders-1', '--target-instance orders-1 is already the writer of DB cluster orders: name a reader'],
    [cluster(TWO, { status: 'failing-over' }), undefined, 'DB cluster orders is failing-over: wait until it is available'],
    [instance({ multiAz: false }), undefined, 'DB instance billing is not Multi-AZ (MultiAZ false): it has no standby to fail over to'],
    [instance({ clusterId: 'orders' }), undefined, 'DB instance billing is a member of DB cluster orders: fail over the cluster (--db-cluster-identifier orders)'],
    [instance({ endpoint: null, status: null }), undefined, 'DB instance billing has no endpoint yet'],
  ])('refuses %#', (db, target, reason) => {
    expect(failoverRefusal(db, target)).toBe(reason);
  });
});

describe('pickMapping', () => {
  const m = (endpoint: string, targetGroupArn = TG, port = 5432): Mapping => ({ endpoint, targetGroupArn, port, ipAddressType: 'ipv4' });

  it("watches the mapping that follows the database's endpoint", () => {
    const mappings = [m('other.cluster-c0ffee.eu-west-1.rds.amazonaws.com', `${TG}0`), m(WRITER)];

    expect(pickMapping(mappings, cluster(TWO))).toBe(mappings[1]);
  });

  it('takes the mapping of --target-group-arn, whatever its endpoint', () => {
    const mappings = [m('orders-1.c0ffee.eu-west-1.rds.amazonaws.com', `${TG}0`), m(WRITER)];

    expect(pickMapping(mappings, cluster(TWO), `${TG}0`)).toBe(mappings[0]);
  });

  it('refuses to watch a reader or custom endpoint (its DNS answer changes without a failover)', () => {
    const reader = 'orders.cluster-ro-c0ffee.eu-west-1.rds.amazonaws.com';

    expect(pickMapping([m(reader)], cluster(TWO), TG)).toBe(`${reader} is a reader endpoint: the drill watches a writer or instance endpoint's group (--target-group-arn)`);
  });

  it('says what to pass when no mapping, or several, fit', () => {
    expect(pickMapping([m('x.example.com')], cluster(TWO))).toBe(`no configured mapping follows ${WRITER} (the endpoint of DB cluster orders): pass --target-group-arn <arn> of the group to watch`);
    expect(pickMapping([m(WRITER), m(WRITER, `${TG}0`)], cluster(TWO))).toBe(`2 mappings follow ${WRITER}: pass --target-group-arn <arn> to pick one`);
    expect(pickMapping([m(WRITER)], cluster(TWO), `${TG}0`)).toBe(`no configured mapping has target group ${TG}0`);
  });
});

describe('baselineMismatch', () => {
  it('accepts a group that holds exactly the answer, and refuses one that does not', () => {
    expect(baselineMismatch(['10.0.1.11'], ['10.0.1.11'])).toBeUndefined();
    expect(baselineMismatch(['10.0.1.11'], [])).toBe(
      'the target group (no targets) does not hold the endpoint\'s answer (10.0.1.11) before the failover: run "rds-nlb-sync sync" first (or drill --local)',
    );
    expect(baselineMismatch(['10.0.1.11'], ['10.0.1.11', '10.0.2.12'])).toMatch(/^the target group \(10\.0\.1\.11, 10\.0\.2\.12\) does not hold/);
  });
});
