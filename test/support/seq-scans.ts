import type pg from 'pg';
import { waitFor } from './wait.js';

/**
 * The rows sequential scans have read of these tables (by oid: a migration may rename them), as
 * `pg_stat_user_tables` counts them, once every connection to the database but the pool's own (named by its
 * `application_name`) has ended — a backend writes its statistics before it leaves `pg_stat_activity` — and the
 * pool's own connection has written its own. A migration test reads it before and after a step to show that
 * the step read no row.
 */
export async function rowsScanned(pool: pg.Pool, applicationName: string, oids: number[]): Promise<number> {
  await waitFor(
    async () =>
      (
        await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name <> $1`,
          [applicationName],
        )
      ).rows[0]!.n === 0,
    { what: 'the other connections to end' },
  );
  await pool.query('SELECT pg_stat_force_next_flush()');
  await pool.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await pool.query<{ n: string | null }>(
    'SELECT sum(seq_tup_read) AS n FROM pg_stat_user_tables WHERE relid = ANY ($1)',
    [oids],
  );
  return Number(rows[0]!.n ?? 0);
}
