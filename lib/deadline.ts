// Rule 9: a run ends inside the Lambda deadline. Work that has not finished by its bound is given
// up on (the run reports it and goes on to its summary line and metrics); the work itself is not
// cancelled, so whatever it would still change must check a gate first.

/** Resolves with the work's value, or `timedOut` once `ms` pass (never, for an infinite bound). */
export async function within<T>(work: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  const finished = work.then((value) => ({ done: true as const, value }));
  if (!Number.isFinite(ms)) return finished;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), Math.max(0, ms));
  });
  try {
    return await Promise.race([finished, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Closed when a run gave up on work at its deadline: no side effect may start after that. */
export class Gate {
  open = true;
  close(): void {
    this.open = false;
  }
}
