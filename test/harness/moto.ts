// moto (https://github.com/getmoto/moto), the AWS API emulator, as a child process on a free
// loopback port. Free of vitest so that `npm run local` and the benchmark can use it too.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

export const MOTO_INSTALL_HINT =
  "moto not found: pip install 'moto[server]==5.2.1'  (AWS API emulator used by the integration tests and npm run local)";

export interface Moto {
  /** Base URL for the SDK's `endpoint` option or AWS_ENDPOINT_URL, e.g. http://127.0.0.1:40123 */
  readonly endpoint: string;
  /** Forget every resource moto holds (POST /moto-api/reset), so one server can serve many tests. */
  reset(): Promise<void>;
  /** Kills moto and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** How long moto may take to answer HTTP. Default 15 s (it usually needs about 1 s). */
  readonly readyTimeoutMs?: number;
}

const PYTHON = 'python3';

let available: boolean | undefined;

/** Whether `python3` can import moto's server. Cached: the answer will not change during a run. */
export function motoAvailable(): boolean {
  available ??= spawnSync(PYTHON, ['-c', 'import moto.server'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
  return available;
}

let warned = false;

/**
 * Whether tests that need moto should run. Without moto: throws when REQUIRE_MOTO=1 (CI must
 * not pass by skipping), otherwise warns once, loudly, and returns false.
 * Vitest: `describe.skipIf(!motoOrSkip())('...', ...)`.
 */
export function motoOrSkip(): boolean {
  if (motoAvailable()) return true;
  if (process.env.REQUIRE_MOTO === '1') throw new Error(`REQUIRE_MOTO=1 but ${MOTO_INSTALL_HINT}`);
  if (!warned) console.warn(`*** SKIPPING moto-backed tests: ${MOTO_INSTALL_HINT} ***`);
  warned = true;
  return false;
}

// Runs moto's own entry point, plus a lifeline: stdin is a pipe from us, and when it closes
// (node exited in any way, even SIGKILL) moto exits too instead of lingering on its port.
const LAUNCHER = `
import os, sys, threading
def lifeline():
    while os.read(0, 4096):
        pass
    os._exit(0)
threading.Thread(target=lifeline, daemon=True).start()
from moto.server import main
main(sys.argv[1:])
`;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

// Last resort for a parent that exits without stop(): 'exit' handlers must be synchronous.
function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const proc of running) killGroup(proc, 'SIGKILL');
  });
}

// moto runs in its own process group (detached), so the whole group can be signalled.
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal); // the group is already gone, or was never created
  }
}

/** Starts moto on a free loopback port and resolves once it answers HTTP. */
export async function startMoto(options: StartMotoOptions = {}): Promise<Moto> {
  if (!motoAvailable()) throw new Error(MOTO_INSTALL_HINT);
  // Another process can take the port between our probe and moto's bind: retry on a new one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(await freePort(), options.readyTimeoutMs ?? 15_000);
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === 5) throw error;
    }
  }
}

class PortTakenError extends Error {}

async function startOn(port: number, readyTimeoutMs: number): Promise<Moto> {
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(PYTHON, ['-c', LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  killOnExit(child);

  // moto logs every request to stderr: keep draining it (a full pipe would block moto) but
  // remember only the tail, for error messages.
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  // 'close', not 'exit': by then all of stderr has been read, for the error message.
  let closed = false;
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const gone = () => closed || spawnError !== undefined;

  const stop = async () => {
    if (gone()) return;
    // SIGKILL: moto holds nothing worth saving, and on SIGTERM it takes over a second to exit.
    killGroup(child, 'SIGKILL');
    await exited;
  };

  const deadline = Date.now() + readyTimeoutMs;
  while (!(await answers(`${endpoint}/moto-api/`))) {
    if (gone()) {
      if (/address already in use/i.test(stderr)) throw new PortTakenError(stderr);
      const why = spawnError?.message ?? `exit ${child.exitCode ?? child.signalCode}`;
      throw new Error(`moto exited before it was ready (${why}):\n${stderr}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`moto did not answer on ${endpoint} within ${readyTimeoutMs} ms:\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    endpoint,
    stop,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
    },
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** A port that was free a moment ago: bind port 0, read what the kernel chose, release it. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not pick a free port');
  return address.port;
}
