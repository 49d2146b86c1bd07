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
