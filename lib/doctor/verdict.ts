// What every doctor check returns, and the small helpers that build and combine verdicts.
import { describeError } from '../log.js';
import type { DoctorReader } from './read.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface Verdict {
  status: CheckStatus;
  message: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

export interface CheckResult extends Verdict {
  /** Stable name of the check, e.g. `nlb.zones`: for scripts, the README and the tests. */
  id: string;
  /** What was checked: a mapping, a load balancer, an endpoint service, a function. */
  subject: string;
}

/** What every check gets besides its subject. */
export interface DoctorContext {
  reader: DoctorReader;
  region: string;
  serviceIds: string[];
  allowedAccounts: string[];
  now: () => number;
}

export interface Check<S> {
  id: string;
  run(subject: S, ctx: DoctorContext): Promise<Verdict>;
}

/** "a, b, c": addresses, zones and IDs in messages. */
export const list = (items: readonly string[]) => items.join(', ');

export const pass = (message: string): Verdict => ({ status: 'pass', message });
export const warn = (message: string, fix?: string): Verdict => ({ status: 'warn', message, ...(fix ? { fix } : {}) });
export const fail = (message: string, fix: string): Verdict => ({ status: 'fail', message, fix });

/** An earlier check found the input missing; that check carries the failure, this one only says so. */
export const notChecked = (why: string, fix?: string): Verdict => warn(`not checked: ${why}`, fix);

const SEVERITY: Record<CheckStatus, number> = { pass: 0, warn: 1, fail: 2 };

/**
 * Several verdicts about one thing (one per load balancer, one per kind of connection) as one:
 * the worst status, the messages of that status, and every fix.
 */
export function worstOf(verdicts: Verdict[]): Verdict {
  const worst = verdicts.reduce<CheckStatus>((w, v) => (SEVERITY[v.status] > SEVERITY[w] ? v.status : w), 'pass');
  const shown = verdicts.filter((v) => v.status === worst);
  const fixes = [...new Set(verdicts.flatMap((v) => (v.fix ? [v.fix] : [])))];
  return { status: worst, message: shown.map((v) => v.message).join('; '), ...(fixes.length > 0 ? { fix: fixes.join(' ') } : {}) };
}

// Errors that make every AWS answer unknowable: reporting each check as "could not tell"
// would bury the one thing to fix, so the run stops with this error instead.
const FATAL = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'AuthFailure',
]);

export function isFatalAwsError(err: unknown): boolean {
  const { name, message } = describeError(err);
  return FATAL.has(name) || /region is missing/i.test(message);
}

/** An AWS call failed in a way that says nothing about the chain: a check that cannot tell warns. */
export function couldNotTell(err: unknown): Verdict {
  const { name, message } = describeError(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const denied = /AccessDenied|UnauthorizedOperation|not authorized/i.test(`${name} ${message}`);
  return warn(
    `could not tell: ${name}${status ? ` (HTTP ${status})` : ''}: ${message.split('\n')[0]}`,
    denied ? 'Your AWS credentials lack a read permission doctor needs: see "Operator CLI" in the README for the list.' : undefined,
  );
}
