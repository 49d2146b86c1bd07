import type { Stats } from '@leadrouter/api';
import { MAX_REPORT_DAYS, type DeliveryStatus, type FieldError, type Static } from '@leadrouter/core';
import {
  DELIVERIES_SINCE,
  MONEY_SINCE,
  PARTNER_PINGS_SINCE,
  POSTED_SINCE,
  runStatement,
  SOURCE_PINGS_SINCE,
  sqlPool,
  type Db,
} from '@leadrouter/db';
import { amount, formatAmount, ZERO, type Amount } from '@leadrouter/money';
import { instantOf } from './params.js';

/** The money since a time and the partners' events behind it (the ledger's, through the rollups; ADR 0028). */
export interface MoneyStats {
  /** Sales, conversions, returns, reversals recorded since. */
  sales: number;
  conversions: number;
  returns: number;
  reversals: number;
  /** What partners paid, net (exact decimal text); `cost` what sources are paid; `margin` the difference. */
  revenue: string;
  cost: string;
  margin: string;
  /** conversions / sales, returns / sales, reversals / conversions, to 4 places; null when dividing by 0. */
  conversionRate: number | null;
  returnRate: number | null;
  reversalRate: number | null;
}

/** A partner's auctions (ADR 0032): pings, bids, best bids; `averageBid` exact text to 4 places. */
export interface PartnerPings {
  pings: number;
  bids: number;
  wins: number;
  winRate: number | null;
  averageBid: string | null;
}

/** A source's pings: answered with a bid, leads posted against them; `averageBid` its payout on the best bid. */
export interface SourcePings {
  pings: number;
  bids: number;
  posted: number;
  winRate: number | null;
  averageBid: string | null;
}

const rate = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000);

export interface PartnerStats extends MoneyStats {
  partnerId: string;
  name: string;
  pings: PartnerPings;
  /** Deliveries (lead × partner) created since, by current status; `accepted` are the leads the partner bought. */
  deliveries: Record<DeliveryStatus, number>;
  /** Requests sent for those deliveries (every attempt, retries included). */
  attempts: number;
}

/** Sums of money and events, added up exactly. */
class MoneySum {
  sales = 0;
  conversions = 0;
  returns = 0;
  reversals = 0;
  private revenue: Amount = ZERO;
  private cost: Amount = ZERO;

  add(row: { sold: string; converted: string; returned: string; reversed: string; revenue: string; cost: string }) {
    this.sales += Number(row.sold);
    this.conversions += Number(row.converted);
    this.returns += Number(row.returned);
    this.reversals += Number(row.reversed);
    this.revenue = this.revenue.plus(amount(row.revenue));
    this.cost = this.cost.plus(amount(row.cost));
  }

  stats(): MoneyStats {
    return {
      sales: this.sales,
      conversions: this.conversions,
      returns: this.returns,
      reversals: this.reversals,
      revenue: formatAmount(this.revenue),
      cost: formatAmount(this.cost),
      margin: formatAmount(this.revenue.minus(this.cost)),
      conversionRate: rate(this.conversions, this.sales),
      returnRate: rate(this.returns, this.sales),
      reversalRate: rate(this.reversals, this.conversions),
    };
  }
}

/** `GET /v1/admin/stats`'s answer (packages/api's schema). */
/** The stats' figures; the ingest adds the installation's `currency` to its answer. */
export type StatsView = Omit<Static<typeof Stats>, 'currency'>;

/**
 * `GET /v1/admin/stats?since=` — figures since a time (default: the last
 * 24 h): leads received, by status and by source; ingest rejections by reason
 * and by source, so an operator can see why a source's leads fail;
 * deliveries by partner (pending, accepted, rejected, dead-lettered, the
 * attempts they took); and the money with the events behind it — sales,
 * conversions, returns, reversals, revenue, cost, margin and their rates —
 * in total, by partner and by source.
 *
 * Leads count by when they were received, deliveries by when they were
 * created, money and its events by when they happened (the ledger's `at`),
 * so the money by partner and by source adds up to the total. Every figure is
 * one aggregate query over an index on time — leads (created_at), rejections
 * (at), deliveries (partner_id, created_at) — so a short window costs its own
 * rows, not the whole history (ADR 0007, "Stats"); the money is read from the
 * report rollups per hour, and from the ledger for the part of an hour before
 * the first whole one (ADR 0028), exact to the entry. The counts by status are
 * Prisma's (the admin API's, ADR 0009), the rest packages/db's typed statements (ADR 0020).
 */
