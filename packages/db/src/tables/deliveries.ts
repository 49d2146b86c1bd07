import type { PublicLead } from '@leadrouter/core';
import { defineStatement, json, sql } from '../sql.js';
import { CAP_SETTINGS, PARTNER_ROW_JSON, partnerJson, type PartnerCaps, type PartnerRow } from './partners.js';

// The deliveries table (one lead offered to one partner), with its attempts.

// ---------------------------------------------------------------------------
// The worker's: run under the lead's row lock (leads.ts, LOCK_LEAD), prepared.

/** The lead's deliveries (read under its lock, in a statement after the one that took it). */
export const LEAD_DELIVERIES = defineStatement({
  name: 'lr_lead_deliveries',
  params: { leadId: 'uuid' },
  row: {
    id: 'text',
    partnerId: 'text',
    status: '"DeliveryStatus"',
    attempts: 'int',
    /** When a pending delivery's next attempt is due; null once settled, or parked while its partner is paused. */
    nextAttemptAt: 'timestamptz | null',
  },
  sql: (p) => sql`SELECT id::text, partner_id::text AS "partnerId", status, attempts, next_attempt_at AS "nextAttemptAt"
   FROM deliveries WHERE lead_id = ${p.leadId}`,
});

/**
 * The delivery (with when it was created and what it reserved of its partner's budgets: its hold on the cap
 * counters), its partner (a `PartnerRow`) and its lead as partners see it, in one statement.
 */
export const LOAD_DELIVERY = defineStatement({
  name: 'lr_load_delivery',
  params: { deliveryId: 'uuid' },
  row: {
    id: 'text',
    status: '"DeliveryStatus"',
    attempts: 'int',
    attemptsBase: 'int',
    /** When its next attempt is due, or, while an attempt is in flight, until when that attempt is leased. */
    nextAttemptAt: 'timestamptz | null',
    createdAt: 'timestamptz',
    /** numeric, as text: exact */
    capAmount: 'text | null',
    partner: json<PartnerRow>(),
    /** The partner's winning bid in the lead's auction and its ping reference (ADR 0032); null: no auction bid. */
    ping: json<{ bid: string; reference: string | null } | null>('jsonb | null'),
    lead: json<PublicLead>(),
  },
  sql: (p) => sql`SELECT d.id::text, d.status, d.attempts, d.attempts_base AS "attemptsBase",
          d.next_attempt_at AS "nextAttemptAt", d.created_at AS "createdAt",
          d.cap_amount::text AS "capAmount", ${PARTNER_ROW_JSON} AS partner,
          (SELECT jsonb_build_object('bid', e->>'bid', 'reference', e->>'reference')
             FROM jsonb_array_elements(CASE WHEN jsonb_typeof(l.routing->'pings') = 'array'
                                            THEN l.routing->'pings' ELSE '[]'::jsonb END) e
            WHERE e->>'partnerId' = d.partner_id::text AND e->>'outcome' = 'bid' LIMIT 1) AS ping,
          json_build_object(
            'id', l.id, 'name', l.name, 'phone', l.phone, 'email', l.email, 'geo', l.geo::text,
            'source', l.sub_source, 'fields', l.fields) AS lead
   FROM deliveries d JOIN partners p ON p.id = d.partner_id JOIN leads l ON l.id = d.lead_id
   WHERE d.id = ${p.deliveryId}`,
});

/**
 * Leases attempt `attempts + 1` of a pending delivery to the caller until `until` (its due time is moved
 * there): only if it is due at `now` (or parked) — no other worker holds a lease on it — and still after
 * `attempts`. `claimed` says whether this call took it; the row is the delivery as the statement began
 * (another worker's lease, or the attempt recorded, when not claimed). Nothing when the delivery is gone.
 */
export const CLAIM_ATTEMPT = defineStatement({
  name: 'lr_claim_attempt',
  params: { deliveryId: 'uuid', attempts: 'int', now: 'timestamptz', until: 'timestamptz' },
  row: { claimed: 'boolean', status: '"DeliveryStatus"', attempts: 'int', nextAttemptAt: 'timestamptz | null' },
  sql: (p) => sql`WITH
   claimed AS (
     UPDATE deliveries SET next_attempt_at = ${p.until}
     WHERE id = ${p.deliveryId} AND attempts = ${p.attempts}
       AND status::text = 'pending' -- as text: no plan may pick a (status, …) index over the key
       AND (next_attempt_at IS NULL OR next_attempt_at <= ${p.now})
     RETURNING id)
   SELECT EXISTS (SELECT 1 FROM claimed) AS claimed, d.status, d.attempts, d.next_attempt_at AS "nextAttemptAt"
   FROM deliveries d WHERE d.id = ${p.deliveryId}`,
});

