import type { Router } from 'express';
import { operations as table } from '@leadrouter/api';
import {
  discardDeadLetter,
  discardDeadLetters,
  listDeadLetters,
  readDeadLetterQuery,
  type DeadLetterParams,
  parseDiscardSelection,
  parseRetrySelection,
  retryDeadLetter,
  retryDeadLetters,
} from '@leadrouter/lifecycle';
import type { FieldError } from '@leadrouter/core';
import type { IngestDeps } from '../deps.js';
import { tableRouter } from '../http/bind.js';

/**
 * Dead-lettered deliveries, and retrying or discarding them (README
 * "Operating it (runbook)"; ADR 0007). The logic lives in @leadrouter/lifecycle, shared with the CLI.
 */
export function deadLettersRouter({ db, queues }: IngestDeps): Router {
  const { router, bind } = tableRouter('/v1/admin/dead-letters');
  const ops = { db, queues };

  bind(table.listDeadLetters, async ({ query }) => ({ status: 200, body: await listDeadLetters(db, query) }), {
    query: (params: DeadLetterParams, problems: FieldError[]) => readDeadLetterQuery(db, params, problems),
  });

  // `{partner}` or `{all: true}`: every matching dead letter, in batches (see retryDeadLetters).
  bind(table.retryDeadLetters, async ({ body }) => ({
    status: 200,
    body: await retryDeadLetters(ops, await parseRetrySelection(db, body)),
  }));

  // The same selection, discarded: bulk discard mirrors bulk retry (a DELETE with a body is ill-supported).
  bind(table.discardDeadLetters, async ({ body }) => ({
    status: 200,
    body: await discardDeadLetters(ops, await parseDiscardSelection(db, body)),
  }));

  bind(table.retryDeadLetter, async ({ params }) => ({
    status: 200,
    body: await retryDeadLetter(ops, params.id),
  }));

  bind(table.discardDeadLetter, async ({ params }) => {
    await discardDeadLetter(ops, params.id);
    return { status: 204 };
  });

  return router;
}
