import type { ErrorRequestHandler, RequestHandler, Router } from 'express';
import { leads as table, MAX_IDEMPOTENCY_KEY } from '@leadrouter/api';
import { AppError, invalid, unauthorized } from '@leadrouter/core';
import type { AppDeps } from '../deps.js';
import { sourceAuth } from '../http/auth.js';
import { tableRouter } from '../http/bind.js';
import { acceptAnswer, checkLead, LeadRecorder } from './accept.js';
import { answerOf, countLead, recordRejection, rejectionOf } from './rejections.js';
import { showLeadToAdmin, showLeadToSource } from './show.js';
import { acceptBatch } from './batch.js';
import { preferredWait, waitForOutcomes } from './wait.js';
import { answerPing, checkPing, claimPing } from './pings.js';

/** The source-facing lead API (README "Posting leads (for sources)"), bound to the route table's entries. */
export function leadsRouter(deps: AppDeps): Router {
  const authOptions = { caches: deps.caches, failures: deps.authFailures, metrics: deps.metrics };
  const { router, bind } = tableRouter('', {
    source: [sourceAuth(deps.db, deps.config.ADMIN_TOKEN, authOptions)],
    sourceOrAdmin: [sourceAuth(deps.db, deps.config.ADMIN_TOKEN, { ...authOptions, allowAdmin: true })],
  });
  const recorder = new LeadRecorder(deps);

  // A source over its limit is refused before its body is read.
  const rateLimit: RequestHandler = async (req, _res, next) => {
    await deps.rateLimits.consume(req.source!.id, req.source!.rateLimitPerMinute);
    next();
  };

  bind(
    table.createLead,
    async ({ body }, req, res) => {
      const key = req.get('idempotency-key');
      const posted = checkLead(body, key);
      const wait = preferredWait(req);
      // Posted against a ping: claimed for this lead, with the ping's values (ADR 0032).
      const claim = posted.pingId !== undefined ? await claimPing(deps, req.source!, posted) : undefined;
      if (claim && 'duplicateOf' in claim) return { status: 409, body: { status: 'duplicate', id: claim.duplicateOf } };
      const claimed = claim;
      const lead = claimed?.lead ?? posted;
      const outcome = await recorder.accept(req.source!, lead, key, claimed?.pinged).catch(async (err: unknown) => {
        await claimed?.release();
        throw err;
      });
      if (outcome.status !== 'accepted' || outcome.id !== (claimed?.pinged.id ?? outcome.id)) await claimed?.release();
      if (outcome.status === 'duplicate') {
        recordRejection(deps, {
          sourceId: req.source!.id,
          httpStatus: 409,
          reason: 'duplicate',
          leadId: outcome.existingId,
          geo: lead.geo,
          channel: lead.source,
        });
      }
      countLead(deps, req.source, outcome.status);
      const answer = acceptAnswer(outcome);
      if (answer.status !== 'accepted') return { status: 409, body: answer };
      // Recorded and committed above, exactly as without the header: now the wait for its outcome (ADR 0033).
      if (wait !== undefined) {
        const settled = (await waitForOutcomes(deps, res, req.source!.id, [answer.id], wait)).get(answer.id);
        if (settled) return { status: 200, body: settled };
      }
      return { status: 202, body: answer };
    },
    { before: [rateLimit] },
  );

  bind(
    table.createPing,
    async ({ body }, req) => ({ status: 200, body: await answerPing(deps, req.source!, checkPing(body)) }),
    { before: [rateLimit] },
  );

  bind(table.createLeadBatch, async ({ body }, req, res) => {
    const source = req.source!;
    const key = req.get('idempotency-key');
    if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY - 4)) {
      throw invalid([{ field: 'Idempotency-Key', message: `header must be 1–${MAX_IDEMPOTENCY_KEY - 4} characters` }]);
    }
    const wait = preferredWait(req);
    await deps.rateLimits.consume(source.id, source.rateLimitPerMinute, body.leads.length);
    const results = await acceptBatch(deps, recorder, source, body.leads, key);
    if (wait === undefined) return { status: 207, body: { results } };
    // One wait for the whole batch: each accepted lead settled within it gets its outcome as its result.
    const accepted = results.flatMap((r) => (r.status === 'accepted' ? [r.id] : []));
    const settled = await waitForOutcomes(deps, res, source.id, accepted, wait);
    return {
      status: 207,
      body: { results: results.map((r) => (r.status === 'accepted' ? (settled.get(r.id) ?? r) : r)) },
    };
  });

  bind(table.getLead, async ({ params: { id } }, req) => {
    // Each party its own view (README "What each party sees"; ADR 0015).
    if (req.isAdmin) return { status: 200, body: await showLeadToAdmin(deps.db, id, deps.config.CURRENCY) };
    if (req.source)
      return { status: 200, body: await showLeadToSource(deps.db, id, req.source.id, deps.config.CURRENCY) };
    throw unauthorized('missing API key');
  });

  // Every lead request that was not accepted leaves a trace (without personal data); those without a valid key
  // are summed (RejectionLog).
  const trace: ErrorRequestHandler = (err: unknown, req, _res, next) => {
    // Pings are not leads (and may be many times their number): their refusals are not traced as leads'.
    if (err instanceof AppError && req.method === 'POST' && req.path !== '/v1/pings') {
      recordRejection(deps, rejectionOf(err, req.source?.id ?? null));
      if (req.path === '/v1/leads') countLead(deps, req.source, answerOf(err));
    }
    next(err);
  };
  router.use(trace);

  return router;
}
