import { defineStatement, json, sql } from '../sql.js';

// The ingest_rejections table: the answers that did not accept a lead, never with personal data (ADR 0014),
// written by the ingest's RejectionLog and pruned by the worker's housekeeping.

/** What a rejection keeps of the field errors: pointers and messages, never values. */
export interface RejectionErrors {
  field?: string;
  message: string;
}

/**
 * One rejection of a source's post, right after the answer; a duplicate with the posted lead's geo and channel
 * (its `source` field), which the reports count it by (ADR 0028).
 */
export const INSERT_REJECTION = defineStatement({
  name: 'lr_insert_rejection',
  params: {
    sourceId: 'uuid',
    httpStatus: 'int',
    reason: 'varchar',
    errors: json<RejectionErrors[] | null>('jsonb | null'),
    leadId: 'uuid | null',
    geo: 'varchar | null',
    channel: 'varchar | null',
  },
  sql: (p) => sql`INSERT INTO ingest_rejections (source_id, http_status, reason, errors, lead_id, geo, channel)
   VALUES (${p.sourceId}, ${p.httpStatus}, ${p.reason}, ${p.errors}, ${p.leadId}, ${p.geo}, ${p.channel})`,
});

/** The sums of requests without a valid key: one row per status and reason, with its count and first time. */
export const INSERT_REJECTION_COUNTS = defineStatement({
  name: 'lr_insert_rejection_counts',
  params: { httpStatuses: 'int[]', reasons: 'varchar[]', counts: 'int[]', since: 'timestamptz[]' },
  prepared: false,
  sql: (p) => sql`INSERT INTO ingest_rejections (source_id, http_status, reason, count, at)
   SELECT NULL, * FROM unnest(${p.httpStatuses}, ${p.reasons}, ${p.counts}, ${p.since})`,
});

/**
 * Deletes up to `limit` rejections older than `before` that no day's partition holds — those of the DEFAULT
 * partition (a day whose partition was missing) and of the partition of the rows from before partitioning —,
 * oldest first, through the index on `at` (the housekeeping's retention; a day's partition is dropped whole,
 * DROP_TIME_PARTITIONS); returns how many.
 */
export const DELETE_OLD_REJECTIONS = defineStatement({
  name: 'lr_delete_old_rejections',
  params: { before: 'timestamptz', limit: 'int' },
  row: { deleted: 'int' },
  prepared: false,
  sql: (p) => sql`WITH gone AS (
     DELETE FROM ingest_rejections WHERE (id, at) IN (
       SELECT id, at FROM ingest_rejections
       WHERE at < ${p.before}
         AND tableoid IN (to_regclass('ingest_rejections_default'), to_regclass('ingest_rejections_before_partitioning'))
       ORDER BY at LIMIT ${p.limit})
     RETURNING 1)
   SELECT count(*)::int AS deleted FROM gone`,
});
