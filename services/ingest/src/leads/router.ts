import { Router } from 'express';
import { unauthorized } from '@leadrouter/core';
import type { IngestDeps } from '../deps.js';
import { sourceAuth } from '../http/auth.js';
import { jsonBody } from '../http/body.js';
import { acceptLead } from './accept.js';
import { showLead } from './show.js';

/** The source-facing lead API (SPEC "Ingest API"). */
export function leadsRouter(deps: IngestDeps): Router {
  const router = Router();
  const auth = sourceAuth(deps.db, deps.config.ADMIN_TOKEN);

  router.post('/v1/leads', auth, jsonBody, async (req, res) => {
    const result = await acceptLead(deps, req.source!, req.body, req.get('idempotency-key'));
    res.status(202).json({ status: result.status, id: result.id });
  });

  router.get('/v1/leads/:id', sourceAuth(deps.db, deps.config.ADMIN_TOKEN, { allowAdmin: true }), async (req, res) => {
    if (!req.isAdmin && !req.source) throw unauthorized('missing API key');
    res.json(await showLead(deps.db, String(req.params.id), { sourceId: req.source?.id, admin: req.isAdmin === true }));
  });

  return router;
}
