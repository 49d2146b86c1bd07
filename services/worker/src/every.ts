/**
 * Runs `round` every `intervalMs` (and at once, unless `{now: false}`), one round at a time: a tick that comes
 * while a round is still running is skipped. `round` handles its own errors. `stop()` ends the ticking and
 * waits for the round in progress. The timer does not keep the process alive.
 */
export function every(
  intervalMs: number,
  round: () => Promise<void>,
  { now = true }: { now?: boolean } = {},
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = round().finally(() => (running = null));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  if (now) tick();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
