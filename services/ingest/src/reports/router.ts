import type { Router } from 'express';
import { reports as table, type TextReply } from '@leadrouter/api';
import {
  adminReport,
  readReport,
  reportCsv,
  reportFileName,
  sourceReport,
  type ReportParams,
  type ReportQuery,
  type ReportView,
} from '@leadrouter/lifecycle';
import type { FieldError } from '@leadrouter/core';
import type { AppDeps } from '../deps.js';
import { sourceAuth } from '../http/auth.js';
import { tableRouter } from '../http/bind.js';

/** The report as CSV, as a download named after its range and grouping. */
function csvReply(q: ReportQuery, items: Parameters<typeof reportCsv>[1], currency: string): TextReply<200> {
  return {
    status: 200,
    text: reportCsv(q, items, currency),
    headers: { 'Content-Disposition': `attachment; filename="${reportFileName(q)}"` },
  };
}

/** The report's query, as its schema accepted it, read for what the schema cannot state (@leadrouter/lifecycle). */
const read = (view: ReportView) => (query: ReportParams, problems: FieldError[]) =>
  readReport(query, view, new Date(), problems);

/** `GET /v1/admin/reports` (ADR 0028): an operator's report, as JSON or CSV, from the rollups. */
export function adminReportsRouter(deps: AppDeps): Router {
  const { router, bind } = tableRouter('/v1/admin/reports');
  bind(
    table.getReport,
    async ({ query: q }) => {
      const items = await adminReport(deps.db, q);
      if (q.format === 'csv') return csvReply(q, items, deps.config.CURRENCY);
      return {
        status: 200,
        body: {
          since: q.since.toISOString(),
          until: q.until.toISOString(),
          tz: q.tz,
          groupBy: q.keys,
          currency: deps.config.CURRENCY,
          items,
        },
      };
    },
    { query: read('admin') },
  );
  return router;
}

/** `GET /v1/reports` with a source's key: its own leads and payouts, nothing of a partner (ADR 0015, 0028). */
export function sourceReportsRouter(deps: AppDeps): Router {
  const { router, bind } = tableRouter('/v1/reports', {
    source: [
      sourceAuth(deps.db, deps.config.ADMIN_TOKEN, {
        caches: deps.caches,
        failures: deps.authFailures,
        metrics: deps.metrics,
      }),
    ],
  });
  bind(
    table.getSourceReport,
    async ({ query: q }, req) => {
      const items = await sourceReport(deps.db, q, req.source!.id);
      if (q.format === 'csv') return csvReply(q, items, deps.config.CURRENCY);
      return {
        status: 200,
        body: {
          since: q.since.toISOString(),
          until: q.until.toISOString(),
          tz: q.tz,
          groupBy: q.keys as ('day' | 'hour' | 'geo' | 'channel')[],
          currency: deps.config.CURRENCY,
          items,
        },
      };
    },
    { query: read('source') },
  );
  return router;
}
