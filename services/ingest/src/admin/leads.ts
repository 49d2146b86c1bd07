import { Router } from 'express';
import { leadDetail, parseLeadSearch, searchLeads } from '@leadrouter/operations';
import type { IngestDeps } from '../deps.js';

/**
 * `GET /v1/admin/leads?status=&source=&partner=&phone=&email=&since=&until=&limit=&cursor=`: lead search, newest
 * first; `GET /v1/admin/leads/:id`: one lead's whole story (its data, events, routing decision, every delivery
 * and attempt with the partner's answer), as `leadrouter leads show` prints it.
 */
export function leadSearchRouter({ db }: IngestDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    res.json(await searchLeads(db, await parseLeadSearch(db, req.query)));
  });
  router.get('/:id', async (req, res) => {
    res.json(await leadDetail(db, String(req.params.id)));
  });
  return router;
}
