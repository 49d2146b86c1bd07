import { defineStatement, sql } from '../sql.js';

// The postbacks table: a lead's final status told to its source (README "Postbacks"). A postback is written
// with the lead's final status, by the advance step (leads.ts); the worker's postback job reads and moves it.

/** A postback with its source's postback settings. */
export const LOAD_POSTBACK = defineStatement({
  name: 'lr_load_postback',
  params: { id: 'uuid' },
  row: {
    id: 'uuid',
    leadId: 'uuid',
    leadStatus: '"LeadStatus"',
    status: '"PostbackStatus"',
    attempts: 'int',
    createdAt: 'timestamptz',
    postbackUrl: 'varchar | null',
    postbackSecret: 'varchar | null',
  },
  prepared: false,
  sql: (p) => sql`SELECT p.id, p.lead_id AS "leadId", p.lead_status AS "leadStatus", p.status, p.attempts,
          p.created_at AS "createdAt", s.postback_url AS "postbackUrl", s.postback_secret AS "postbackSecret"
   FROM postbacks p JOIN sources s ON s.id = p.source_id WHERE p.id = ${p.id}`,
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
