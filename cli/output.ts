// Human output, readable at a glance: one block per mapping / service / function, the status
// first, the fix under a failure. (--json prints the same data as JSON instead.)
import type { Decision } from '../lib/accept/decide.js';
import type { AcceptSummary } from '../lib/accept/run.js';
import type { CheckResult, CheckStatus, DoctorReport } from '../lib/doctor/run.js';
import type { MemberResult } from '../lib/sync/members.js';
import type { MappingResult, SyncSummary } from '../lib/sync/run.js';
import type { MappingPlan, PlanReport } from './plan.js';

export interface Style {
  color: boolean;
}

const ANSI = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2 } as const;
const paint = (style: Style, code: keyof typeof ANSI, text: string) => (style.color ? `\x1b[${ANSI[code]}m${text}\x1b[0m` : text);

const STATUS_COLOR: Record<CheckStatus, keyof typeof ANSI> = { pass: 'green', warn: 'yellow', fail: 'red' };
const tag = (style: Style, status: CheckStatus) => paint(style, STATUS_COLOR[status], status.toUpperCase().padEnd(4));

const tgShort = (arn: string) => arn.split(':targetgroup/')[1] ?? arn;
const heading = (style: Style, m: { endpoint: string; targetGroupArn: string; port: number }) =>
  paint(style, 'bold', `${m.endpoint} -> ${tgShort(m.targetGroupArn)} port ${m.port}`);
const ips = (list: readonly string[]) => (list.length > 0 ? list.join(', ') : '-');
/** Reader and custom endpoints: each member instance and what it resolved to. */
const memberLines = (members: MemberResult[] | undefined) =>
  members ? [`  members      ${members.map((m) => `${m.id} ${m.error ? `(${m.error.message})` : m.addresses?.length ? ips(m.addresses) : '(no instance endpoint yet)'}`).join('; ')}`] : [];
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
/** An SDK message can span lines: keep its continuation under the first line's text. */
const indentLines = (text: string, indent: string) => text.split('\n').map((l) => l.trim()).join(`\n${indent}`);

// ---------------------------------------------------------------------------------------------
// doctor

export function renderDoctor(report: DoctorReport, region: string, style: Style): string {
  const width = Math.max(...report.checks.map((c) => c.id.length)) + 2;
  const lines = [`rds-nlb-sync doctor (region ${region})`];
  let subject: string | undefined;
  for (const check of report.checks) {
    if (check.subject !== subject) {
      subject = check.subject;
      lines.push('', paint(style, 'bold', subject));
    }
    lines.push(...renderCheck(check, width, style));
  }
  const { pass, warn, fail } = report.counts;
  const verdict = report.ok ? paint(style, 'green', 'OK') : paint(style, 'red', 'FAILED');
  lines.push('', `${verdict}: ${pass} passed, ${plural(warn, 'warning')}, ${fail} failed`);
  return lines.join('\n');
}

