import type { Router } from 'express';
import { operations as table } from '@leadrouter/api';
import { AppError } from '@leadrouter/core';
import { COUNT_DEAD_LETTERS, runStatement, sqlPool } from '@leadrouter/db';
import type { IngestDeps } from '../deps.js';
import { tableRouter } from '../http/bind.js';

const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * `GET /v1/admin/queues`: what is waiting — jobs in each queue by state
 * (from Redis, as the worker's `leadrouter_queue_jobs` gauge reads them) and
 * the dead letters an operator has not yet retried or discarded.
 */
export function queuesRouter({ db, queues }: IngestDeps): Router {
  const { router, bind } = tableRouter('/v1/admin/queues');
  const redisUnavailable = (cause?: unknown) =>
    new AppError(
      'unavailable',
      'Redis cannot be reached right now; retry shortly',
      503,
      { retryAfterSeconds: 5 },
      { cause },
    );
  bind(table.getQueueDepths, async () => {
    // The counts would wait for a connection that has never been up (BullMQ waits for the first one).
    if (!queues.connected) throw redisUnavailable();
    const [depths, dead] = await Promise.all([
      Promise.all(
        queues.counted().map(async (q) => {
          const counts = await q.getJobCounts(...JOB_STATES);
          const n = (state: (typeof JOB_STATES)[number]) => counts[state] ?? 0;
          return {
            name: q.name,
            waiting: n('waiting'),
            active: n('active'),
            delayed: n('delayed'),
            failed: n('failed'),
          };
        }),
      ).catch((err: unknown) => {
        throw redisUnavailable(err);
      }),
      runStatement(sqlPool(db), COUNT_DEAD_LETTERS, {}),
    ]);
    return { status: 200, body: { queues: depths, deadLetters: dead[0]!.n } };
  });
  return router;
}
