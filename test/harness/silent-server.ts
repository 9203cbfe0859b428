// A TCP server on 127.0.0.1 that accepts every connection and never answers: what an AWS API
// endpoint looks like from a VPC whose route leads nowhere useful (a black-holed NAT, a proxy).
import { createServer, type Socket } from 'node:net';

export interface SilentServer {
  /** http://127.0.0.1:<port>, for AWS_ENDPOINT_URL_<SERVICE>. */
  readonly url: string;
  /** Connections accepted so far: shows the client really came here (and how often it retried). */
  connections(): number;
  close(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('silent server has no TCP address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}
