import { type AttemptOutcome, notFound, UUID_RE } from '@leadrouter/core';
import {
  PARTNER_HEALTH_ROW,
  PARTNER_LAST_FAILURE,
  PARTNER_OUTCOMES,
  runStatement,
  sqlPool,
  type Db,
} from '@leadrouter/db';
import { readCapUsage } from './caps.js';

/** How a partner is doing: recent outcomes, its last failure, and how much of each cap is in use. */
export interface PartnerHealth {
  partnerId: string;
  /** The window of `deliveries`, `attempts`, `successRate` and `lastError`. */
  since: string;
  /** Deliveries created since then, by current status. */
  deliveries: { pending: number; accepted: number; rejected: number; dead_lettered: number };
  /** Requests sent for them (retries included). */
  attempts: number;
  /** accepted / (accepted + rejected + dead-lettered); null before any settled. */
  successRate: number | null;
  /** Failed attempts in a row now (the circuit breaker pauses the partner at `pauseAfterFailures`). */
  consecutiveFailures: number;
  pauseAfterFailures: number;
  /** The latest attempt that did not succeed, in the window. */
  lastError: { at: string; outcome: AttemptOutcome; error: string | null; httpStatus: number | null } | null;
  /** Deliveries pending or accepted in the partner's current hour and day (its own time zone), against its caps. */
  caps: {
    hour: { used: number; limit: number | null; periodStart: string };
    day: { used: number; limit: number | null; periodStart: string };
  };
}

/**
 * `GET /v1/admin/partners/:id/health?since=`: one partner's figures, each an
 * indexed read — deliveries(partner_id, created_at) for the window, and the
 * partner's cap counters for the caps (counted from its deliveries for a
 * period without one, as the worker seeds a counter).
 */
export async function partnerHealth(db: Db, id: string, since: Date, now = new Date()): Promise<PartnerHealth> {
  if (!UUID_RE.test(id)) throw notFound('partner');
  const pool = sqlPool(db);
  const [partner] = await runStatement(pool, PARTNER_HEALTH_ROW, { id });
  if (!partner) throw notFound('partner');
  const [byStatus, [last], caps] = await Promise.all([
    runStatement(pool, PARTNER_OUTCOMES, { partnerId: id, since }),
    runStatement(pool, PARTNER_LAST_FAILURE, { partnerId: id, since }),
    readCapUsage(db, [{ ...partner, id }], now, () => ['hour', 'day']),
  ]);
  const { periods, usage } = caps.get(id)!;
  const deliveries = { pending: 0, accepted: 0, rejected: 0, dead_lettered: 0 };
  let attempts = 0;
  for (const row of byStatus) {
    // A superseded delivery's status is counted under its own name too, as it always was.
    (deliveries as Record<string, number>)[row.status] = row.n;
    attempts += row.attempts;
  }
  const settled = deliveries.accepted + deliveries.rejected + deliveries.dead_lettered;
  return {
    partnerId: id.toLowerCase(),
    since: since.toISOString(),
    deliveries,
    attempts,
    successRate: settled > 0 ? deliveries.accepted / settled : null,
    consecutiveFailures: partner.consecutiveFailures,
    pauseAfterFailures: partner.pauseAfterFailures,
    lastError: last
      ? { at: last.at.toISOString(), outcome: last.outcome, error: last.error, httpStatus: last.httpStatus }
      : null,
    caps: {
      hour: { used: usage.hour?.count ?? 0, limit: partner.capHourly, periodStart: periods.hour.toISOString() },
      day: { used: usage.day?.count ?? 0, limit: partner.capDaily, periodStart: periods.day.toISOString() },
    },
  };
}
