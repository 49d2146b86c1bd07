import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { applyMigrations } from './migrate.js';

const MIGRATIONS = path.resolve(__dirname, '../../../prisma/migrations');
const BACKFILL = '20261202050031_supersede_sold_dead_letters';

/**
 * The data migration that supersedes the dead letters of leads sold before
 * the worker did it at the sale: on a database migrated up to just before
 * it, with dead letters of every kind of lead. The rows are written in SQL of
 * that schema: the Prisma client speaks the latest one, whose new columns the
 * database does not have yet.
 */
describe(`migration ${BACKFILL}`, () => {
  let database: TestDatabase;
  let db: pg.Client;
  let before: string;

  beforeAll(async () => {
    before = mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    for (const entry of readdirSync(MIGRATIONS)) {
      if (entry.localeCompare(BACKFILL) < 0 || entry === 'migration_lock.toml')
        cpSync(path.join(MIGRATIONS, entry), path.join(before, entry), { recursive: true });
    }
    database = await createTestDatabase({ empty: true });
    await applyMigrations({ databaseUrl: database.url, migrationsDir: before, log: () => undefined });
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
  });
  afterAll(async () => {
    await db?.end();
    await database?.drop();
    rmSync(before, { recursive: true, force: true });
  });

  it('supersedes the dead letters of leads sold to maxDeliveries partners, and only those', async () => {
    const insert = async (sql: string, values: unknown[]): Promise<string> => {
      const id = randomUUID();
      await db.query(sql, [id, ...values]);
      return id;
    };
    const source = await insert(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at) VALUES ($1, $2, $3, 'lr_test', now())`,
      [`source-${randomUUID()}`, randomUUID().replaceAll('-', '').padEnd(64, '0')],
    );
    const partner = () =>
      insert(`INSERT INTO partners (id, name, url, updated_at) VALUES ($1, $2, 'http://127.0.0.1:9/leads', now())`, [
        `partner-${randomUUID()}`,
      ]);
    const [a, b, c] = [await partner(), await partner(), await partner()];
    const delivery = (leadId: string, partnerId: string, status: 'accepted' | 'dead_lettered') =>
      insert(
        `INSERT INTO deliveries (id, lead_id, partner_id, status, attempts, last_error, dead_lettered_at, updated_at)
         VALUES ($1, $2, $3, $4::"DeliveryStatus", 2, CASE WHEN $4 = 'dead_lettered' THEN 'HTTP 502' END,
                 CASE WHEN $4 = 'dead_lettered' THEN now() END, now())`,
        [leadId, partnerId, status],
      );
    const deadLetterOf = async (
      leadStatus: 'delivered' | 'dead_lettered',
      maxDeliveries: number | string | null,
      accepted: number,
    ): Promise<string> => {
      const lead = await insert(
        `INSERT INTO leads (id, source_id, status, name, phone, routing, updated_at)
         VALUES ($1, $2, $3, 'Jane Fixture', '+14155550100', $4, now())`,
        [source, leadStatus, { maxDeliveries, decisions: [] }],
      );
      for (const partnerId of [b, c].slice(0, accepted)) await delivery(lead, partnerId, 'accepted');
      return delivery(lead, a, 'dead_lettered');
    };
    const cases = {
      exclusiveSold: await deadLetterOf('delivered', 1, 1),
      exclusiveUnsold: await deadLetterOf('dead_lettered', 1, 0),
      sharedWithRoom: await deadLetterOf('delivered', 2, 1),
      sharedFull: await deadLetterOf('delivered', 2, 2),
      // Read as the operations read it: 1 unless a whole number >= 1.
      maxAsText: await deadLetterOf('delivered', '2', 1),
      maxFraction: await deadLetterOf('delivered', 2.5, 1),
      maxMissing: await deadLetterOf('delivered', null, 1),
    };

    const result = await applyMigrations({ databaseUrl: database.url, log: () => undefined });
    // The backfill first, then the migrations written after it.
    expect(result.applied[0]).toBe(BACKFILL);

    const status = async (id: string) =>
      (await db.query<{ status: string }>('SELECT status FROM deliveries WHERE id = $1', [id])).rows[0]?.status;
    const after = Object.fromEntries(
      await Promise.all(Object.entries(cases).map(async ([name, id]) => [name, await status(id)])),
    );
    expect(after).toEqual({
      exclusiveSold: 'superseded',
      exclusiveUnsold: 'dead_lettered',
      sharedWithRoom: 'dead_lettered',
      sharedFull: 'superseded',
      maxAsText: 'superseded',
      maxFraction: 'superseded',
      maxMissing: 'superseded',
    });
    const superseded = await db.query('SELECT dead_lettered_at FROM deliveries WHERE id = $1', [cases.exclusiveSold]);
    expect(superseded.rows[0]?.dead_lettered_at).toBeInstanceOf(Date); // kept: when it was dead-lettered
  });
});
