import { Router } from 'express';
import { parseLeadSearch, searchLeads } from '@leadrouter/operations';
import type { IngestDeps } from '../deps.js';

/** `GET /v1/admin/leads?status=&source=&partner=&since=&until=&limit=&cursor=`: lead search, newest first. */
export function leadSearchRouter({ db }: IngestDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    res.json(await searchLeads(db, await parseLeadSearch(db, req.query)));
  });
  return router;
}
