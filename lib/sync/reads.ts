// Which target groups a run reads. ELB meters every Describe* call of the account and region in
// one token bucket (ELB user guide, "Request throttling": 40 tokens, 10 added a second), shared
// with the console, Terraform and everything else: a run that reads 1,000 groups takes 100 s of
// that bucket, longer than the one-minute schedule. So a run reads at most its budget
// (TARGET_READS_PER_SECOND x the schedule interval) of the groups that are settled, and every
// group that may need work:
//   - read: never read in this container, not settled at its last read (a change in flight, no
//     healthy target, an error), its endpoint's DNS answer differs from that read's, a watched
//     or forced pass, or DNS failed (the group's state is what the run reports then);
//   - may skip: settled at its last read (in sync, at least one healthy target) and DNS still
//     answers what it answered then. A skipped group changes nothing, and nothing would have
//     changed: only someone else's edit of the group goes unseen until its turn comes.
// Settled groups take turns, the least recently read first, so each is read at least every
// ceil(settled / budget) runs. Under the budget every group is read every run, as before.
import { canonicalIp } from '../ip.js';

export interface LastRead {
  /** The DNS answer the group was read against, canonical and sorted. */
  answer: string;
  /** clock ms */
  at: number;
  /** In sync and at least one healthy target: what may be skipped while DNS agrees. */
  settled: boolean;
}

/** What this container knows of each group's last read (kept across warm invocations). */
export class ReadLedger {
  private readonly reads = new Map<string, LastRead>();

  get(key: string): LastRead | undefined {
    return this.reads.get(key);
  }

  /** A pass read the group against `addresses` (null: DNS failed, nothing to compare next time). */
  record(key: string, addresses: string[] | null, at: number, settled: boolean): void {
    if (addresses === null) this.reads.delete(key);
    else this.reads.set(key, { answer: answerKey(addresses), at, settled });
  }
}

export const answerKey = (addresses: string[]) => addresses.map(canonicalIp).sort().join(',');

export const readKey = (m: { targetGroupArn: string; port: number }) => `${m.targetGroupArn} ${m.port}`;

/**
 * The groups a run may skip (if they are still settled and DNS agrees when their pass runs): the
 * settled ones beyond the budget, the most recently read. `keys`: the run's mappings; `budget`:
 * the reads the run may spend, on the groups that may need work first.
 */
export function skippable(keys: string[], ledger: ReadLedger, budget: number): Set<string> {
  const settled = keys.flatMap((key) => {
    const last = ledger.get(key);
    return last?.settled ? [{ key, last }] : [];
  });
  const mustRead = keys.length - settled.length;
  const turns = Math.max(0, budget - mustRead);
  // The least recently read settled groups take this run's turns; the rest may skip.
  settled.sort((a, b) => a.last.at - b.last.at);
  return new Set(settled.slice(turns).map(({ key }) => key));
}

/**
 * The skipping rule: the group was settled at its last read (looked up when the pass runs: a read
 * earlier in this run counts) and DNS answers in full what it answered then; never a forced or
 * watched pass.
 */
export function maySkip(last: LastRead | undefined, addresses: string[] | null, options: { force: boolean; watch: boolean }): last is LastRead {
  return last?.settled === true && addresses !== null && !options.force && !options.watch && last.answer === answerKey(addresses);
}
