import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectOnce, parseProbeTarget, startProbe, type RawAttempt } from '../../lib/drill/probe.js';
import { freePort } from '../harness/index.js';

describe('parseProbeTarget', () => {
  it.each([
    ['my-nlb-0123.elb.eu-west-1.amazonaws.com:5432', { host: 'my-nlb-0123.elb.eu-west-1.amazonaws.com', port: 5432 }],
    ['10.0.1.5:5432', { host: '10.0.1.5', port: 5432 }],
    ['[fd00::5]:5432', { host: 'fd00::5', port: 5432 }],
    ['nlb', undefined],
    ['nlb:0', undefined],
    ['nlb:70000', undefined],
    ['fd00::5:5432', undefined],
  ])('%s', (text, expected) => {
    expect(parseProbeTarget(text)).toEqual(expected);
  });
});

describe('startProbe against a loopback listener', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server?.listening) await new Promise((r) => server?.close(r));
  });
  const listen = async (port: number) => {
    server = createServer((s) => s.destroy());
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
  };

  it('connects every interval, and reports each change of outcome once', async () => {
    const port = await freePort();
    await listen(port);
    const changes: RawAttempt[] = [];
    const probe = startProbe({ host: '127.0.0.1', port }, { intervalMs: 100, onChange: (a) => changes.push(a) });

    await new Promise((r) => setTimeout(r, 350));
    await new Promise((r) => server?.close(r));
    await new Promise((r) => setTimeout(r, 350));
    await listen(port);
    await new Promise((r) => setTimeout(r, 350));
    await probe.stop();

    const attempts = probe.attempts();
    expect(attempts.length).toBeGreaterThanOrEqual(6);
    expect(changes.map((c) => [c.ok, c.error])).toEqual([
      [true, undefined],
      [false, 'ECONNREFUSED'],
      [true, undefined],
    ]);
    expect(probe.target).toBe(`127.0.0.1:${port}`);
  });

  it('rejects with the error code when nothing listens', async () => {
    await expect(connectOnce({ host: '127.0.0.1', port: await freePort() }, 500)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
