import {
  BACKFILL_LEAD_CREATED_AT,
  CREATE_TIME_PARTITIONS,
  DELETE_OLD_CAP_COUNTERS,
  DELETE_OLD_REJECTIONS,
  DROP_TIME_PARTITIONS,
  HOUSEKEEPING_MARKS,
  MARK_HOUSEKEEPING_DONE,
  runStatement,
  sqlPool,
} from '@leadrouter/db';
import { DEFAULT_PING_RETENTION_DAYS, type WorkerConfig } from '@leadrouter/config';
import { eraseExpiredPersonalData, pruneErasedContacts, pruneIdempotencyKeys } from '@leadrouter/lifecycle/worker';
import { redisKeys } from '@leadrouter/queue';
import type { WorkerDeps } from './deps.js';

/** How long ingest rejections are kept (README "Posting leads (for sources)"; ADR 0014). */
export const REJECTION_RETENTION_DAYS = 30;
/**
 * How long the cap counters of a period are kept after it started (ADR 0030): two months, so a month's
 * counter outlives its month by one more, for the deliveries of its last days that settle late.
 */
export const CAP_COUNTER_RETENTION_DAYS = 62;
/** How often one of the workers runs the housekeeping (the first run is at start). */
export const HOUSEKEEPING_INTERVAL_MS = 60 * 60_000;
/** Rows one statement deletes: each is its own short transaction, so no lock is held for long. */
export const DELETE_BATCH = 5_000;
/** Statements one round runs at most (a million rows); what is left waits for the next round. */
const MAX_BATCHES = 200;

const DAY_MS = 24 * 60 * 60_000;

/** The settings a table's retention may come from. */
type RetentionConfig = Pick<WorkerConfig, 'PING_RETENTION_DAYS' | 'LEAD_HISTORY_RETENTION_MONTHS'>;
/** How long sources' pings and their buyers' answers are kept (ADR 0032): PING_RETENTION_DAYS. */
const pingRetentionDays = (config: RetentionConfig) => config.PING_RETENTION_DAYS;
/** How long a month of leads' history is kept (ADR 0035 Decision 7): LEAD_HISTORY_RETENTION_MONTHS. */
const historyRetentionMonths = (config: RetentionConfig) => config.LEAD_HISTORY_RETENTION_MONTHS;

/**
 * The tables partitioned by time (prisma/hand-written/partitions.sql; ADR 0035): the partitions made ahead
 * (the current day or month and `ahead` more), and how long a partition is kept once its whole range is past,
 * in the table's unit: days, or whole months after the current one's start; a number or a setting's (0: for
 * ever, nothing dropped).
 */
export const TIME_PARTITIONED: readonly {
  table: string;
  unit: 'day' | 'month';
  ahead: number;
  keep: number | ((config: RetentionConfig) => number);
}[] = [
  { table: 'ingest_rejections', unit: 'day', ahead: 7, keep: REJECTION_RETENTION_DAYS },
  { table: 'pings', unit: 'day', ahead: 7, keep: pingRetentionDays },
  { table: 'ping_bids', unit: 'day', ahead: 7, keep: pingRetentionDays },
  { table: 'lead_events', unit: 'month', ahead: 2, keep: historyRetentionMonths },
  { table: 'delivery_attempts', unit: 'month', ahead: 2, keep: historyRetentionMonths },
];

/** Tries of a partition's creation or drop that a lock not granted in time fails (partitions.sql: 100 ms each). */
const PARTITION_LOCK_TRIES = 20;

/**
 * Runs a partition's creation or drop, again after a pause when it gave up waiting for a lock (55P03, or 40P01):
 * attaching a partition of lead_events or delivery_attempts adds its foreign key, which locks leads or deliveries
 * against writes (SHARE ROW EXCLUSIVE): waiting for that lock, it would hold up every write after it, so it waits
 * 100 ms at most and gives way (and never becomes a deadlock's victim-maker among the leads' transactions).
 */
