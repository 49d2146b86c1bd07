import { Router } from 'express';
import {
  discardDeadLetter,
  discardDeadLetters,
  listDeadLetters,
  parseDeadLetterQuery,
  parseDiscardSelection,
  parseRetrySelection,
  retryDeadLetter,
  retryDeadLetters,
} from '@leadrouter/operations';
import type { IngestDeps } from '../deps.js';
import { jsonBody } from '../http/body.js';

/**
 * Dead-lettered deliveries, and retrying or discarding them (README
 * "Operating it (runbook)"; ADR 0007). The logic lives in @leadrouter/operations, shared with the CLI.
 */
export function deadLettersRouter({ db, queues }: IngestDeps): Router {
  const router = Router();
  const ops = { db, queues };

  router.get('/', async (req, res) => {
    res.json(await listDeadLetters(db, await parseDeadLetterQuery(db, req.query)));
  });

  // `{partner}` or `{all: true}`: every matching dead letter, in batches (see retryDeadLetters).
  router.post('/retry', jsonBody(), async (req, res) => {
    res.json(await retryDeadLetters(ops, await parseRetrySelection(db, req.body)));
  });

  // The same selection, discarded: bulk discard mirrors bulk retry (a DELETE with a body is ill-supported).
  router.post('/discard', jsonBody(), async (req, res) => {
    res.json(await discardDeadLetters(ops, await parseDiscardSelection(db, req.body)));
  });

  router.post('/:id/retry', async (req, res) => {
    res.json(await retryDeadLetter(ops, String(req.params.id)));
  });

  router.delete('/:id', async (req, res) => {
    await discardDeadLetter(ops, String(req.params.id));
    res.status(204).end();
  });

  return router;
}