export async function adminStats(db: Db, since: Date): Promise<StatsView> {
  const [byStatus, bySource, rejectionsByReason, rejectionsBySource, sources, partners] = await Promise.all([
    db.lead.groupBy({ by: ['status'], where: { createdAt: { gte: since } }, _count: { _all: true } }),
    db.lead.groupBy({ by: ['sourceId', 'status'], where: { createdAt: { gte: since } }, _count: { _all: true } }),
    // A row can stand for many answers (those without a valid key are summed; ADR 0014): add up `count`.
    db.ingestRejection.groupBy({ by: ['reason'], where: { at: { gte: since } }, _sum: { count: true } }),
    db.ingestRejection.groupBy({ by: ['sourceId', 'reason'], where: { at: { gte: since } }, _sum: { count: true } }),
    db.source.findMany({ select: { id: true, name: true } }),
    db.partner.findMany({ select: { id: true, name: true }, orderBy: { name: 'asc' } }),
  ]);
  // Every partner: DELIVERIES_SINCE reaches the deliveries through (partner_id, created_at).
  const partnerIds = partners.map((p) => p.id);
  const pool = sqlPool(db);
  const [deliveries, money, partnerPings, sourcePings, posted] = await Promise.all([
    runStatement(pool, DELIVERIES_SINCE, { partnerIds, since }),
    runStatement(pool, MONEY_SINCE, { since, parties: [...partnerIds, ...sources.map((s) => s.id)] }),
    // Auctions (ADR 0032): each buyer's answers, each source's pings, and the leads posted against them.
    runStatement(pool, PARTNER_PINGS_SINCE, { since }),
    runStatement(pool, SOURCE_PINGS_SINCE, { since }),
    runStatement(pool, POSTED_SINCE, { since }),
  ]);
  const total = new MoneySum();
  const moneyBySource = new Map<string, MoneySum>();
  const moneyByPartner = new Map<string, MoneySum>();
  const sumOf = (sums: Map<string, MoneySum>, key: string) => {
    let sum = sums.get(key);
    if (!sum) sums.set(key, (sum = new MoneySum()));
    return sum;
  };
  for (const row of money) {
    total.add(row);
    sumOf(moneyBySource, row.sourceId).add(row);
    if (row.partnerId) sumOf(moneyByPartner, row.partnerId).add(row);
  }

  const names = new Map(sources.map((s) => [s.id, s.name]));
  const perSource = new Map<
    string,
    {
      sourceId: string | null;
      name: string | null;
      leads: Record<string, number>;
      received: number;
      rejections: Record<string, number>;
      pings: SourcePings;
    } & MoneyStats
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
        pings: { pings: 0, bids: 0, posted: 0, winRate: null, averageBid: null },
        ...new MoneySum().stats(),
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
  for (const [sourceId, sum] of moneyBySource) Object.assign(entry(sourceId), sum.stats());
  for (const { sourceId, ...row } of sourcePings) Object.assign(entry(sourceId).pings, row);
  for (const row of posted) entry(row.sourceId).pings.posted = row.posted;
  for (const { pings } of perSource.values()) pings.winRate = rate(pings.posted, pings.bids);

  const perPartner = new Map<string, PartnerStats>();
  const partnerEntry = (partnerId: string) => {
    let p = perPartner.get(partnerId);
    if (!p) {
      p = {
        partnerId,
        name: '',
        deliveries: { pending: 0, accepted: 0, rejected: 0, dead_lettered: 0, superseded: 0 },
        attempts: 0,
        pings: { pings: 0, bids: 0, wins: 0, winRate: null, averageBid: null },
        ...(moneyByPartner.get(partnerId) ?? new MoneySum()).stats(),
      };
      perPartner.set(partnerId, p);
    }
    return p;
  };
  for (const row of deliveries) {
    const p = partnerEntry(row.partnerId);
    p.deliveries[row.status] = row.count;
    p.attempts += row.attempts;
  }
  // A partner with money but no delivery created in the window (feedback on older sales) is listed too.
  for (const partnerId of moneyByPartner.keys()) partnerEntry(partnerId);
  for (const { partnerId, ...row } of partnerPings)
    partnerEntry(partnerId).pings = { ...row, winRate: rate(row.wins, row.bids) };
  const partnerStats = partners.flatMap((p) => {
    const stats = perPartner.get(p.id);
    return stats ? [{ ...stats, name: p.name }] : [];
  });

  return {
    since: since.toISOString(),
    leads: {
      received: byStatus.reduce((n, r) => n + r._count._all, 0),
      byStatus: Object.fromEntries(byStatus.map((r) => [r.status, r._count._all])),
    },
    rejections: {
      total: rejectionsByReason.reduce((n, r) => n + (r._sum.count ?? 0), 0),
      byReason: Object.fromEntries(rejectionsByReason.map((r) => [r.reason, r._sum.count ?? 0])),
    },
    ...total.stats(),
    sources: [...perSource.values()],
    partners: partnerStats,
  };
}

/**
 * The stats' `since` (a date-time, as the schema accepted it; default: 24 hours ago), at most MAX_REPORT_DAYS
 * (400) back — as far as the reports reach —, so no question of the stats reads years of leads and rejections.
 */
export function readStatsSince(query: { since?: string }, problems: FieldError[], now = new Date()): Date {
  const at = instantOf(query.since, problems, 'since');
  if (!at) return new Date(now.getTime() - 24 * 3600_000);
  if (now.getTime() - at.getTime() > MAX_REPORT_DAYS * 24 * 3600_000)
    problems.push({
      field: 'since',
      message: `must be at most ${MAX_REPORT_DAYS} days ago; for longer periods use GET /v1/admin/reports, a window at a time`,
    });
  return at;
}