/**
 * Gives back the lease of attempt `attempts + 1` taken until `until` (the attempt was not made: its partner
 * had no free slot): the delivery is due at `now` again. Nothing when the lease is no longer that one.
 */
export const RELEASE_ATTEMPT = defineStatement({
  name: 'lr_release_attempt',
  params: { deliveryId: 'uuid', attempts: 'int', until: 'timestamptz', now: 'timestamptz' },
  prepared: false,
  sql: (p) => sql`UPDATE deliveries SET next_attempt_at = ${p.now}
   WHERE id = ${p.deliveryId} AND attempts = ${p.attempts} AND next_attempt_at = ${p.until}
     AND status::text = 'pending' -- as text: no plan may pick a (status, …) index over the key`,
});

/**
 * Records attempt `attempts + 1` of a delivery — only if it is still pending
 * after `attempts`, i.e. no other worker recorded this attempt first — and
 * returns the lead's deliveries as they are now: the one just moved as its
 * update returned it (a statement does not see its own changes, `moved`),
 * and none when nothing moved. `price` and `reference` are written only for
 * an accepted delivery; `deadLetteredAt` and the partner's `reason` only
 * when given.
 */
export const RECORD_ATTEMPT = defineStatement({
  name: 'lr_record_attempt',
  params: {
    deliveryId: 'uuid',
    attempts: 'int',
    status: '"DeliveryStatus"',
    nextAttemptAt: 'timestamptz | null',
    error: 'text | null',
    deadLetteredAt: 'timestamptz | null',
    price: 'numeric | null',
    reference: 'text | null',
    reason: 'text | null',
    outcome: '"AttemptOutcome"',
    httpStatus: 'int | null',
    durationMs: 'int',
    excerpt: 'text | null',
    leadId: 'uuid',
  },
  row: {
    id: 'text',
    partnerId: 'text',
    status: '"DeliveryStatus"',
    attempts: 'int',
    nextAttemptAt: 'timestamptz | null',
    moved: 'boolean',
  },
  sql: (p) => sql`WITH
   moved AS (
     UPDATE deliveries SET attempts = ${p.attempts} + 1, status = ${p.status}, next_attempt_at = ${p.nextAttemptAt},
       last_error = ${p.error}, dead_lettered_at = coalesce(${p.deadLetteredAt}, dead_lettered_at),
       price = CASE WHEN ${p.status} = 'accepted' THEN ${p.price} ELSE price END,
       reference = CASE WHEN ${p.status} = 'accepted' THEN ${p.reference} ELSE reference END,
       reason = coalesce(${p.reason}, reason), updated_at = now()
     WHERE id = ${p.deliveryId} AND attempts = ${p.attempts}
       AND status::text = 'pending' -- as text: no plan may pick a (status, …) index over the key
     RETURNING id, partner_id, status, attempts, next_attempt_at, lead_created_at),
   attempt AS (
     INSERT INTO delivery_attempts (delivery_id, lead_created_at, attempt, outcome, http_status, duration_ms, error,
                                    response_excerpt)
     SELECT id, lead_created_at, ${p.attempts} + 1, ${p.outcome}, ${p.httpStatus}, ${p.durationMs}, ${p.error},
            ${p.excerpt}
     FROM moved)
   SELECT id::text, partner_id::text AS "partnerId", status, attempts, next_attempt_at AS "nextAttemptAt", TRUE AS moved
   FROM moved
   UNION ALL
   SELECT id::text, partner_id::text, status, attempts, next_attempt_at, FALSE
   FROM deliveries WHERE lead_id = ${p.leadId} AND id <> ${p.deliveryId} AND EXISTS (SELECT 1 FROM moved)`,
});

/**
 * Marks dead letters of a lead superseded: the lead can no longer use them
 * (`decideSupersede`, @leadrouter/lifecycle). Only those still
 * dead-lettered: run under the lead's lock, like every change to its
 * deliveries.
 */
export const SUPERSEDE = defineStatement({
  name: 'lr_supersede',
  params: { leadId: 'uuid', ids: 'uuid[]' },
  sql: (p) => sql`UPDATE deliveries SET status = 'superseded', next_attempt_at = NULL, updated_at = now()
   WHERE lead_id = ${p.leadId} AND id = ANY(${p.ids}) AND status = 'dead_lettered'`,
});

/**
 * Parks a pending delivery after `attempts` (no due time) while its partner is
 * paused or inactive: resuming or reactivating the partner requeues it.
 */
export const PARK_DELIVERY = defineStatement({
  name: 'lr_park_delivery',
  params: { id: 'uuid', attempts: 'int' },
  prepared: false,
  sql: (p) => sql`UPDATE deliveries SET next_attempt_at = NULL, updated_at = now()
   WHERE id = ${p.id} AND attempts = ${p.attempts}
     AND status::text = 'pending' -- as text: no plan may pick a (status, …) index over the key`,
});

