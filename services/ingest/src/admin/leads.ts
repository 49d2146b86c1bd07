import type { Router } from 'express';
import { money, operations as table } from '@leadrouter/api';
import { invalid, type FieldError } from '@leadrouter/core';
import {
  addAdjustment,
  erasePersonalData,
  fileReturn,
  leadDetail,
  readLeadSearch,
  type LeadSearchParams,
  searchLeads,
} from '@leadrouter/lifecycle';
import { parseAmount, ZERO } from '@leadrouter/money';
import type { IngestDeps } from '../deps.js';
import { tableRouter } from '../http/bind.js';
import { enqueuePostbacks } from './returns.js';

/** An adjustment's amount: signed, at most 4 decimal places, not 0. */
function adjustmentProblems(body: unknown) {
  const value = typeof body === 'object' && body !== null ? (body as { amount?: unknown }).amount : undefined;
  if (typeof value !== 'number' && typeof value !== 'string') return [];
  const parsed = parseAmount(value, { signed: true });
  if (!parsed.ok) return [{ field: '/amount', message: parsed.message }];
  return parsed.amount.eq(ZERO) ? [{ field: '/amount', message: 'must not be 0' }] : [];
}

/**
 * `GET /v1/admin/leads?status=&source=&partner=&phone=&email=&since=&until=&limit=&cursor=`: lead search, newest
 * first; `GET /v1/admin/leads/:id`: one lead's whole story (its data, events, routing decision, every delivery
 * and attempt with the partner's answer), as `leadrouter leads show` prints it; `POST /v1/admin/leads/:id/returns`
 * and `/adjustments`: an operator's return for a partner, and a manual correction of the lead's money (ADR 0026).
 */
export function leadSearchRouter(deps: IngestDeps): Router {
  const { db } = deps;
  const { router, bind } = tableRouter('/v1/admin/leads');
  bind(table.searchLeads, async ({ query }) => ({ status: 200, body: await searchLeads(db, query) }), {
    query: (params: LeadSearchParams, problems: FieldError[]) => readLeadSearch(db, params, problems),
  });
  bind(table.getLeadStory, async ({ params }) => ({
    status: 200,
    body: await leadDetail(db, params.id, deps.config.CURRENCY),
  }));
  bind(table.erasePersonalData, async ({ params, body }) => ({
    status: 200,
    body: await erasePersonalData(deps, params.id, { via: 'api', ...(body?.reason ? { reason: body.reason } : {}) }),
  }));
  bind(money.fileReturn, async ({ params, body }, req) => {
    const result = await fileReturn(deps, params.id, body);
    await enqueuePostbacks(deps, req, result.postbacks);
    return { status: 201, body: result.view };
  });
  bind(
    money.addAdjustment,
    async ({ params, body }, req) => {
      const key = req.get('idempotency-key');
      if (key !== undefined && (key.length === 0 || key.length > 200))
        throw invalid([{ field: 'Idempotency-Key', message: 'must be 1 to 200 characters' }]);
      const parsed = parseAmount(body.amount, { signed: true });
      if (!parsed.ok) throw new Error('addAdjustment: the amount was not checked');
      const { entry, created } = await addAdjustment(
        deps,
        params.id,
        { party: body.party, partyId: body.partyId.toLowerCase(), amount: parsed.amount, note: body.note },
        key,
      );
      return created ? { status: 201, body: entry } : { status: 200, body: entry };
    },
    { check: adjustmentProblems },
  );
  return router;
}
