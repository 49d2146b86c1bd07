import { defineStatement, sql } from '../sql.js';
import { partnerColumns, partnerRow } from './partners.js';

// Partner feedback and returns (docs/decisions/0026-feedback-returns-postbacks.md): the partner a feedback key
// names, the sale an event is about, the events as received, the returns and their queue. Everything that
// changes a sale's money runs under its lead's lock (LOCK_LEAD_MONEY, ledger.ts).

/** What a feedback event reads of its partner: who it is and its terms. */
const FEEDBACK_PARTNER = [
  'id',
  'name',
  'active',
  'conversionPrice',
  'returnsWindowDays',
  'returnsAutoApprove',
  'statusMap',
] as const;

/** The partner whose feedback key hashes to `hash` (none: no such key). */
export const PARTNER_BY_FEEDBACK_KEY = defineStatement({
  name: 'lr_partner_by_feedback_key',
  params: { hash: 'text' },
  row: partnerRow(FEEDBACK_PARTNER),
  sql: (p) => sql`SELECT ${partnerColumns(FEEDBACK_PARTNER)} FROM partners p WHERE p.feedback_key_hash = ${p.hash}`,
});

/** The partner, with its feedback terms (an operator filing a return for it). */
export const FEEDBACK_PARTNER_BY_ID = defineStatement({
  name: 'lr_feedback_partner_by_id',
  params: { id: 'uuid' },
  row: partnerRow(FEEDBACK_PARTNER),
  prepared: false,
  sql: (p) => sql`SELECT ${partnerColumns(FEEDBACK_PARTNER)} FROM partners p WHERE p.id = ${p.id}`,
});

/**
 * The partner's accepted deliveries with these references of its own (from its answers, `responseMap.reference`),
 * for every event of a batch naming its lead so, oldest first: two for one reference, and it cannot say which.
 */
export const SALES_BY_REFERENCES = defineStatement({
  name: 'lr_sales_by_references',
  params: { partnerId: 'uuid', references: 'text[]' },
  row: { reference: 'text', id: 'text', leadId: 'text' },
  sql: (p) => sql`SELECT i.ref AS reference, d.id::text, d.lead_id::text AS "leadId"
   FROM (SELECT DISTINCT unnest(${p.references}::text[]) AS ref) i
   JOIN deliveries d ON d.partner_id = ${p.partnerId} AND d.reference = i.ref AND d.status = 'accepted'
   ORDER BY d.created_at, d.id`,
});

/** The partner's delivery of this lead, if it was offered it. */
export const SALE_BY_LEAD = defineStatement({
  name: 'lr_sale_by_lead',
  params: { partnerId: 'uuid', leadId: 'uuid' },
  row: { id: 'text', leadId: 'text', status: '"DeliveryStatus"' },
  sql: (p) => sql`SELECT id::text, lead_id::text AS "leadId", status FROM deliveries
   WHERE partner_id = ${p.partnerId} AND lead_id = ${p.leadId}`,
});

/**
 * The partner's sales that the items of a status pull name (docs/decisions/0029-status-pull.md), one row per
 * reference that names one: by the partner's own reference (`byReference`: how many of its accepted deliveries
 * have it; more than one and the item cannot say which), else by our lead id. With the sale's last raw status,
 * so an unchanged status is passed over without taking the lead's lock.
 *
 * `leadIds[i]` is the lead id `references[i]` is, or null when it is no UUID: the caller decides that with
 * packages/core's `isUuid`, the one definition of an id's form, so no pattern is restated here.
 */
export const SALES_FOR_PULL = defineStatement({
  name: 'lr_sales_for_pull',
  params: { partnerId: 'uuid', references: 'text[]', leadIds: 'uuid[]' },
  row: {
    reference: 'text',
    deliveryId: 'text',
    leadId: 'text',
    partnerStatus: 'varchar | null',
    byReference: 'int',
  },
  prepared: false,
  sql: (p) => sql`SELECT i.ref AS reference, COALESCE(r.id, l.id)::text AS "deliveryId",
          COALESCE(r.lead_id, l.lead_id)::text AS "leadId",
          CASE WHEN r.id IS NOT NULL THEN r.partner_status ELSE l.partner_status END AS "partnerStatus",
          COALESCE(r.n, 0)::int AS "byReference"
   FROM (SELECT DISTINCT ref, lead_id FROM unnest(${p.references}::text[], ${p.leadIds}::uuid[]) AS u(ref, lead_id)) i
   LEFT JOIN LATERAL (
     SELECT d.id, d.lead_id, d.partner_status, count(*) OVER () AS n FROM deliveries d
     WHERE d.partner_id = ${p.partnerId} AND d.reference = i.ref AND d.status = 'accepted'
     ORDER BY d.created_at LIMIT 1) r ON TRUE
   LEFT JOIN LATERAL (
     SELECT d.id, d.lead_id, d.partner_status FROM deliveries d
     WHERE r.id IS NULL AND d.partner_id = ${p.partnerId} AND d.status = 'accepted'
       AND d.lead_id = i.lead_id) l ON TRUE
   WHERE r.id IS NOT NULL OR l.id IS NOT NULL`,
});

