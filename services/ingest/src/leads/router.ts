import { Router, type ErrorRequestHandler } from 'express';
import { AppError, compile, invalid, toFieldErrors, unauthorized } from '@leadrouter/core';
import type { IngestDeps } from '../deps.js';
import { sourceAuth } from '../http/auth.js';
import { jsonBody } from '../http/body.js';
import { acceptLead, checkLead, MAX_IDEMPOTENCY_KEY, type AcceptOutcome } from './accept.js';
import { recordRejection, rejectionOf } from './rejections.js';
import { showLead } from './show.js';
import { mapConcurrent } from './concurrency.js';

export const MAX_BATCH = 500;
const BATCH_BODY_LIMIT = '8mb';
/** Leads of one batch recorded at once: enough to overlap round trips, few enough to leave connections for others. */
const BATCH_CONCURRENCY = 4;

const validateBatch = compile<{ leads: unknown[] }>({
  type: 'object',
  additionalProperties: false,
  required: ['leads'],
  properties: { leads: { type: 'array', minItems: 1, maxItems: MAX_BATCH } },
});

type BatchResult =
  | AcceptOutcome
  | { status: 'rejected'; errors: { field?: string; message: string }[] }
  | { status: 'error'; errors: { message: string }[] };

/** The source-facing lead API (SPEC "Ingest API"). */
export function leadsRouter(deps: IngestDeps): Router {
  const router = Router();
  const auth = sourceAuth(deps.db, deps.config.ADMIN_TOKEN);

  router.post(
    '/v1/leads',
    auth,
    async (req, res, next) => {
      await deps.rateLimits.consume(req.source!.id, req.source!.rateLimitPerMinute);
      jsonBody()(req, res, next);
    },
    async (req, res) => {
      const key = req.get('idempotency-key');
      const lead = checkLead(req.body, key);
      const outcome = await acceptLead(deps, req.source!, lead, key);
      if (outcome.status === 'duplicate') {
        recordRejection(deps, { sourceId: req.source!.id, httpStatus: 409, reason: 'duplicate', leadId: outcome.id });
        res.status(409).json(outcome);
        return;
      }
      res.status(202).json(outcome);
    },
  );

  router.post('/v1/leads/batch', auth, jsonBody({ limit: BATCH_BODY_LIMIT }), async (req, res) => {
    const source = req.source!;
    if (!validateBatch(req.body)) throw invalid(toFieldErrors(validateBatch.errors));
    const key = req.get('idempotency-key');
    if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY - 4)) {
      throw invalid([{ field: 'Idempotency-Key', message: `header must be 1–${MAX_IDEMPOTENCY_KEY - 4} characters` }]);
    }
    const leads = req.body.leads;
    await deps.rateLimits.consume(source.id, source.rateLimitPerMinute, leads.length);

    const results = await mapConcurrent(leads, BATCH_CONCURRENCY, async (body, i): Promise<BatchResult> => {
      // One key per lead of the batch, so a retried batch replays each lead's answer.
      const leadKey = key === undefined ? undefined : `${key}#${i}`;
      try {
        return await acceptLead(deps, source, checkLead(body, leadKey), leadKey);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        const rejection = rejectionOf(err, source.id);
        recordRejection(deps, rejection);
        return err.httpStatus >= 500
          ? { status: 'error', errors: [{ message: err.message }] }
          : { status: 'rejected', errors: err.details.errors ?? [{ message: err.message }] };
      }
    });
    for (const r of results) {
      if (r.status === 'duplicate')
        recordRejection(deps, { sourceId: source.id, httpStatus: 409, reason: 'duplicate', leadId: r.id });
    }
    res.status(207).json({ results });
  });

  router.get('/v1/leads/:id', sourceAuth(deps.db, deps.config.ADMIN_TOKEN, { allowAdmin: true }), async (req, res) => {
    if (!req.isAdmin && !req.source) throw unauthorized('missing API key');
    res.json(await showLead(deps.db, String(req.params.id), { sourceId: req.source?.id, admin: req.isAdmin === true }));
  });

  // Every lead request that was not accepted leaves a trace (without personal data).
  const trace: ErrorRequestHandler = (err: unknown, req, _res, next) => {
    if (err instanceof AppError && req.method === 'POST')
      recordRejection(deps, rejectionOf(err, req.source?.id ?? null));
    next(err);
  };
  router.use(trace);

  return router;
}
