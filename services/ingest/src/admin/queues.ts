import { Router } from 'express';
import { AppError } from '@leadrouter/core';
import { COUNT_DEAD_LETTERS, runStatement, sqlPool } from '@leadrouter/db';
import type { IngestDeps } from '../deps.js';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * `GET /v1/admin/queues`: what is waiting — jobs in each queue by state
 * (from Redis, as the worker's `leadrouter_queue_jobs` gauge reads them) and
 * the dead letters an operator has not yet retried or discarded.
 */
export function queuesRouter({ db, queues }: IngestDeps): Router {
  const router = Router();
  const redisUnavailable = (cause?: unknown) =>
    new AppError(
      'unavailable',
      'Redis cannot be reached right now; retry shortly',
      503,
      { retryAfterSeconds: 5 },
      { cause },
    );
  router.get('/', async (_req, res) => {
    // The counts would wait for a connection that has never been up (BullMQ waits for the first one).
    if (!queues.connected) throw redisUnavailable();
    const [depths, dead] = await Promise.all([
      Promise.all(
        queues.all().map(async (q) => {
          const counts = await q.getJobCounts(...JOB_STATES);
          return { name: q.name, ...Object.fromEntries(JOB_STATES.map((s) => [s, counts[s] ?? 0])) };
        }),
      ).catch((err: unknown) => {
        throw redisUnavailable(err);
      }),
      runStatement(sqlPool(db), COUNT_DEAD_LETTERS, {}),
    ]);
    res.json({ queues: depths, deadLetters: dead[0]!.n });
  });
  return router;
}