/** What SALE_STATE and SALE_STATE_OF_LEAD read of a sale. */
const SALE_STATE_ROW = {
  id: 'text',
  status: '"DeliveryStatus"',
  partnerStatus: 'varchar | null',
  partnerStatusAt: 'timestamptz | null',
  returnId: 'text | null',
  returnStatus: '"ReturnStatus" | null',
  waitingId: 'text | null',
  waitingAt: 'timestamptz | null',
  waitingReason: 'varchar | null',
} as const;

/** What SALE_STATE and SALE_STATE_OF_LEAD read of a sale, up to their WHERE. */
const SALE_STATE_SELECT = sql`SELECT d.id::text, d.status, d.partner_status AS "partnerStatus",
          d.partner_status_at AS "partnerStatusAt", r.id::text AS "returnId", r.status AS "returnStatus",
          w.id::text AS "waitingId", w.at AS "waitingAt", w.reason AS "waitingReason"
   FROM deliveries d
   LEFT JOIN returns r ON r.delivery_id = d.id
   LEFT JOIN LATERAL (
     SELECT f.id, f.at, f.reason FROM feedback_events f
     WHERE f.delivery_id = d.id AND f.outcome = 'awaiting_conversion'
     ORDER BY f.received_at, f.id LIMIT 1) w ON TRUE`;

/**
 * A sale as feedback about it needs it, read under its lead's lock: the delivery's status and the partner's
 * last raw status, its return, and the earliest reversal that waits for its conversion.
 */
export const SALE_STATE = defineStatement({
  name: 'lr_sale_state',
  params: { deliveryId: 'uuid' },
  row: SALE_STATE_ROW,
  sql: (p) => sql`${SALE_STATE_SELECT} WHERE d.id = ${p.deliveryId}`,
});

/**
 * SALE_STATE of the partner's delivery of this lead (one at most: `(lead_id, partner_id)` is unique), for an
 * event naming the lead by its id: read under the lock in the lock's own message, with no lookup before it.
 */
export const SALE_STATE_OF_LEAD = defineStatement({
  name: 'lr_sale_state_of_lead',
  params: { partnerId: 'uuid', leadId: 'uuid' },
  row: SALE_STATE_ROW,
  sql: (p) => sql`${SALE_STATE_SELECT} WHERE d.partner_id = ${p.partnerId} AND d.lead_id = ${p.leadId}`,
});

/**
 * A feedback event as received, with what it did — once per partner and `eventId` (the partner's own id for
 * it): a repeat inserts nothing and returns no row.
 */
export const INSERT_FEEDBACK = defineStatement({
  name: 'lr_insert_feedback',
  params: {
    partnerId: 'uuid',
    leadId: 'uuid',
    deliveryId: 'uuid',
    event: '"FeedbackEventKind"',
    status: 'text | null',
    outcome: 'text',
    amount: 'numeric | null',
    reason: 'text | null',
    eventId: 'text | null',
    via: '"FeedbackVia"',
    at: 'timestamptz',
  },
  row: { id: 'text' },
  sql: (
    p,
  ) => sql`INSERT INTO feedback_events (partner_id, lead_id, lead_created_at, delivery_id, event, status, outcome,
                               amount, reason, event_id, via, at)
   VALUES (${p.partnerId}, ${p.leadId}, (SELECT created_at FROM leads WHERE id = ${p.leadId}), ${p.deliveryId},
           ${p.event}, ${p.status}, ${p.outcome}, ${p.amount}, ${p.reason}, ${p.eventId}, ${p.via}, ${p.at})
   ON CONFLICT (partner_id, event_id) DO NOTHING
   RETURNING id::text`,
});

/** A reversal that waited for its conversion, applied now. */
export const SET_FEEDBACK_OUTCOME = defineStatement({
  name: 'lr_set_feedback_outcome',
  params: { id: 'uuid', outcome: 'text' },
  sql: (p) => sql`UPDATE feedback_events SET outcome = ${p.outcome} WHERE id = ${p.id}`,
});

/** The partner's latest raw status for the sale (a status event that is not older than the last one). */
export const SET_PARTNER_STATUS = defineStatement({
  name: 'lr_set_partner_status',
  params: { deliveryId: 'uuid', status: 'text', at: 'timestamptz' },
  sql: (p) => sql`UPDATE deliveries SET partner_status = ${p.status}, partner_status_at = ${p.at}
   WHERE id = ${p.deliveryId}`,
});

