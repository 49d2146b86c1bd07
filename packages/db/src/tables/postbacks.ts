import { defineStatement, sql } from '../sql.js';

// The postbacks table: a lead's final status, or a feedback event of one of its sales, told to its source
// (README "Postbacks"). A postback is written in the transaction of what it reports: with the lead's final
// status by the advance step (leads.ts), with a conversion, an approved return or a reversal by the feedback
// use cases (INSERT_EVENT_POSTBACK); the worker's postback job reads and moves it.

/** A postback with its source's postback settings. */
export const LOAD_POSTBACK = defineStatement({
  name: 'lr_load_postback',
  params: { id: 'uuid' },
  row: {
    id: 'uuid',
    leadId: 'uuid',
    leadStatus: '"LeadStatus" | null',
    event: '"PostbackEvent" | null',
    /** What the event paid the source (signed); for a `delivered` status, what its sales paid it so far. */
    payout: 'text | null',
    reason: 'varchar | null',
    at: 'timestamptz',
    status: '"PostbackStatus"',
    attempts: 'int',
    postbackUrl: 'varchar | null',
    postbackSecret: 'varchar | null',
  },
  prepared: false,
  sql: (p) => sql`SELECT p.id, p.lead_id AS "leadId", p.lead_status AS "leadStatus", p.event,
          CASE WHEN p.event IS NOT NULL THEN p.payout::text
               WHEN p.lead_status = 'delivered' THEN (
                 SELECT sum(e.amount)::text FROM ledger_entries e
                 WHERE e.lead_id = p.lead_id AND e.party = 'source' AND e.kind = 'sale') END AS payout,
          p.reason, coalesce(p.event_at, p.created_at) AS at, p.status, p.attempts,
          s.postback_url AS "postbackUrl", s.postback_secret AS "postbackSecret"
   FROM postbacks p JOIN sources s ON s.id = p.source_id WHERE p.id = ${p.id}`,
});

/**
 * The postback of a feedback event (`converted`, `returned`, `reversed`) of one sale (`eventKey`, its
 * delivery), in the event's transaction, when the lead's source has a postback URL: once per event and sale.
 * `payout` is the source's own lines of the event (signed; null: the source is paid nothing), `reason` in its
 * terms. Returns the postback created.
 */
export const INSERT_EVENT_POSTBACK = defineStatement({
  name: 'lr_insert_event_postback',
  params: {
    leadId: 'uuid',
    event: '"PostbackEvent"',
    eventKey: 'uuid',
    payout: 'numeric | null',
    reason: 'text | null',
    at: 'timestamptz',
  },
  row: { id: 'text' },
  sql: (p) => sql`INSERT INTO postbacks (id, lead_id, lead_created_at, source_id, event, event_key, payout, reason,
                         event_at, next_attempt_at, updated_at)
   SELECT uuidv7(), l.id, l.created_at, l.source_id, ${p.event}, ${p.eventKey}, ${p.payout}, ${p.reason}, ${p.at},
          now(), now()
   FROM leads l JOIN sources s ON s.id = l.source_id
   WHERE l.id = ${p.leadId} AND s.postback_url IS NOT NULL
   ON CONFLICT (event, event_key) DO NOTHING
   RETURNING id::text`,
});

/** A postback whose source no longer has a postback URL: failed, for good. */
export const FAIL_POSTBACK_WITHOUT_URL = defineStatement({
  name: 'lr_fail_postback_without_url',
  params: { id: 'uuid' },
  prepared: false,
  sql: (p) => sql`UPDATE postbacks SET status = 'failed', last_error = 'the source has no postbackUrl any more',
     updated_at = now()
   WHERE id = ${p.id}`,
});

/**
 * Records attempt `attempt` of a postback — only if it is still pending after
 * the attempt before, i.e. no other worker recorded this one first (no row
 * then).
 */
export const RECORD_POSTBACK_ATTEMPT = defineStatement({
  name: 'lr_record_postback_attempt',
  params: {
    id: 'uuid',
    attempt: 'int',
    status: '"PostbackStatus"',
    nextAttemptAt: 'timestamptz | null',
    error: 'text | null',
    httpStatus: 'int | null',
  },
  row: { id: 'uuid' },
  prepared: false,
  sql: (
    p,
  ) => sql`UPDATE postbacks SET attempts = ${p.attempt}, status = ${p.status}, next_attempt_at = ${p.nextAttemptAt},
     last_error = ${p.error}, http_status = ${p.httpStatus}, updated_at = now()
   WHERE id = ${p.id} AND status = 'pending' AND attempts = ${p.attempt} - 1
   RETURNING id`,
});

/** Pending postbacks due before `before` (their job was probably lost), the most overdue first. */
export const OVERDUE_POSTBACKS = defineStatement({
  name: 'lr_overdue_postbacks',
  params: { before: 'timestamptz', limit: 'int' },
  row: { id: 'uuid', attempts: 'int' },
  prepared: false,
  sql: (p) => sql`SELECT id, attempts FROM postbacks WHERE status = 'pending' AND next_attempt_at < ${p.before}
   ORDER BY next_attempt_at LIMIT ${p.limit}`,
});