async function givingWay<T>(run: () => Promise<T>): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if ((code !== '55P03' && code !== '40P01') || tried >= PARTITION_LOCK_TRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * tried, 1_000)));
    }
  }
}

/**
 * The bound of a table's retention at `at`: its partitions whose whole range is before it are dropped. Days: `keep`
 * days before `at`. Months: the start of the UTC month `keep` months before the one `at` is in, so a month goes once
 * `keep` whole months have passed since it ended (3 on 2031-05-10: every month up to January; February is kept).
 */
export function retentionBound(unit: 'day' | 'month', keep: number, at: Date): Date {
  return unit === 'day'
    ? new Date(at.getTime() - keep * DAY_MS)
    : new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - keep, 1));
}

/**
 * Creates the partitions ahead and drops those past their retention, for each table of TIME_PARTITIONED
 * (idempotent; several workers at once take turns on a lock per table). Returns the partitions' names; the
 * rows the dropped ones held count in the metric of rows deleted.
 */
export async function maintainPartitions(
  deps: Pick<WorkerDeps, 'db' | 'now'> & Partial<Pick<WorkerDeps, 'metrics'>> & { config?: Partial<RetentionConfig> },
): Promise<{ created: string[]; dropped: string[] }> {
  const pool = sqlPool(deps.db);
  const at = deps.now();
  const config: RetentionConfig = {
    PING_RETENTION_DAYS: deps.config?.PING_RETENTION_DAYS ?? DEFAULT_PING_RETENTION_DAYS,
    LEAD_HISTORY_RETENTION_MONTHS: deps.config?.LEAD_HISTORY_RETENTION_MONTHS ?? 0,
  };
  const created: string[] = [];
  const dropped: string[] = [];
  for (const { table, unit, ahead, keep } of TIME_PARTITIONED) {
    const made = await givingWay(() => runStatement(pool, CREATE_TIME_PARTITIONS, { table, unit, ahead, at }));
    created.push(...made.map((r) => r.partition));
    const units = typeof keep === 'number' ? keep : keep(config);
    if (units === 0) continue;
    const before = retentionBound(unit, units, at);
    const gone = await givingWay(() => runStatement(pool, DROP_TIME_PARTITIONS, { table, before }));
    dropped.push(...gone.map((r) => r.partition));
    deps.metrics?.housekeepingDeleted.inc(
      { table },
      gone.reduce((sum, r) => sum + r.rows, 0),
    );
  }
  return { created, dropped };
}

/** The tables that belong to a lead and hold its `lead_created_at` (ADR 0035 Decision 5). */
export const LEAD_CHILD_TABLES = [
  'lead_events',
  'deliveries',
  'delivery_attempts',
  'ledger_entries',
  'feedback_events',
  'returns',
  'postbacks',
] as const;
/**
 * Those partitioned by it (ADR 0035 Decision 7): the column is NOT NULL there and every statement writes it; their
 * partitioning migration needed every row filled, so the backfill has nothing left to do in them.
 */
export const LEAD_HISTORY_TABLES = ['lead_events', 'delivery_attempts'] as const;
/** The tables whose rows of before the backfill fills (and a trigger fills until they are partitioned). */
export const BACKFILLED_TABLES: readonly (typeof LEAD_CHILD_TABLES)[number][] = LEAD_CHILD_TABLES.filter(
  (table) => !(LEAD_HISTORY_TABLES as readonly string[]).includes(table),
);

/** Where this process's backfill walk is in each table: the last id walked, and whether it reached the end. */
const backfillWalk = new Map<string, { after: string | null; done: boolean }>();

/** The `housekeeping_marks` name of a table's finished backfill walk. */
const backfillMark = (table: string): string => `backfill:${table}`;

