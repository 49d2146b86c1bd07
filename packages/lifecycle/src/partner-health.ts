import { type AttemptOutcome, notFound, UUID_RE } from '@leadrouter/core';
import {
  PARTNER_CAPS_USED,
  PARTNER_HEALTH_ROW,
  PARTNER_LAST_FAILURE,
  PARTNER_OUTCOMES,
  runStatement,
  sqlPool,
  type Db,
} from '@leadrouter/db';
import { capPeriods } from '@leadrouter/routing';

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
 * indexed read — deliveries(partner_id, created_at) for the window and the
 * caps (counted as the worker counts them when it takes a slot).
 */
export async function partnerHealth(db: Db, id: string, since: Date, now = new Date()): Promise<PartnerHealth> {
  if (!UUID_RE.test(id)) throw notFound('partner');
  const pool = sqlPool(db);
  const [partner] = await runStatement(pool, PARTNER_HEALTH_ROW, { id });
  if (!partner) throw notFound('partner');
  const { hourStart, dayStart } = capPeriods(now, partner.schedule?.timezone);
  const [byStatus, [last], [used = { hour: 0, day: 0 }]] = await Promise.all([
    runStatement(pool, PARTNER_OUTCOMES, { partnerId: id, since }),
    runStatement(pool, PARTNER_LAST_FAILURE, { partnerId: id, since }),
    runStatement(pool, PARTNER_CAPS_USED, { partnerId: id, hourStart, dayStart }),
  ]);
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
      hour: { used: used.hour, limit: partner.capHourly, periodStart: hourStart.toISOString() },
      day: { used: used.day, limit: partner.capDaily, periodStart: dayStart.toISOString() },
    },
  };
}
