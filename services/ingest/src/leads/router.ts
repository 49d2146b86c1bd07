import { Router, type ErrorRequestHandler } from 'express';
import { AppError, compile, invalid, toFieldErrors, unauthorized } from '@leadrouter/core';
import type { AppDeps } from '../deps.js';
import { sourceAuth } from '../http/auth.js';
import { jsonBody } from '../http/body.js';
import { acceptAnswer, checkLead, LeadRecorder, MAX_IDEMPOTENCY_KEY } from './accept.js';
import { answerOf, countLead, recordRejection, rejectionOf } from './rejections.js';
import { showLeadToAdmin, showLeadToSource } from './show.js';
import { acceptBatch } from './batch.js';

export const MAX_BATCH = 500;
const BATCH_BODY_LIMIT = '8mb';

const validateBatch = compile<{ leads: unknown[] }>({
  type: 'object',
  additionalProperties: false,
  required: ['leads'],
  properties: { leads: { type: 'array', minItems: 1, maxItems: MAX_BATCH } },
});

/** The source-facing lead API (README "Posting leads (for sources)"). */
export function leadsRouter(deps: AppDeps): Router {
  const router = Router();
  const authOptions = { caches: deps.caches, failures: deps.authFailures, metrics: deps.metrics };
  const auth = sourceAuth(deps.db, deps.config.ADMIN_TOKEN, authOptions);
  const recorder = new LeadRecorder(deps);

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
      const outcome = await recorder.accept(req.source!, lead, key);
      if (outcome.status === 'duplicate') {
        recordRejection(deps, {
          sourceId: req.source!.id,
          httpStatus: 409,
          reason: 'duplicate',
          leadId: outcome.existingId,
        });
        countLead(deps, req.source, 'duplicate');
        res.status(409).json(acceptAnswer(outcome));
        return;
      }
      countLead(deps, req.source, 'accepted');
      res.status(202).json(acceptAnswer(outcome));
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

    const results = await acceptBatch(deps, recorder, source, leads, key);
    res.status(207).json({ results });
  });

  router.get(
    '/v1/leads/:id',
    sourceAuth(deps.db, deps.config.ADMIN_TOKEN, { ...authOptions, allowAdmin: true }),
    async (req, res) => {
      const id = String(req.params.id);
      // Each party its own view (README "What each party sees"; ADR 0015).
      if (req.isAdmin) res.json(await showLeadToAdmin(deps.db, id));
      else if (req.source) res.json(await showLeadToSource(deps.db, id, req.source.id));
      else throw unauthorized('missing API key');
    },
  );

  // Every lead request that was not accepted leaves a trace (without personal data); those without a valid key
  // are summed (RejectionLog).
  const trace: ErrorRequestHandler = (err: unknown, req, _res, next) => {
    if (err instanceof AppError && req.method === 'POST') {
      recordRejection(deps, rejectionOf(err, req.source?.id ?? null));
      if (req.path === '/v1/leads') countLead(deps, req.source, answerOf(err));
    }
    next(err);
  };
  router.use(trace);

  return router;
}
