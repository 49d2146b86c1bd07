import { defineStatement, sql } from '../sql.js';

// The deliveries table (one lead offered to one partner).

// ---------------------------------------------------------------------------
// The operations' retries and discards of dead letters (ADR 0007): occasional, many rows at once, planned for
// their values each time (`prepared: false`), in the worker's lock order — leads, then deliveries, each by id.

/** The leads of these deliveries. */
export const LEADS_OF_DELIVERIES = defineStatement({
  name: 'lr_leads_of_deliveries',
  params: { ids: 'uuid[]' },
  row: { leadId: 'text' },
  prepared: false,
  sql: (p) => sql`SELECT DISTINCT lead_id::text AS "leadId" FROM deliveries WHERE id = ANY(${p.ids})`,
});

/** Locks these deliveries (by id), reading them with what a retry checks of their partner. */
export const LOCK_DELIVERIES = defineStatement({
  name: 'lr_lock_deliveries',
  params: { ids: 'uuid[]' },
  row: {
    id: 'text',
    leadId: 'text',
    partnerId: 'text',
    status: '"DeliveryStatus"',
    attempts: 'int',
    partnerActive: 'boolean',
    partnerPaused: 'boolean',
  },
  prepared: false,
  sql: (p) => sql`SELECT d.id::text, d.lead_id::text AS "leadId", d.partner_id::text AS "partnerId", d.status,
          d.attempts, p.active AS "partnerActive", p.paused_at IS NOT NULL AS "partnerPaused"
   FROM deliveries d JOIN partners p ON p.id = d.partner_id
   WHERE d.id = ANY(${p.ids}) ORDER BY d.id FOR UPDATE OF d`,
});

/** How many deliveries of each lead are accepted and pending (leads with neither are absent). */
export const SALES_OF_LEADS = defineStatement({
  name: 'lr_sales_of_leads',
  params: { leadIds: 'uuid[]' },
  row: { leadId: 'text', accepted: 'int', pending: 'int' },
  prepared: false,
  sql: (p) => sql`SELECT lead_id::text AS "leadId",
          count(*) FILTER (WHERE status = 'accepted')::int AS accepted,
          count(*) FILTER (WHERE status = 'pending')::int AS pending
   FROM deliveries
   WHERE lead_id = ANY(${p.leadIds}) AND status IN ('accepted', 'pending')
   GROUP BY lead_id`,
});

/** Dead letters requeued, due `at`, with a fresh round of maxAttempts: the worker counts attempts from attempts_base. */
export const REQUEUE_DEAD_LETTERS = defineStatement({
  name: 'lr_requeue_dead_letters',
  params: { ids: 'uuid[]', at: 'timestamptz' },
  prepared: false,
  sql: (p) => sql`UPDATE deliveries
   SET status = 'pending', attempts_base = attempts, retries = retries + 1,
       next_attempt_at = ${p.at}, dead_lettered_at = NULL, updated_at = ${p.at}
   WHERE id = ANY(${p.ids})`,
});

/** Dead letters given up on: `rejected` with the reason, their attempts, last error and dead-letter time kept. */
export const DISCARD_DEAD_LETTERS = defineStatement({
  name: 'lr_discard_dead_letters',
  params: { ids: 'uuid[]', reason: 'text', at: 'timestamptz' },
  prepared: false,
  sql: (p) => sql`UPDATE deliveries
   SET status = 'rejected', reason = ${p.reason}, next_attempt_at = NULL, updated_at = ${p.at}
   WHERE id = ANY(${p.ids})`,
});

/** Those of these leads that have a dead letter. */
export const LEADS_WITH_DEAD_LETTERS = defineStatement({
  name: 'lr_leads_with_dead_letters',
  params: { leadIds: 'uuid[]' },
  row: { leadId: 'text' },
  prepared: false,
  sql: (p) => sql`SELECT DISTINCT lead_id::text AS "leadId" FROM deliveries
   WHERE lead_id = ANY(${p.leadIds}) AND status = 'dead_lettered'`,
});

// ---------------------------------------------------------------------------
// The sweeper's (deliveries whose job was probably lost) and the gauges': planned for their values each time.

/** Pending deliveries due before `before`, the most overdue first. */
export const OVERDUE_DELIVERIES = defineStatement({
  name: 'lr_overdue_deliveries',
  params: { before: 'timestamptz', limit: 'int' },
  row: { id: 'uuid', attempts: 'int' },
  prepared: false,
  sql: (p) => sql`SELECT id, attempts FROM deliveries WHERE status = 'pending' AND next_attempt_at < ${p.before}
   ORDER BY next_attempt_at LIMIT ${p.limit}`,
});