function renderCheck(check: CheckResult, width: number, style: Style): string[] {
  const lines = [`  ${tag(style, check.status)}  ${check.id.padEnd(width)}${check.message}`];
  const indent = ' '.repeat(2 + 4 + 2 + width);
  if (check.fix) lines.push(`${indent}${paint(style, 'dim', 'fix:')} ${check.fix}`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// plan

export function renderPlan(report: PlanReport, style: Style): string {
  const blocks = report.mappings.map((m) => renderMappingPlan(m, style));
  const changes = report.mappings.reduce((n, m) => n + m.add.length + m.remove.length, 0);
  const failed = report.mappings.filter((m) => m.error).length;
  const summary = failed > 0 ? paint(style, 'red', `${plural(failed, 'mapping')} could not be planned`) : changes === 0 ? 'nothing to change' : `${plural(changes, 'change')} planned`;
  return [...blocks, `plan: ${summary}${report.force ? ' (force)' : ''}. Nothing was changed.`].join('\n\n');
}

function renderMappingPlan(m: MappingPlan, style: Style): string {
  const lines = [
    heading(style, m),
    `  resolved     ${m.resolved ? ips(m.resolved) : '(unknown)'}`,
    ...memberLines(m.members),
    `  registered   ${m.registered ? ips(m.registered.map((t) => `${t.ip} (${t.state})`)) : '(unknown: the target group could not be read)'}`,
    ...m.add.map((ip) => paint(style, 'green', `  + ${ip}  would register`)),
    ...m.remove.map((ip) => paint(style, 'red', `  - ${ip}  would deregister`)),
  ];
  if (m.error) lines.push(paint(style, 'red', `  error: ${indentLines(m.error.message, '         ')}`), '  nothing would change for this mapping');
  else if (m.add.length + m.remove.length === 0) lines.push('  in sync: nothing to do');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// sync

export interface RenderOptions {
  /** --no-metrics: say so instead of hinting at a metrics failure. */
  metricsOff?: boolean;
  /** A failed run's summary read from its log: whether its metrics went out is not known here. */
  metricsUnknown?: boolean;
}

export function renderSync(summary: SyncSummary, style: Style, options: RenderOptions = {}): string {
  const blocks = summary.mappings.map((m) => renderMappingResult(m, summary.dryRun, style));
  // A forced run registers addresses that were already there: those are re-registered, not added.
  const sum = (f: (m: MappingResult) => number) => summary.mappings.reduce((n, m) => n + f(m), 0);
  const added = sum((m) => m.added.filter((ip) => !m.registered?.includes(ip)).length);
  const again = sum((m) => m.added.filter((ip) => m.registered?.includes(ip)).length);
  const removed = sum((m) => m.removed.length);
  const outcome = summary.outcome === 'success' ? paint(style, 'green', 'succeeded') : paint(style, 'red', 'FAILED');
  const mode = [summary.dryRun ? 'dry run' : '', summary.force ? 'force' : ''].filter(Boolean).join(', ');
  const changes = summary.dryRun
    ? [`would add ${added}`, ...(again > 0 ? [`would re-register ${again}`] : []), `would remove ${removed}`]
    : [`${added} added`, ...(again > 0 ? [`${again} re-registered`] : []), `${removed} removed`];
  const metricsNote = options.metricsOff ? ['metrics not sent (--no-metrics)'] : options.metricsUnknown ? [] : summary.metricsSent ? [] : [paint(style, 'yellow', 'metrics were not sent (--verbose shows why)')];
  const tail = [
    `sync ${outcome}${mode ? ` (${mode})` : ''}: ${plural(summary.mappings.length, 'mapping')}, ${changes.join(', ')}, ${summary.failed} failed, ${summary.durationMs} ms`,
    ...metricsNote,
  ];
  return [...blocks, tail.join('\n')].join('\n\n');
}

function renderMappingResult(m: MappingResult, dryRun: boolean, style: Style): string {
  const would = dryRun ? 'would ' : '';
  const lines = [
    heading(style, m),
    `  resolved     ${m.resolved ? ips(m.resolved) : '(unknown)'}`,
    ...memberLines(m.members),
    // Rule 10: a group that could not be read is unknown, not empty; a settled one was not read on purpose.
    `  registered   ${m.registered ? `${ips(m.registered)} (before the run)` : m.reason === 'settled' ? '(not read this run: settled at its last read, and DNS answers as then)' : '(unknown: the target group could not be read)'}`,
    ...m.added.map((ip) => paint(style, 'green', `  + ${ip}  ${would}${m.registered?.includes(ip) ? 're-' : ''}register${dryRun ? '' : 'ed'}`)),
    ...m.removed.map((ip) => paint(style, 'red', `  - ${ip}  ${would}deregister${dryRun ? '' : 'ed'}`)),
  ];
  if (m.error) lines.push(paint(style, 'red', `  error: ${indentLines(m.error.message, '         ')}`));
  else if (m.reason === 'settled') lines.push('  settled: read in a later run (the read budget: docs/operate.md)');
  else if (m.added.length + m.removed.length === 0) lines.push('  in sync: nothing to do');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// accept

export function renderAccept(summary: AcceptSummary, style: Style, options: RenderOptions = {}): string {
  const decision = (verb: string, color: keyof typeof ANSI) => (d: Decision) => paint(style, color, `  ${verb.padEnd(14)}${d.endpointId} (${d.owner ?? 'owner unknown'}: ${d.reason})`);
  const blocks = summary.services.map((s) =>
    [
      paint(style, 'bold', `endpoint service ${s.serviceId}: ${s.pending === null ? 'pending connections unknown' : `${s.pending} pending`}`),
      ...s.accepted.map(decision('accepted', 'green')),
      ...s.rejected.map(decision('rejected', 'yellow')),
      ...(s.wouldAccept ?? []).map(decision('would accept', 'green')),
      ...(s.wouldReject ?? []).map(decision('would reject', 'yellow')),
      ...s.left.map(decision('left pending', 'yellow')),
      ...s.errors.map((e) => paint(style, 'red', `  error         ${e.action}${e.endpointId ? ` ${e.endpointId}` : ''}: ${e.code}: ${indentLines(e.message, ' '.repeat(16))}`)),
    ].join('\n'),
  );
  const runErrors = summary.errors.map((e) => paint(style, 'red', `error: ${e.action}: ${e.code}: ${indentLines(e.message, '       ')}`));
  const t = summary.totals;
  const outcome = summary.outcome === 'failed' ? paint(style, 'red', 'FAILED') : paint(style, 'green', 'succeeded');
  const tail = `accept ${outcome}${summary.dryRun ? ' (dry run)' : ''}: ${t.accepted} accepted, ${t.rejected} rejected, ${t.stillPending === null ? 'pending unknown' : `${t.stillPending} still pending`}, ${plural(t.errors, 'error')}`;
  const metricsNote = options.metricsOff ? '\nmetrics not sent (--no-metrics)' : '';
  return [...blocks, ...(runErrors.length > 0 ? [runErrors.join('\n')] : []), `${tail}${metricsNote}`].join('\n\n');
}
