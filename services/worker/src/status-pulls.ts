import { claimStatusPulls, runStatusPull, type ClaimedPull, type StatusPullDeps } from '@leadrouter/lifecycle/worker';
import { exchange } from '@leadrouter/delivery';
import type { WorkerDeps } from './deps.js';
import { every } from './every.js';

/** How often each worker looks for due status pulls (a "pull now" starts within this). */
export const STATUS_PULL_TICK_MS = 1_000;
/** Pulls one worker runs at once (each of one partner; the others wait for a free worker or the next tick). */
export const STATUS_PULLS_PER_WORKER = 4;
/**
 * How long stopping waits for runs to hand back their leases: a run waiting on a slow partner's answer is left
 * behind, and its lease, no longer renewed, runs out (the pull is then due again for another worker).
 */
const STOP_WAIT_MS = 3_000;

/**
 * The status pulls (docs/decisions/0029-status-pull.md): every tick, this worker claims the due pulls it has
 * room for — a lease on each partner's row, so no other worker pulls that partner until this run ends or its
 * lease runs out — and runs them in the background. Stopping hands back the leases of runs in progress
 * (between two requests) so another worker takes them at once.
 */
export function startStatusPulls(
  deps: WorkerDeps,
  { tickMs = STATUS_PULL_TICK_MS, perWorker = STATUS_PULLS_PER_WORKER } = {},
): { stop(): Promise<void> } {
  const pullDeps: StatusPullDeps = {
    db: deps.db,
    now: deps.now,
    log: deps.log,
    exchange: (request, limitBytes) => exchange(request, limitBytes, deps.agents),
    enqueuePostbacks: async (jobs) => {
      try {
        for (const job of jobs) await deps.queues.enqueuePostback(job);
      } catch (err) {
        deps.log.warn(
          { err: { message: (err as Error).message } },
          'postbacks not enqueued; the sweeper will send them',
        );
      }
    },
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  };
  const running = new Set<Promise<void>>();
  let stopping = false;

  const run = (pull: ClaimedPull) => {
    const log = deps.log.child({ partnerId: pull.id, run: pull.run });
    const done: Promise<void> = runStatusPull({ ...pullDeps, log }, pull, () => stopping)
      .then(() => undefined)
      .catch((err: unknown) =>
        // Its lease runs out and the pull is due again (on this worker or another).
        log.warn(
          { err: { message: (err as Error).message } },
          'status pull failed on our side; retried when its lease ends',
        ),
      )
      .finally(() => running.delete(done));
    running.add(done);
  };

  // The first round a tick after the start: the queues' own work starts first.
  const rounds = every(
    tickMs,
    async () => {
      if (stopping) return;
      try {
        for (const pull of await claimStatusPulls(deps, perWorker - running.size)) run(pull);
      } catch (err) {
        deps.log.warn({ err: { message: (err as Error).message } }, 'status pulls: claiming failed; will try again');
      }
    },
    { now: false },
  );
  return {
    async stop() {
      stopping = true;
      await rounds.stop();
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((resolve) => (waited = setTimeout(resolve, STOP_WAIT_MS))),
      ]);
      clearTimeout(waited);
    },
  };
}