/**
 * Deliveries parked (no due time) while their partner was paused or
 * inactive, last changed before `before`, whose partner has been resumed or
 * reactivated since.
 */
export const UNPARKED_DELIVERIES = defineStatement({
  name: 'lr_unparked_deliveries',
  params: { before: 'timestamptz', limit: 'int' },
  row: { id: 'uuid', attempts: 'int' },
  prepared: false,
  sql: (p) => sql`SELECT d.id, d.attempts FROM deliveries d JOIN partners p ON p.id = d.partner_id
   WHERE d.status = 'pending' AND d.next_attempt_at IS NULL AND p.paused_at IS NULL AND p.active
     AND d.updated_at < ${p.before}
   ORDER BY d.id LIMIT ${p.limit}`,
});

/**
 * A partner's parked retries (waiting, with no due time, while it was
 * paused or inactive) made due now, if it is active and not paused. The
 * condition is checked in the same statement, so a partner paused or
 * deactivated again meanwhile keeps its retries parked.
 */
export const UNPARK_RETRIES = defineStatement({
  name: 'lr_unpark_retries',
  params: { partnerId: 'uuid' },
  row: { id: 'text', attempts: 'int' },
  prepared: false,
  sql: (p) => sql`UPDATE deliveries d SET next_attempt_at = now(), updated_at = now()
   FROM partners p
   WHERE p.id = ${p.partnerId} AND p.active AND p.paused_at IS NULL
     AND d.partner_id = p.id AND d.status = 'pending' AND d.next_attempt_at IS NULL
   RETURNING d.id::text, d.attempts`,
});

/** Dead letters an operator can act on (not retried, discarded or superseded). */
export const COUNT_DEAD_LETTERS = defineStatement({
  name: 'lr_count_dead_letters',
  row: { n: 'int' },
  prepared: false,
  sql: () => sql`SELECT count(*)::int AS n FROM deliveries WHERE status = 'dead_lettered'`,
});

/** A partner's deliveries pending or accepted since `since`: what counts against its cap. */
export const CAP_IN_USE = defineStatement({
  name: 'lr_cap_in_use',
  params: { partnerId: 'uuid', since: 'timestamptz' },
  row: { n: 'int' },
  prepared: false,
  sql: (p) => sql`SELECT count(*)::int AS n FROM deliveries
   WHERE partner_id = ${p.partnerId} AND status IN ('pending', 'accepted') AND created_at >= ${p.since}`,
});

// ---------------------------------------------------------------------------
// A partner's health report (GET /v1/admin/partners/:id/health): indexed reads of deliveries(partner_id,
// created_at), planned for their values each time.

/** The partner's deliveries created since `since`, by status, with the attempts made for them. */
export const PARTNER_OUTCOMES = defineStatement({
  name: 'lr_partner_outcomes',
  params: { partnerId: 'uuid', since: 'timestamptz' },
  row: { status: '"DeliveryStatus"', n: 'int', attempts: 'int' },
  prepared: false,
  sql: (p) => sql`SELECT status, count(*)::int AS n, coalesce(sum(attempts), 0)::int AS attempts
   FROM deliveries WHERE partner_id = ${p.partnerId} AND created_at >= ${p.since} GROUP BY status`,
});

/** The partner's latest attempt that did not succeed, of a delivery created since `since`. */
export const PARTNER_LAST_FAILURE = defineStatement({
  name: 'lr_partner_last_failure',
  params: { partnerId: 'uuid', since: 'timestamptz' },
  row: { at: 'timestamptz', outcome: '"AttemptOutcome"', error: 'varchar | null', httpStatus: 'int | null' },
  prepared: false,
  sql: (p) => sql`SELECT a.at, a.outcome, a.error, a.http_status AS "httpStatus"
   FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id
   WHERE d.partner_id = ${p.partnerId} AND d.created_at >= ${p.since} AND a.outcome <> 'accepted'
   ORDER BY a.at DESC, a.id DESC LIMIT 1`,
});

/** The partner's deliveries pending or accepted since the start of its current hour and day: its caps in use. */
export const PARTNER_CAPS_USED = defineStatement({
  name: 'lr_partner_caps_used',
  params: { partnerId: 'uuid', hourStart: 'timestamptz', dayStart: 'timestamptz' },
  row: { hour: 'int', day: 'int' },
  prepared: false,
  sql: (p) => sql`SELECT count(*) FILTER (WHERE created_at >= ${p.hourStart})::int AS hour, count(*)::int AS day
   FROM deliveries WHERE partner_id = ${p.partnerId} AND status IN ('pending', 'accepted') AND created_at >= ${p.dayStart}`,
});