// ---------------------------------------------------------------------------
// The dead letters' list and the bulk actions' pages (ADR 0035 Decision 6): each status is written into the text
// as a literal, so the plan can read its partial index. A parameter (Prisma sends `status = CAST($1::text AS
// "DeliveryStatus")`, which PostgreSQL does not fold) matches no partial index's predicate: every dead-letter
// list then scanned all deliveries (315 ms at a million, bench phase bigdb). Planned for their values each time
// (`prepared: false`): the constants fold, and the statuses not asked for drop out of the OR.

/** The filters both statements share: the statuses asked for, a partner, dead-lettered no later than `until`. */
const DEAD_LETTER_SCOPE = (p: Record<'dead' | 'superseded' | 'partnerId' | 'until', Parameters<typeof sql>[1]>) =>
  sql`((${p.dead} AND d.status = 'dead_lettered') OR (${p.superseded} AND d.status = 'superseded'))
     AND (${p.partnerId}::uuid IS NULL OR d.partner_id = ${p.partnerId})
     AND (${p.until}::timestamptz IS NULL OR d.dead_lettered_at <= ${p.until})`;

/** A page of dead letters, oldest first, after the keyset cursor `(afterAt, afterId)` when given. */
export const DEAD_LETTER_PAGE = defineStatement({
  name: 'lr_dead_letter_page',
  params: {
    dead: 'boolean',
    superseded: 'boolean',
    partnerId: 'uuid | null',
    until: 'timestamptz | null',
    afterAt: 'timestamptz | null',
    afterId: 'uuid | null',
    limit: 'int',
  },
  row: {
    id: 'text',
    leadId: 'text',
    partnerId: 'text',
    partner: 'text',
    status: '"DeliveryStatus"',
    attempts: 'int',
    retries: 'int',
    lastError: 'text | null',
    deadLetteredAt: 'timestamptz | null',
  },
  prepared: false,
  sql: (p) => sql`SELECT d.id::text, d.lead_id::text AS "leadId", d.partner_id::text AS "partnerId",
          p.name::text AS partner, d.status, d.attempts, d.retries, d.last_error::text AS "lastError",
          d.dead_lettered_at AS "deadLetteredAt"
   FROM deliveries d JOIN partners p ON p.id = d.partner_id
   WHERE ${DEAD_LETTER_SCOPE(p)}
     AND (${p.afterAt}::timestamptz IS NULL OR (d.dead_lettered_at, d.id) > (${p.afterAt}, ${p.afterId}::uuid))
   ORDER BY d.dead_lettered_at, d.id
   LIMIT ${p.limit}`,
});

/** How many dead letters the same filters select. */
export const DEAD_LETTER_COUNT = defineStatement({
  name: 'lr_dead_letter_count',
  params: { dead: 'boolean', superseded: 'boolean', partnerId: 'uuid | null', until: 'timestamptz | null' },
  row: { total: 'int' },
  prepared: false,
  sql: (p) => sql`SELECT count(*)::int AS total FROM deliveries d WHERE ${DEAD_LETTER_SCOPE(p)}`,
});

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

/**
 * Locks these deliveries (by id), reading them with what a retry checks of their partner, and their hold on
 * its cap counters (when they were created, what they reserved, its caps).
 */
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
    createdAt: 'timestamptz',
    /** numeric, as text: exact */
    capAmount: 'text | null',
    partnerCaps: json<PartnerCaps>(),
  },
  prepared: false,
  sql: (p) => sql`SELECT d.id::text, d.lead_id::text AS "leadId", d.partner_id::text AS "partnerId", d.status,
          d.attempts, p.active AS "partnerActive", p.paused_at IS NOT NULL AS "partnerPaused",
          d.created_at AS "createdAt", d.cap_amount::text AS "capAmount", ${partnerJson(CAP_SETTINGS)} AS "partnerCaps"
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

// ---------------------------------------------------------------------------
// The stats (GET /v1/admin/stats).

/**
 * Deliveries created since `since`, by partner and status, with the attempts made for them. `partnerIds` is
 * every partner: it selects every delivery, and lets the planner reach them through (partner_id, created_at),
 * so a short window reads only its own rows (a long one: a sequential scan).
 */
export const DELIVERIES_SINCE = defineStatement({
  name: 'lr_deliveries_since',
  params: { partnerIds: 'uuid[]', since: 'timestamptz' },
  row: { partnerId: 'text', status: '"DeliveryStatus"', count: 'int', attempts: 'int' },
  prepared: false,
  sql: (p) => sql`SELECT partner_id::text AS "partnerId", status, count(*)::int AS count,
          sum(attempts)::int AS attempts
   FROM deliveries
   WHERE partner_id = ANY(${p.partnerIds}::uuid[]) AND created_at >= ${p.since}
   GROUP BY partner_id, status`,
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
