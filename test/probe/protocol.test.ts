import { describe, expect, it } from 'vitest';
import { openingBytes, parseMysqlGreeting, parsePostgresAnswer, POSTGRES_SSL_REQUEST_CODE } from '../../lib/probe/protocol.js';
import { HOST_BLOCKED_MESSAGE, mysqlError, mysqlGreeting, mysqlPacket, postgresError } from './fixtures.js';

describe('MySQL / MariaDB greeting', () => {
  it('takes a protocol v10 handshake as an answer, naming the server version', () => {
    expect(parseMysqlGreeting(mysqlGreeting('10.11.8-MariaDB-log'))).toEqual({ kind: 'ok', detail: 'mysql protocol 10, server 10.11.8-MariaDB-log' });
  });

  it('takes error 1129 (host blocked) as a database error with its code and message', () => {
    expect(parseMysqlGreeting(mysqlError(1129, HOST_BLOCKED_MESSAGE))).toEqual({
      kind: 'refused',
      databaseError: true,
      code: 1129,
      message: `MySQL error 1129: ${HOST_BLOCKED_MESSAGE}`,
    });
  });

  it('reads past a SQL state marker in a 4.1 error packet', () => {
    const payload = Buffer.concat([Buffer.from([0xff, 0x10, 0x04]), Buffer.from('#08S01Too many connections')]);
    expect(parseMysqlGreeting(mysqlPacket(payload))).toMatchObject({ code: 1040, message: 'MySQL error 1040: Too many connections' });
  });

  it('waits for the rest of a packet that arrived in pieces', () => {
    const whole = mysqlError(1129, HOST_BLOCKED_MESSAGE);
    expect(parseMysqlGreeting(whole.subarray(0, 3))).toEqual({ kind: 'incomplete' });
    expect(parseMysqlGreeting(whole.subarray(0, 20))).toEqual({ kind: 'incomplete' });
    expect(parseMysqlGreeting(mysqlGreeting().subarray(0, 8))).toEqual({ kind: 'incomplete' });
  });

  it('refuses anything else as not a greeting (a PostgreSQL or TLS server on the port)', () => {
    expect(parseMysqlGreeting(mysqlPacket(Buffer.from([0x16, 0x03, 0x01])))).toEqual({ kind: 'refused', databaseError: false, message: 'not a MySQL greeting (first payload byte 0x16)' });
  });

  it('sends nothing first: the server speaks first', () => {
    expect(openingBytes('mysql')).toHaveLength(0);
  });
});

describe('PostgreSQL answer to an SSLRequest', () => {
  it('sends length 8 and code 80877103', () => {
    const request = openingBytes('postgres');
    expect(request).toHaveLength(8);
    expect(request.readInt32BE(0)).toBe(8);
    expect(request.readInt32BE(4)).toBe(POSTGRES_SSL_REQUEST_CODE);
    expect(POSTGRES_SSL_REQUEST_CODE).toBe((1234 << 16) | 5679);
  });

  it("takes 'S' and 'N' as answers", () => {
    expect(parsePostgresAnswer(Buffer.from('S'))).toMatchObject({ kind: 'ok', detail: expect.stringContaining('answered S') });
    expect(parsePostgresAnswer(Buffer.from('N'))).toMatchObject({ kind: 'ok', detail: expect.stringContaining('answered N') });
  });

  it('takes an ErrorResponse as a database error with its SQL state and message', () => {
    expect(parsePostgresAnswer(postgresError('53300', 'sorry, too many clients already'))).toEqual({
      kind: 'refused',
      databaseError: true,
      code: '53300',
      message: 'PostgreSQL error: sorry, too many clients already',
    });
    expect(parsePostgresAnswer(postgresError('53300', 'sorry').subarray(0, 7))).toEqual({ kind: 'incomplete' });
  });

  it('refuses any other first byte, and waits while there is none', () => {
    expect(parsePostgresAnswer(mysqlGreeting())).toMatchObject({ kind: 'refused', databaseError: false });
    expect(parsePostgresAnswer(Buffer.alloc(0))).toEqual({ kind: 'incomplete' });
  });
});
