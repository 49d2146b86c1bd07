import { type AttemptOutcome, notFound, type Schedule, UUID_RE } from '@leadrouter/core';
import { sqlPool, type Db } from '@leadrouter/db';
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
  const partner = (
    await pool.query<{
      cap_hourly: number | null;
      cap_daily: number | null;
      schedule: Schedule | null;
      consecutive_failures: number;
      pause_after_failures: number;
    }>(
      `SELECT cap_hourly, cap_daily, schedule, consecutive_failures, pause_after_failures FROM partners WHERE id = $1`,
      [id],
    )
  ).rows[0];
  if (!partner) throw notFound('partner');
  const { hourStart, dayStart } = capPeriods(now, partner.schedule?.timezone);
  const [byStatus, lastError, caps] = await Promise.all([
    pool.query<{ status: keyof PartnerHealth['deliveries']; n: number; attempts: number }>(
      `SELECT status::text AS status, count(*)::int AS n, coalesce(sum(attempts), 0)::int AS attempts
       FROM deliveries WHERE partner_id = $1 AND created_at >= $2 GROUP BY status`,
      [id, since],
    ),
    pool.query<{ at: Date; outcome: AttemptOutcome; error: string | null; http_status: number | null }>(
      `SELECT a.at, a.outcome::text AS outcome, a.error, a.http_status
       FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id
       WHERE d.partner_id = $1 AND d.created_at >= $2 AND a.outcome <> 'accepted'
       ORDER BY a.at DESC, a.id DESC LIMIT 1`,
      [id, since],
    ),
    pool.query<{ hour: number; day: number }>(
      `SELECT count(*) FILTER (WHERE created_at >= $2)::int AS hour, count(*)::int AS day
       FROM deliveries WHERE partner_id = $1 AND status IN ('pending', 'accepted') AND created_at >= $3`,
      [id, hourStart, dayStart],
    ),
  ]);
  const deliveries = { pending: 0, accepted: 0, rejected: 0, dead_lettered: 0 };
  let attempts = 0;
  for (const row of byStatus.rows) {
    deliveries[row.status] = row.n;
    attempts += row.attempts;
  }
  const settled = deliveries.accepted + deliveries.rejected + deliveries.dead_lettered;
  const last = lastError.rows[0];
  const used = caps.rows[0] ?? { hour: 0, day: 0 };
  return {
    partnerId: id.toLowerCase(),
    since: since.toISOString(),
    deliveries,
    attempts,
    successRate: settled > 0 ? deliveries.accepted / settled : null,
    consecutiveFailures: partner.consecutive_failures,
    pauseAfterFailures: partner.pause_after_failures,
    lastError: last
      ? { at: last.at.toISOString(), outcome: last.outcome, error: last.error, httpStatus: last.http_status }
      : null,
    caps: {
      hour: { used: used.hour, limit: partner.cap_hourly, periodStart: hourStart.toISOString() },
      day: { used: used.day, limit: partner.cap_daily, periodStart: dayStart.toISOString() },
    },
  };
}
