import type { Router } from 'express';
import { operations as table } from '@leadrouter/api';
import { adminStats, readStatsSince } from '@leadrouter/lifecycle';
import type { IngestDeps } from '../deps.js';
import { tableRouter } from '../http/bind.js';
import { leadTimeline, readTimeline } from './timeline.js';

/**
 * `GET /v1/admin/stats?since=` (the figures since a time: packages/lifecycle's `adminStats`) and
 * `GET /v1/admin/stats/timeline?since=&until=&step=minute|hour` (leads per minute or hour, for charts).
 */
export function statsRouter({ db, config }: IngestDeps): Router {
  const { router, bind } = tableRouter('/v1/admin/stats');
  bind(table.getLeadTimeline, async ({ query }) => ({ status: 200, body: await leadTimeline(db, query) }), {
    query: readTimeline,
  });
  bind(
    table.getStats,
    async ({ query: since }) => ({
      status: 200,
      body: { ...(await adminStats(db, since)), currency: config.CURRENCY },
    }),
    {
      query: readStatsSince,
    },
  );
  return router;
}
