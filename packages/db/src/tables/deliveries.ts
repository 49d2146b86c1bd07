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
