import { defineStatement, sql } from '../sql.js';

// Tables partitioned by RANGE on a time column (prisma/hand-written/partitions.sql; ADR 0035): the worker's
// housekeeping creates their partitions ahead and drops those past their retention. The table name is checked
// against the catalog by its cast to regclass; each call runs in its own transaction, under a lock per table.

/** Creates the partitions of `table` for the UTC `unit` (day or month) that `at` is in and the `ahead` next; returns the new ones' names. */
export const CREATE_TIME_PARTITIONS = defineStatement({
  name: 'lr_create_time_partitions',
  params: { table: 'text', unit: 'text', ahead: 'int', at: 'timestamptz' },
  row: { partition: 'text' },
  prepared: false,
  sql: (p) => sql`SELECT create_time_partitions(${p.table}::regclass, ${p.unit}, ${p.ahead}, ${p.at}) AS partition`,
});

/** Drops the partitions of `table` whose whole range is before `before`; returns their names and the rows each held. */
export const DROP_TIME_PARTITIONS = defineStatement({
  name: 'lr_drop_time_partitions',
  params: { table: 'text', before: 'timestamptz' },
  row: { partition: 'text', rows: 'int' },
  prepared: false,
  sql: (p) => sql`SELECT partition, rows::int FROM drop_time_partitions(${p.table}::regclass, ${p.before})`,
});

/**
 * One batch of the backfill of `lead_created_at` (prisma/hand-written/lead-created-at.sql; ADR 0035 Decision 5):
 * the next `limit` rows of `table` by primary key after `after` (an id as text; null: from the start), those
 * without it given their lead's created_at. Returns how many it filled and the last id walked (null: the end).
 */
export const BACKFILL_LEAD_CREATED_AT = defineStatement({
  name: 'lr_backfill_lead_created_at',
  params: { table: 'text', after: 'text | null', limit: 'int' },
  row: { filled: 'int', last: 'text | null' },
  prepared: false,
  sql: (p) => sql`SELECT filled, last FROM backfill_lead_created_at(${p.table}::regclass, ${p.after}, ${p.limit})`,
});

/** The housekeeping walks finished for good (`housekeeping_marks`), by name (e.g. `backfill:deliveries`). */
export const HOUSEKEEPING_MARKS = defineStatement({
  name: 'lr_housekeeping_marks',
  params: {},
  row: { name: 'text' },
  prepared: false,
  sql: () => sql`SELECT name FROM housekeeping_marks`,
});

/** Marks a housekeeping walk finished for good; marking it again changes nothing. */
export const MARK_HOUSEKEEPING_DONE = defineStatement({
  name: 'lr_mark_housekeeping_done',
  params: { name: 'text' },
  row: { marked: 'int' },
  prepared: false,
  sql: (p) => sql`WITH marked AS (
      INSERT INTO housekeeping_marks (name) VALUES (${p.name}) ON CONFLICT (name) DO NOTHING RETURNING 1)
    SELECT count(*)::int AS marked FROM marked`,
});
