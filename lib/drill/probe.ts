// The drill's --probe: a TCP connection to host:port every interval (e.g. from a machine in the
// VPC to the NLB's DNS name), each closed at once, each with a timeout shorter than the interval.
import { connect } from 'node:net';

export interface RawAttempt {
  /** epoch ms when the attempt started */
  ms: number;
  ok: boolean;
  error?: string;
}

export interface ProbeTarget {
  host: string;
  port: number;
}

export interface Probe {
  readonly target: string;
  readonly intervalMs: number;
  /** Every attempt so far, oldest first. */
  attempts(): RawAttempt[];
  /** Stops after the attempt in flight (if any) has ended. */
  stop(): Promise<void>;
}

export interface ProbeOptions {
  intervalMs?: number;
  /** Per attempt; default the interval less 100 ms, so attempts never overlap. */
  timeoutMs?: number;
  /** Called with each attempt whose outcome differs from the one before (and the first). */
  onChange?: (attempt: RawAttempt) => void;
  connectOnce?: (target: ProbeTarget, timeoutMs: number) => Promise<void>;
  now?: () => number;
}

/** "host:port" or "[v6]:port" -> the target; undefined when it is not that. */
export function parseProbeTarget(text: string): ProbeTarget | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  const host = m?.[1] ?? m?.[2];
  return host && port >= 1 && port <= 65535 ? { host, port } : undefined;
}

/** One TCP connection: resolves once connected (then closes it), rejects on error or timeout. */
export function connectOnce(target: ProbeTarget, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no connection within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
  });
}

export function startProbe(target: ProbeTarget, options: ProbeOptions = {}): Probe {
  const intervalMs = options.intervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? Math.max(50, intervalMs - 100);
  const attemptOnce = options.connectOnce ?? connectOnce;
  const now = options.now ?? Date.now;
  const attempts: RawAttempt[] = [];
  let stopped = false;
  let wake: (() => void) | undefined;

  const loop = (async () => {
    while (!stopped) {
      const ms = now();
      let attempt: RawAttempt;
      try {
        await attemptOnce(target, timeoutMs);
        attempt = { ms, ok: true };
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        attempt = { ms, ok: false, error: e.code ?? e.message };
      }
      const previous = attempts[attempts.length - 1];
      attempts.push(attempt);
      if (!previous || previous.ok !== attempt.ok) options.onChange?.(attempt);
      const left = ms + intervalMs - now();
      if (stopped || left <= 0) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();

  return {
    target: `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`,
    intervalMs,
    attempts: () => [...attempts],
    stop: async () => {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
