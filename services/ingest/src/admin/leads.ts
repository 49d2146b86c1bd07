import type { Router } from 'express';
import { operations as table } from '@leadrouter/api';
import { leadDetail, parseLeadSearch, searchLeads } from '@leadrouter/lifecycle';
import type { IngestDeps } from '../deps.js';
import { tableRouter } from '../http/bind.js';

/**
 * `GET /v1/admin/leads?status=&source=&partner=&phone=&email=&since=&until=&limit=&cursor=`: lead search, newest
 * first; `GET /v1/admin/leads/:id`: one lead's whole story (its data, events, routing decision, every delivery
 * and attempt with the partner's answer), as `leadrouter leads show` prints it.
 */
export function leadSearchRouter({ db }: IngestDeps): Router {
  const { router, bind } = tableRouter('/v1/admin/leads');
  bind(table.searchLeads, async (_input, req) => ({
    status: 200,
    body: await searchLeads(db, await parseLeadSearch(db, req.query)),
  }));
  bind(table.getLeadStory, async ({ params }) => ({ status: 200, body: await leadDetail(db, params.id) }));
  return router;
}
