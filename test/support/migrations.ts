import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MIGRATIONS = path.resolve(__dirname, '../../prisma/migrations');

/**
 * A copy of prisma/migrations holding only the migrations before `name` (in a new temporary directory the caller
 * removes): a database migrated with it is the schema a migration's test converts.
 */
export function migrationsBefore(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  for (const entry of readdirSync(MIGRATIONS))
    if (entry.localeCompare(name) < 0 || entry === 'migration_lock.toml')
      cpSync(path.join(MIGRATIONS, entry), path.join(dir, entry), { recursive: true });
  return dir;
}

/** The first migration of the leads' tables' switch to partitions (ADR 0035, Decision 5, step 3). */
export const LEAD_PARTITIONS = '20261203010000_lead_partitions_functions';

/** The tables that belong to a lead, whose rows carry its `created_at` (ADR 0035, Decision 5). */
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
 * Fills `lead_created_at` in every row that lacks it, as the worker's housekeeping does before the leads' tables
 * can be switched to partitions (the switch's migrations refuse while a row lacks it): for a test's database
 * seeded in an older schema and migrated up to before LEAD_PARTITIONS.
 */
export async function backfillLeadCreatedAt(db: {
  query(sql: string, params: unknown[]): Promise<unknown>;
}): Promise<void> {
  for (const table of LEAD_CHILD_TABLES)
    await db.query('SELECT * FROM backfill_lead_created_at($1::regclass, NULL, 1000000)', [table]);
}
