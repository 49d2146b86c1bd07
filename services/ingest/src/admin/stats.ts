import { Router } from 'express';
import { invalid } from '@leadrouter/core';
import type { IngestDeps } from '../deps.js';

/**
 * `GET /v1/admin/stats?since=` — counts since a time (default: the last 24 h)
 * by lead status and source, and ingest rejections by reason and source, so
 * an operator can see why a source's leads fail. Answered from indexed
 * aggregate queries; partner and revenue figures join in with deliveries.
 */
export function statsRouter({ db }: IngestDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const since = parseSince(req.query.since);
    const [byStatus, bySource, rejectionsByReason, rejectionsBySource, sources] = await Promise.all([
      db.lead.groupBy({ by: ['status'], where: { createdAt: { gte: since } }, _count: { _all: true } }),
      db.lead.groupBy({ by: ['sourceId', 'status'], where: { createdAt: { gte: since } }, _count: { _all: true } }),
      db.ingestRejection.groupBy({ by: ['reason'], where: { at: { gte: since } }, _count: { _all: true } }),
      db.ingestRejection.groupBy({ by: ['sourceId', 'reason'], where: { at: { gte: since } }, _count: { _all: true } }),
      db.source.findMany({ select: { id: true, name: true } }),
    ]);
    const names = new Map(sources.map((s) => [s.id, s.name]));
    const perSource = new Map<
      string,
      {
        sourceId: string | null;
        name: string | null;
        leads: Record<string, number>;
        received: number;
        rejections: Record<string, number>;
      }
    >();
    const entry = (sourceId: string | null) => {
      const key = sourceId ?? '';
      let e = perSource.get(key);
      if (!e) {
        e = { sourceId, name: sourceId ? (names.get(sourceId) ?? null) : null, leads: {}, received: 0, rejections: {} };
        perSource.set(key, e);
      }
      return e;
    };
    for (const row of bySource) {
      const e = entry(row.sourceId);
      e.leads[row.status] = row._count._all;
      e.received += row._count._all;
    }
    for (const row of rejectionsBySource) entry(row.sourceId).rejections[row.reason] = row._count._all;

    res.json({
      since: since.toISOString(),
      leads: {
        received: byStatus.reduce((n, r) => n + r._count._all, 0),
        byStatus: Object.fromEntries(byStatus.map((r) => [r.status, r._count._all])),
      },
      rejections: {
        total: rejectionsByReason.reduce((n, r) => n + r._count._all, 0),
        byReason: Object.fromEntries(rejectionsByReason.map((r) => [r.reason, r._count._all])),
      },
      sources: [...perSource.values()],
    });
  });
  return router;
}

function parseSince(raw: unknown): Date {
  if (raw === undefined) return new Date(Date.now() - 24 * 3600_000);
  const at = typeof raw === 'string' ? Date.parse(raw) : NaN;
  if (Number.isNaN(at))
    throw invalid([{ field: 'since', message: 'must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z' }]);
  return new Date(at);
}
