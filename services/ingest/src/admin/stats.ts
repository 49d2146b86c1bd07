import type { Router } from 'express';
import { operations as table } from '@leadrouter/api';
import { invalid, type DeliveryStatus } from '@leadrouter/core';
import type { IngestDeps } from '../deps.js';
import { tableRouter } from '../http/bind.js';
import { leadTimeline, parseTimeline } from './timeline.js';

export interface PartnerStats {
  partnerId: string;
  name: string;
  /** Deliveries (lead × partner) created since, by current status; `accepted` are the leads the partner bought. */
  deliveries: Record<DeliveryStatus, number>;
  /** Requests sent for those deliveries (every attempt, retries included). */
  attempts: number;
  /** What the accepted ones paid. */
  revenue: number;
}

/**
 * `GET /v1/admin/stats?since=` — figures since a time (default: the last
 * 24 h): leads received, by status and by source; ingest rejections by reason
 * and by source, so an operator can see why a source's leads fail; and
 * deliveries by partner (pending, accepted, rejected, dead-lettered, the
 * attempts they took) with the revenue of the accepted ones (their `price`),
 * in total, by partner and by the source of the lead.
 *
 * Leads count by when they were received, deliveries and revenue by when the
 * delivery was created (a lead is offered to a partner seconds after it
 * arrives, or later in a waterfall), so the revenue by partner and by source
 * add up to the total. Every figure is one aggregate query over an index on
 * time — leads (created_at), rejections (at), deliveries (partner_id,
 * created_at) — so a short window costs its own rows, not the whole history
 * (ADR 0007, "Stats").
 */
export function statsRouter({ db }: IngestDeps): Router {
  const { router, bind } = tableRouter('/v1/admin/stats');
  // `GET /v1/admin/stats/timeline?since=&until=&step=minute|hour`: leads per minute or hour, for charts.
  bind(table.getLeadTimeline, async (_input, req) => ({
    status: 200,
    body: await leadTimeline(db, parseTimeline(req.query)),
  }));
  bind(table.getStats, async (_input, req) => {
    const since = parseSince(req.query.since);
    const [byStatus, bySource, rejectionsByReason, rejectionsBySource, sources, partners] = await Promise.all([
      db.lead.groupBy({ by: ['status'], where: { createdAt: { gte: since } }, _count: { _all: true } }),
      db.lead.groupBy({ by: ['sourceId', 'status'], where: { createdAt: { gte: since } }, _count: { _all: true } }),
      // A row can stand for many answers (those without a valid key are summed; ADR 0014): add up `count`.
      db.ingestRejection.groupBy({ by: ['reason'], where: { at: { gte: since } }, _sum: { count: true } }),
      db.ingestRejection.groupBy({ by: ['sourceId', 'reason'], where: { at: { gte: since } }, _sum: { count: true } }),
      db.source.findMany({ select: { id: true, name: true } }),
      db.partner.findMany({ select: { id: true, name: true }, orderBy: { name: 'asc' } }),
    ]);
    // `partner_id = ANY(every partner)` selects every delivery; it lets the planner reach them through
    // (partner_id, created_at), so a short window reads only its own rows (a long one: a sequential scan).
    const partnerIds = partners.map((p) => p.id);
    const [deliveries, revenueBySource] = await Promise.all([
      db.$queryRaw<{ partnerId: string; status: DeliveryStatus; count: number; attempts: number; revenue: number }[]>`
        SELECT partner_id::text AS "partnerId", status::text AS status, count(*)::int AS count,
               sum(attempts)::int AS attempts, coalesce(sum(price), 0)::float8 AS revenue
        FROM deliveries
        WHERE partner_id = ANY(${partnerIds}::uuid[]) AND created_at >= ${since}
        GROUP BY partner_id, status`,
      db.$queryRaw<{ sourceId: string; revenue: number }[]>`
        SELECT l.source_id::text AS "sourceId", coalesce(sum(d.price), 0)::float8 AS revenue
        FROM deliveries d JOIN leads l ON l.id = d.lead_id
        WHERE d.partner_id = ANY(${partnerIds}::uuid[]) AND d.created_at >= ${since} AND d.status = 'accepted'
        GROUP BY l.source_id`,
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
        revenue: number;
      }
    >();
    const entry = (sourceId: string | null) => {
      const key = sourceId ?? '';
      let e = perSource.get(key);
      if (!e) {
        e = {
          sourceId,
          name: sourceId ? (names.get(sourceId) ?? null) : null,
          leads: {},
          received: 0,
          rejections: {},
          revenue: 0,
        };
        perSource.set(key, e);
      }
      return e;
    };
    for (const row of bySource) {
      const e = entry(row.sourceId);
      e.leads[row.status] = row._count._all;
      e.received += row._count._all;
    }
    for (const row of rejectionsBySource) entry(row.sourceId).rejections[row.reason] = row._sum.count ?? 0;
    for (const row of revenueBySource) entry(row.sourceId).revenue = money(row.revenue);

    const perPartner = new Map<string, PartnerStats>();
    for (const row of deliveries) {
      let p = perPartner.get(row.partnerId);
      if (!p) {
        p = {
          partnerId: row.partnerId,
          name: '',
          deliveries: { pending: 0, accepted: 0, rejected: 0, dead_lettered: 0, superseded: 0 },
          attempts: 0,
          revenue: 0,
        };
        perPartner.set(row.partnerId, p);
      }
      p.deliveries[row.status] = row.count;
      p.attempts += row.attempts;
      if (row.status === 'accepted') p.revenue = money(row.revenue);
    }
    const partnerStats = partners.flatMap((p) => {
      const stats = perPartner.get(p.id);
      return stats ? [{ ...stats, name: p.name }] : [];
    });

    return {
      status: 200,
      body: {
        since: since.toISOString(),
        leads: {
          received: byStatus.reduce((n, r) => n + r._count._all, 0),
          byStatus: Object.fromEntries(byStatus.map((r) => [r.status, r._count._all])),
        },
        rejections: {
          total: rejectionsByReason.reduce((n, r) => n + (r._sum.count ?? 0), 0),
          byReason: Object.fromEntries(rejectionsByReason.map((r) => [r.reason, r._sum.count ?? 0])),
        },
        revenue: money(partnerStats.reduce((sum, p) => sum + p.revenue, 0)),
        sources: [...perSource.values()],
        partners: partnerStats,
      },
    };
  });
  return router;
}

/** Prices have 4 decimals (numeric(12,4)): a sum of them, without float noise. */
function money(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

function parseSince(raw: unknown): Date {
  if (raw === undefined) return new Date(Date.now() - 24 * 3600_000);
  const at = typeof raw === 'string' ? Date.parse(raw) : NaN;
  if (Number.isNaN(at))
    throw invalid([{ field: 'since', message: 'must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z' }]);
  return new Date(at);
}