// ---------------------------------------------------------------------------
// Returns: one per sale, pending until decided (by an operator, or at once with the partner's autoApprove).

/** Files the sale's return (`approved` at once, with who decided, or `pending`); none when it has one already. */
export const FILE_RETURN = defineStatement({
  name: 'lr_file_return',
  params: {
    leadId: 'uuid',
    deliveryId: 'uuid',
    partnerId: 'uuid',
    status: '"ReturnStatus"',
    reason: 'text',
    via: '"FeedbackVia"',
    decidedBy: 'text | null',
    at: 'timestamptz',
  },
  row: { id: 'text' },
  sql: (
    p,
  ) => sql`INSERT INTO returns (lead_id, lead_created_at, delivery_id, partner_id, status, reason, filed_via, decided_by,
                       decided_at, created_at)
   VALUES (${p.leadId}, (SELECT created_at FROM leads WHERE id = ${p.leadId}), ${p.deliveryId}, ${p.partnerId},
           ${p.status}, ${p.reason}, ${p.via}, ${p.decidedBy}, CASE WHEN ${p.status} = 'pending' THEN NULL ELSE ${p.at} END,
           ${p.at})
   ON CONFLICT (delivery_id) DO NOTHING
   RETURNING id::text`,
});

/** A return (read before its lead is locked, to find the lead; read again under the lock). */
export const RETURN_BY_ID = defineStatement({
  name: 'lr_return_by_id',
  params: { id: 'uuid' },
  row: {
    id: 'text',
    leadId: 'text',
    deliveryId: 'text',
    partnerId: 'text',
    status: '"ReturnStatus"',
    reason: 'varchar',
  },
  prepared: false,
  sql: (p) => sql`SELECT id::text, lead_id::text AS "leadId", delivery_id::text AS "deliveryId",
          partner_id::text AS "partnerId", status, reason
   FROM returns WHERE id = ${p.id}`,
});

/** Decides a pending return; no row when it is not pending any more. Run under its lead's lock. */
export const DECIDE_RETURN = defineStatement({
  name: 'lr_decide_return',
  params: { id: 'uuid', status: '"ReturnStatus"', decidedBy: 'text', reason: 'text | null', at: 'timestamptz' },
  row: { id: 'text' },
  prepared: false,
  sql: (p) => sql`UPDATE returns SET status = ${p.status}, decided_by = ${p.decidedBy}, decided_at = ${p.at},
     decision_reason = ${p.reason}
   WHERE id = ${p.id} AND status = 'pending'
   RETURNING id::text`,
});

/**
 * Returns of the given statuses (and partner, when given; the one return `id`, or a lead's, when given), oldest first,
 * after the cursor `(afterAt, afterId)` (none: from the start), `limit` of them: with the partner's name and
 * the sale's amount (its partner line).
 */
export const LIST_RETURNS = defineStatement({
  name: 'lr_list_returns',
  params: {
    statuses: '"ReturnStatus"[]',
    partnerId: 'uuid | null',
    afterAt: 'timestamptz | null',
    afterId: 'uuid | null',
    limit: 'int',
    id: 'uuid | null',
    leadId: 'uuid | null',
  },
  row: {
    id: 'text',
    leadId: 'text',
    partnerId: 'text',
    partnerName: 'varchar',
    status: '"ReturnStatus"',
    reason: 'varchar',
    filedVia: '"FeedbackVia"',
    amount: 'text | null',
    saleAt: 'timestamptz | null',
    decidedBy: 'varchar | null',
    decidedAt: 'timestamptz | null',
    decisionReason: 'varchar | null',
    createdAt: 'timestamptz',
  },
  prepared: false,
  sql: (p) => sql`SELECT r.id::text, r.lead_id::text AS "leadId", r.partner_id::text AS "partnerId",
          p.name AS "partnerName", r.status, r.reason, r.filed_via AS "filedVia",
          e.amount::text AS amount, e.at AS "saleAt", r.decided_by AS "decidedBy", r.decided_at AS "decidedAt",
          r.decision_reason AS "decisionReason", r.created_at AS "createdAt"
   FROM returns r
   JOIN partners p ON p.id = r.partner_id
   LEFT JOIN ledger_entries e ON e.kind = 'sale' AND e.event_id = r.delivery_id AND e.party = 'partner'
   WHERE r.status = ANY(${p.statuses})
     AND (${p.partnerId}::uuid IS NULL OR r.partner_id = ${p.partnerId})
     AND (${p.id}::uuid IS NULL OR r.id = ${p.id})
     AND (${p.leadId}::uuid IS NULL OR r.lead_id = ${p.leadId})
     AND (${p.afterAt}::timestamptz IS NULL OR (r.created_at, r.id) > (${p.afterAt}, ${p.afterId}))
   ORDER BY r.created_at, r.id
   LIMIT ${p.limit}`,
});
