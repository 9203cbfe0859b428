// The probe's socket against local TCP servers on 127.0.0.1 that speak just the first bytes.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { POSTGRES_SSL_REQUEST_CODE } from '../../lib/probe/protocol.js';
import { probeTarget } from '../../lib/probe/socket.js';
import { HOST_BLOCKED_MESSAGE, mysqlError, mysqlGreeting } from './fixtures.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A server on 127.0.0.1 that hands each connection to `onConnection`; resolves to its port. */
async function listen(onConnection: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  // close() waits for open connections: a silent server's must be cut for afterEach to end.
  const close = server.close.bind(server);
  server.close = (cb) => {
    sockets.forEach((s) => s.destroy());
    return close(cb);
  };
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A PostgreSQL server's first step: read the 8-byte SSLRequest, answer one byte. */
const postgresAnswering = (answer: string) => (socket: Socket) => {
  let got = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    got = Buffer.concat([got, chunk]);
    if (got.length < 8) return;
    const valid = got.readInt32BE(0) === 8 && got.readInt32BE(4) === POSTGRES_SSL_REQUEST_CODE;
    socket.end(valid ? answer : 'E');
  });
};

describe('probeTarget (local TCP servers)', () => {
  it('reads a MySQL greeting as a working path', async () => {
    const port = await listen((socket) => socket.write(mysqlGreeting('8.0.39')));
    const answer = await probeTarget({ host: '127.0.0.1', port, protocol: 'mysql' }, 2000);
    expect(answer).toMatchObject({ ok: true, detail: 'mysql protocol 10, server 8.0.39' });
    expect(answer.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('reports MySQL error 1129 (host blocked) as a database error with its code, though TCP connected', async () => {
    const port = await listen((socket) => socket.end(mysqlError(1129, HOST_BLOCKED_MESSAGE)));
    const answer = await probeTarget({ host: '127.0.0.1', port, protocol: 'mysql' }, 2000);
    expect(answer).toMatchObject({ ok: false, kind: 'database-error', code: 1129, message: `127.0.0.1:${port}: MySQL error 1129: ${HOST_BLOCKED_MESSAGE}` });
  });

  it("sends PostgreSQL an SSLRequest and takes its 'S' or 'N'", async () => {
    for (const reply of ['S', 'N']) {
      const port = await listen(postgresAnswering(reply));
      const answer = await probeTarget({ host: '127.0.0.1', port, protocol: 'postgres' }, 2000);
      expect(answer, reply).toMatchObject({ ok: true, detail: expect.stringContaining(`answered ${reply}`) });
    }
  });

  it('fails on a PostgreSQL server that closes without answering', async () => {
    const port = await listen((socket) => socket.once('data', () => socket.end()));
    const answer = await probeTarget({ host: '127.0.0.1', port, protocol: 'postgres' }, 2000);
    expect(answer).toMatchObject({ ok: false, kind: 'closed', message: expect.stringContaining('closed before the database answered') });
  });

  it('gives up on a silent listener at the timeout', async () => {
    const port = await listen(() => undefined);
    const answer = await probeTarget({ host: '127.0.0.1', port, protocol: 'mysql' }, 300);
    expect(answer).toMatchObject({ ok: false, kind: 'timeout', message: expect.stringContaining('no mysql answer within 300 ms (connected, silent)') });
    // Generous bound: a loaded machine may fire the timer late, never early.
    expect(answer.latencyMs).toBeGreaterThanOrEqual(290);
    expect(answer.latencyMs).toBeLessThan(5000);
  });

  it('reports a refused connection', async () => {
    const port = await listen(() => undefined);
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const answer = await probeTarget({ host: '127.0.0.1', port, protocol: 'postgres' }, 2000);
    expect(answer).toMatchObject({ ok: false, kind: 'refused', code: 'ECONNREFUSED' });
  });

  it('tcp: takes an accepted connection to a silent server (an engine that waits for the client) as the answer, sending nothing', async () => {
    let received = 0;
    const port = await listen((socket) => socket.on('data', (chunk: Buffer) => (received += chunk.length)));
    const answer = await probeTarget({ host: '127.0.0.1', port, protocol: 'tcp' }, 2000);
    expect(answer).toMatchObject({ ok: true, detail: 'tcp connection accepted (the database was not asked to answer)' });
    expect(received).toBe(0);
  });

  it('tcp: reports a refused connection as a failure', async () => {
    const port = await listen(() => undefined);
    await new Promise((resolve) => servers.pop()?.close(resolve));
    expect(await probeTarget({ host: '127.0.0.1', port, protocol: 'tcp' }, 2000)).toMatchObject({ ok: false, kind: 'refused' });
  });
});
