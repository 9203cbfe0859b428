// Virtual time for runs that sleep: sleep(ms) waits for the clock to reach now + ms, and run()
// moves the clock to the next timer only when every started task is waiting on one. Concurrent
// sleepers then share one timeline, as they do in real time.
export function virtualClock() {
  let t = 0;
  const timers: { at: number; wake: () => void }[] = [];
  const settle = async () => {
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return {
    now: () => t,
    sleep: (ms: number) => new Promise<void>((wake) => timers.push({ at: t + ms, wake })),
    async run<T>(work: Promise<T>): Promise<T> {
      let done = false;
      const finished = work.finally(() => (done = true));
      for (;;) {
        await settle();
        if (done) return finished;
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift();
        if (!next) return finished; // waiting on something other than time
        t = Math.max(t, next.at);
        next.wake();
      }
    },
  };
}