/**
 * Fills `lead_created_at` in the child rows written before the column existed (ADR 0035 Decision 5), walking
 * each of BACKFILLED_TABLES by primary key in batches of DELETE_BATCH rows, each its own short transaction,
 * at most MAX_BATCHES a round; the next round goes on where this one stopped. New rows always have it (the
 * migration's fill triggers came first), so a table walked to its end is done for good: the walk's end is
 * written to `housekeeping_marks`, and no worker walks that table again — a restarted worker would otherwise
 * read every row of every child table once more (tens of millions on a big database, measured in the
 * big-database bench). Returns how many rows it filled, per table.
 */
export async function backfillLeadCreatedAt(
  deps: Pick<WorkerDeps, 'db'>,
  opts: { batch?: number; stopping?: () => boolean; walk?: Map<string, { after: string | null; done: boolean }> } = {},
): Promise<Record<string, number>> {
  const pool = sqlPool(deps.db);
  const batch = opts.batch ?? DELETE_BATCH;
  const walk = opts.walk ?? backfillWalk;
  const filled: Record<string, number> = {};
  if (BACKFILLED_TABLES.some((table) => !walk.get(table)?.done)) {
    const marked = new Set((await runStatement(pool, HOUSEKEEPING_MARKS, {})).map((r) => r.name));
    for (const table of BACKFILLED_TABLES)
      if (marked.has(backfillMark(table))) walk.set(table, { after: null, done: true });
  }
  let batches = 0;
  for (const table of BACKFILLED_TABLES) {
    const at = walk.get(table) ?? { after: null, done: false };
    walk.set(table, at);
    while (!at.done && batches < MAX_BATCHES && !opts.stopping?.()) {
      batches++;
      const [row] = await runStatement(pool, BACKFILL_LEAD_CREATED_AT, { table, after: at.after, limit: batch });
      if (row?.filled) filled[table] = (filled[table] ?? 0) + row.filled;
      at.done = row?.last == null;
      at.after = row?.last ?? null;
      if (at.done) await runStatement(pool, MARK_HOUSEKEEPING_DONE, { name: backfillMark(table) });
    }
  }
  return filled;
}

/**
 * Deletes ingest rejections older than REJECTION_RETENTION_DAYS that no day's partition holds, in batches
 * of DELETE_BATCH rows (ADR 0014). Stops early when `stopping()` says so.
 * Returns how many rows it deleted.
 */
export async function pruneRejections(
  deps: Pick<WorkerDeps, 'db' | 'now'>,
  opts: { batch?: number; stopping?: () => boolean } = {},
): Promise<number> {
  const pool = sqlPool(deps.db);
  const batch = opts.batch ?? DELETE_BATCH;
  const before = new Date(deps.now().getTime() - REJECTION_RETENTION_DAYS * DAY_MS);
  let deleted = 0;
  for (let i = 0; i < MAX_BATCHES && !opts.stopping?.(); i++) {
    // Oldest first, through the index on `at`; each statement commits on its own.
    const [{ deleted: n = 0 } = {}] = await runStatement(pool, DELETE_OLD_REJECTIONS, { before, limit: batch });
    deleted += n;
    if (n < batch) break;
  }
  return deleted;
}

/** Deletes the cap counters of periods that started more than CAP_COUNTER_RETENTION_DAYS ago; returns how many. */
export async function pruneCapCounters(deps: Pick<WorkerDeps, 'db' | 'now'>): Promise<number> {
  const before = new Date(deps.now().getTime() - CAP_COUNTER_RETENTION_DAYS * DAY_MS);
  const [{ deleted } = { deleted: 0 }] = await runStatement(sqlPool(deps.db), DELETE_OLD_CAP_COUNTERS, { before });
  return deleted;
}

/**
 * The personal-data part of a round (ADR 0031): the digests of erased leads
 * that no duplicate window reaches any more are deleted; with
 * PII_RETENTION_DAYS set, the personal data of older leads is erased, in
 * batches of short transactions. Logged as counts, never as data.
 */
