// The probe's socket: connect to the NLB listener, send the opening bytes, read the database's
// first answer, close. Everything (DNS, connect, answer) within one timeout.
import { connect } from 'node:net';
import type { ProbeProtocol } from '../config.js';
import { openingBytes, parseAnswer } from './protocol.js';

export interface ProbeTarget {
  host: string;
  port: number;
  protocol: ProbeProtocol;
}

export type ProbeFailureKind = 'timeout' | 'refused' | 'closed' | 'database-error' | 'unexpected-answer' | 'network';

type Outcome = { ok: true; detail: string } | { ok: false; kind: ProbeFailureKind; code?: number | string; message: string };
export type ProbeAnswer = Outcome & { latencyMs: number };

/** At most this much of an answer is kept: a greeting or an error packet is well under 1 KB. */
const MAX_ANSWER_BYTES = 16_384;

export function probeTarget(target: ProbeTarget, timeoutMs: number, now: () => number = Date.now): Promise<ProbeAnswer> {
  const started = now();
  const where = `${target.host}:${target.port}`;
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let settled = false;
    const socket = connect({ host: target.host, port: target.port });
    const finish = (answer: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...answer, latencyMs: now() - started });
    };
    const timer = setTimeout(
      () => finish({ ok: false, kind: 'timeout', message: `${where}: no ${target.protocol} answer within ${timeoutMs} ms (${socket.connecting ? 'connecting' : 'connected, silent'})` }),
      timeoutMs,
    );
    socket.on('connect', () => {
      // tcp: the engine waits for the client (Oracle, SQL Server), so the connection is the answer.
      if (target.protocol === 'tcp') return finish({ ok: true, detail: 'tcp connection accepted (the database was not asked to answer)' });
      const opening = openingBytes(target.protocol);
      if (opening.length > 0) socket.write(opening);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]).subarray(0, MAX_ANSWER_BYTES);
      const answer = parseAnswer(target.protocol, received);
      if (answer.kind === 'ok') finish({ ok: true, detail: answer.detail });
      else if (answer.kind === 'refused') {
        finish({ ok: false, kind: answer.databaseError ? 'database-error' : 'unexpected-answer', ...(answer.code !== undefined ? { code: answer.code } : {}), message: `${where}: ${answer.message}` });
      } else if (received.length >= MAX_ANSWER_BYTES) finish({ ok: false, kind: 'unexpected-answer', message: `${where}: ${MAX_ANSWER_BYTES} bytes without a complete answer` });
    });
    socket.on('end', () => finish({ ok: false, kind: 'closed', message: `${where}: the connection was closed before the database answered (${received.length} bytes)` }));
    socket.on('close', () => finish({ ok: false, kind: 'closed', message: `${where}: the connection was closed before the database answered (${received.length} bytes)` }));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const kind: ProbeFailureKind = err.code === 'ECONNREFUSED' ? 'refused' : 'network';
      finish({ ok: false, kind, ...(err.code ? { code: err.code } : {}), message: `${where}: ${err.message}` });
    });
  });
}
