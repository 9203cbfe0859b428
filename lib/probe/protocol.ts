// The database's first answer, parsed without credentials (pure: lib/probe/socket.ts feeds it bytes).
// A TCP handshake proves nothing (a MySQL server that blocks the NLB's address still completes
// it, then sends error 1129): the probe reads what the server says first.
import type { ProbeProtocol } from '../config.js';

/** What the probe sends first: nothing for MySQL (the server speaks first) or tcp (nothing is read), an SSLRequest for PostgreSQL. */
export function openingBytes(protocol: ProbeProtocol): Buffer {
  if (protocol !== 'postgres') return Buffer.alloc(0);
  // SSLRequest: Int32 length 8, Int32 code 80877103 (1234 << 16 | 5679). The server answers one byte.
  const request = Buffer.alloc(8);
  request.writeInt32BE(8, 0);
  request.writeInt32BE(POSTGRES_SSL_REQUEST_CODE, 4);
  return request;
}
export const POSTGRES_SSL_REQUEST_CODE = 80877103;

export type Answer =
  | { kind: 'incomplete' }
  | { kind: 'ok'; detail: string }
  /** databaseError: the database answered with an error (a MySQL error packet, a PostgreSQL ErrorResponse). */
  | { kind: 'refused'; databaseError: boolean; code?: number | string; message: string };

/** The MySQL/MariaDB greeting: a protocol v10 handshake is OK; an error packet (0xff) is a failure with its code. */
export function parseMysqlGreeting(bytes: Buffer): Answer {
  // Packet: 3-byte little-endian payload length, 1-byte sequence id, payload.
  if (bytes.length < 5) return { kind: 'incomplete' };
  const length = bytes.readUIntLE(0, 3);
  const first = bytes[4];
  if (first === 0x0a) {
    // Protocol v10: the server version follows, NUL-terminated.
    const end = bytes.indexOf(0, 5);
    if (end === -1) return bytes.length >= 4 + length ? { kind: 'refused', databaseError: false, message: 'MySQL greeting without a server version' } : { kind: 'incomplete' };
    return { kind: 'ok', detail: `mysql protocol 10, server ${bytes.toString('latin1', 5, end)}` };
  }
  if (first === 0xff) {
    if (bytes.length < 4 + length || length < 3) return { kind: 'incomplete' };
    const code = bytes.readUInt16LE(5);
    // 4.1 error packets may carry '#' and a 5-character SQL state before the message.
    const messageStart = bytes[7] === 0x23 ? 13 : 7;
    const message = bytes.toString('utf8', Math.min(messageStart, 4 + length), 4 + length);
    return { kind: 'refused', databaseError: true, code, message: `MySQL error ${code}: ${message}` };
  }
  return { kind: 'refused', databaseError: false, message: `not a MySQL greeting (first payload byte 0x${(first ?? 0).toString(16).padStart(2, '0')})` };
}

/** PostgreSQL's answer to an SSLRequest: 'S' (TLS offered) or 'N' (not) is OK; anything else a failure. */
export function parsePostgresAnswer(bytes: Buffer): Answer {
  if (bytes.length < 1) return { kind: 'incomplete' };
  const first = bytes[0];
  if (first === 0x53) return { kind: 'ok', detail: 'postgres SSLRequest answered S (TLS available)' };
  if (first === 0x4e) return { kind: 'ok', detail: 'postgres SSLRequest answered N (no TLS)' };
  if (first === 0x45) {
    // An ErrorResponse: Int32 length, then fields of a type byte and a NUL-terminated string; 'M' is the message.
    if (bytes.length < 5 || bytes.length < 1 + bytes.readInt32BE(1)) return { kind: 'incomplete' };
    const text = bytes.toString('utf8', 5, 1 + bytes.readInt32BE(1)).split('\0');
    const message = text.find((field) => field.startsWith('M'))?.slice(1);
    const sqlState = text.find((field) => field.startsWith('C'))?.slice(1);
    return { kind: 'refused', databaseError: true, ...(sqlState ? { code: sqlState } : {}), message: `PostgreSQL error${message ? `: ${message}` : ' (no message)'}` };
  }
  return { kind: 'refused', databaseError: false, message: `not a PostgreSQL answer to SSLRequest (first byte 0x${(first ?? 0).toString(16).padStart(2, '0')})` };
}

export function parseAnswer(protocol: ProbeProtocol, bytes: Buffer): Answer {
  // tcp reads nothing: the socket settles on the connection (lib/probe/socket.ts).
  if (protocol === 'tcp') return { kind: 'ok', detail: 'tcp connection accepted' };
  return protocol === 'mysql' ? parseMysqlGreeting(bytes) : parsePostgresAnswer(bytes);
}
