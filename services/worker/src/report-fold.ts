import { FOLD_REPORT_DELTAS, runStatement, sqlPool } from '@leadrouter/db';
import type { WorkerDeps } from './deps.js';

/** How often each worker moves the lead figures waiting in report_deltas into the rollups (ADR 0028). */
export const REPORT_FOLD_INTERVAL_MS = 5_000;
/** Deltas one fold moves: one short transaction each. */
export const REPORT_FOLD_BATCH = 5_000;
/** Folds one round runs at most; what is left waits for the next round (the reports read it meanwhile). */
const MAX_FOLDS = 100;

/**
 * Moves the lead figures the triggers appended to report_deltas into report_daily and report_hourly, in
 * batches of `batch` (each `report_fold()` one transaction that deletes its deltas and adds their sums), until
 * none is left or `stopping()` says so. Workers fold at once without a lock: a fold skips the deltas another
 * holds. Returns how many deltas it moved.
 */
export async function foldReportDeltas(
  deps: Pick<WorkerDeps, 'db'>,
  opts: { batch?: number; stopping?: () => boolean } = {},
): Promise<number> {
  const pool = sqlPool(deps.db);
  const batch = opts.batch ?? REPORT_FOLD_BATCH;
  let moved = 0;
  for (let i = 0; i < MAX_FOLDS && !opts.stopping?.(); i++) {
    const [{ folded = 0 } = {}] = await runStatement(pool, FOLD_REPORT_DELTAS, { maxRows: batch });
    moved += folded;
    if (folded < batch) break;
  }
  return moved;
}

/** Folds every `intervalMs` until stopped; a failure is logged and tried again next time. */
export function startReportFold(
  deps: Pick<WorkerDeps, 'db' | 'log'>,
  intervalMs = REPORT_FOLD_INTERVAL_MS,
): { stop(): Promise<void> } {
  let stopping = false;
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = foldReportDeltas(deps, { stopping: () => stopping })
      .then(() => undefined)
      .catch((err: unknown) => {
        deps.log.warn(
          { err: { message: (err as Error).message } },
          'folding the report figures failed; will try again',
        );
      })
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopping = true;
      clearInterval(timer);
      await running;
    },
  };
}
