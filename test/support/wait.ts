import { inspect } from 'node:util';

/**
 * Polls `probe` until it returns something truthy, or fails after `timeoutMs`
 * with the last value seen: tests wait for a condition, never sleep and hope.
 */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  {
    timeoutMs = 15_000,
    intervalMs = 50,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const seen = lastError
        ? `error ${lastError instanceof Error ? String(lastError) : inspect(lastError)}`
        : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${seen}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A door a test opens when it chooses: a fake partner's responder awaits
 * `opened` to hold its answer until the test has arranged what should happen
 * meanwhile (`open()`), so an interleaving is made, not hoped for.
 */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