export async function erasePersonalDataRound(
  deps: Pick<WorkerDeps, 'db' | 'now' | 'log' | 'metrics' | 'config'>,
  opts: { batch?: number; stopping?: () => boolean } = {},
): Promise<{ erased: number; contactsPruned: number }> {
  const contactsPruned = await pruneErasedContacts(deps, opts);
  deps.metrics?.housekeepingDeleted.inc({ table: 'erased_contacts' }, contactsPruned);
  const days = deps.config.PII_RETENTION_DAYS;
  const { erased, batches } = days > 0 ? await eraseExpiredPersonalData(deps, days, opts) : { erased: 0, batches: 0 };
  if (erased > 0 || contactsPruned > 0)
    deps.log.info(
      { erased, batches, contactsPruned, retentionDays: days },
      'housekeeping: personal data past its retention erased, digests no duplicate window needs deleted',
    );
  return { erased, contactsPruned };
}

/**
 * Runs the housekeeping every `intervalMs` on whichever worker takes the
 * lock first (the lock lasts the interval, so one run per interval across
 * all workers), and once at start: the partitions made ahead and dropped
 * after their retention (`maintainPartitions`), the retention of ingest
 * rejections, of Idempotency-Keys, of cap counters, the backfill of the
 * child rows' `lead_created_at` (`backfillLeadCreatedAt`), and of personal data (`erasePersonalDataRound`).
 */
export function startHousekeeping(deps: WorkerDeps, intervalMs = HOUSEKEEPING_INTERVAL_MS): { stop(): Promise<void> } {
  const lockKey = redisKeys(deps.config.QUEUE_PREFIX).housekeepingLock;
  let stopping = false;
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = (async () => {
      try {
        const got = await deps.redis.set(lockKey, '1', 'PX', Math.max(intervalMs - 1000, 100), 'NX');
        if (got !== 'OK') return;
        // A lock not granted in time (lock_timeout) fails only this part: the next round tries again.
        const partitions = await maintainPartitions(deps).catch((err: unknown) => {
          deps.log.warn({ err: { message: (err as Error).message } }, 'housekeeping: partitions not maintained');
          return { created: [], dropped: [] };
        });
        if (partitions.created.length > 0 || partitions.dropped.length > 0)
          deps.log.info(partitions, 'housekeeping: partitions created ahead, partitions past their retention dropped');
        const rejections = await pruneRejections(deps, { stopping: () => stopping });
        deps.metrics?.housekeepingDeleted.inc({ table: 'ingest_rejections' }, rejections);
        const idempotencyKeys = stopping
          ? 0
          : await pruneIdempotencyKeys(deps, { batch: DELETE_BATCH, stopping: () => stopping });
        deps.metrics?.housekeepingDeleted.inc({ table: 'idempotency_keys' }, idempotencyKeys);
        const capCounters = stopping ? 0 : await pruneCapCounters(deps);
        deps.metrics?.housekeepingDeleted.inc({ table: 'cap_counters' }, capCounters);
        if (rejections > 0 || idempotencyKeys > 0 || capCounters > 0)
          deps.log.info({ rejections, idempotencyKeys, capCounters }, 'housekeeping deleted old rows');
        const backfilled = stopping ? {} : await backfillLeadCreatedAt(deps, { stopping: () => stopping });
        if (Object.keys(backfilled).length > 0)
          deps.log.info({ filled: backfilled }, 'housekeeping: the lead_created_at of older rows filled');
        if (!stopping) await erasePersonalDataRound(deps, { stopping: () => stopping });
      } catch (err) {
        deps.log.warn({ err: { message: (err as Error).message } }, 'housekeeping failed; will try again');
      } finally {
        running = null;
      }
    })();
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  tick();
  return {
    async stop() {
      stopping = true;
      clearInterval(timer);
      await running;
    },
  };
}
