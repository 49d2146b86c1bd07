import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { insertSourceAndPartner } from '../../../test/support/migrations.js';
import { applyMigrations } from './migrate.js';
import { runStatement } from './statements.js';
import { reportStatement } from './tables/reports.js';

const MIGRATIONS = path.resolve(__dirname, '../../../prisma/migrations');
const REPORTS = '20261202102742_reports';

/**
 * The migration that gives the report rollups their lead figures (ADR 0028): on a database migrated up to
 * just before it, with leads of every outcome, a sale in the ledger (whose money the ledger's trigger had
 * added already) and rejections, the rollups hold after it what the triggers would have added. Rows are
 * written in SQL of that schema.
 */
describe(`migration ${REPORTS}`, () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let before: string;

  beforeAll(async () => {
    before = mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    for (const entry of readdirSync(MIGRATIONS)) {
      if (entry.localeCompare(REPORTS) < 0 || entry === 'migration_lock.toml')
        cpSync(path.join(MIGRATIONS, entry), path.join(before, entry), { recursive: true });
    }
    database = await createTestDatabase({ empty: true });
    await applyMigrations({ databaseUrl: database.url, migrationsDir: before, log: () => undefined });
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
    rmSync(before, { recursive: true, force: true });
  });

  it('counts the leads and rejections recorded before it, once, and the triggers count those after it', async () => {
    const insert = async (sql: string, values: unknown[]): Promise<string> => {
      const id = randomUUID();
      await pool.query(sql, [id, ...values]);
      return id;
    };
    const { source, partner } = await insertSourceAndPartner(pool);
    const lead = (status: string, at: string, geo: string | null) =>
      insert(
        `INSERT INTO leads (id, source_id, status, name, phone, geo, created_at, updated_at)
         VALUES ($1, $2, $3::"LeadStatus", 'Jane Fixture', '+14155550100', $4, $5, now())`,
        [source, status, geo, at],
      );
    const sold = await lead('delivered', '2026-11-01T09:00:00Z', 'US');
    await lead('converted', '2026-11-01T09:30:00Z', 'US');
    await lead('unsold', '2026-11-01T23:00:00Z', 'CA');
    await lead('routing', '2026-11-02T01:00:00Z', null);
    await lead('dead_lettered', '2026-11-02T02:00:00Z', null);
    const delivery = await insert(
      `INSERT INTO deliveries (id, lead_id, partner_id, status, price, updated_at) VALUES ($1, $2, $3, 'accepted', 12.5, now())`,
      [sold, partner],
    );
    await pool.query(
      `INSERT INTO ledger_entries (lead_id, party, party_id, kind, amount, delivery_id, event_id, at)
       VALUES ($1, 'partner', $2, 'sale', 12.5, $3, $3, '2026-11-01T09:00:05Z')`,
      [sold, partner, delivery],
    );
    for (const reason of ['duplicate', 'invalid', 'rate_limited'])
      await pool.query(
        `INSERT INTO ingest_rejections (source_id, http_status, reason, at) VALUES ($1, 409, $2, '2026-11-02T03:00:00Z')`,
        [source, reason],
      );

    const result = await applyMigrations({ databaseUrl: database.url, log: () => undefined });
    expect(result.applied[0]).toBe(REPORTS);

    const after = await pool.query(
      `INSERT INTO leads (id, source_id, status, name, phone, created_at, updated_at)
       VALUES ($1, $2, 'queued', 'Jane Fixture', '+14155550100', '2026-11-02T04:00:00Z', now())`,
      [randomUUID(), source],
    );
    expect(after.rowCount).toBe(1);

    const rows = await runStatement(pool, reportStatement('daily', ['day']), {
      since: new Date('2026-11-01T00:00:00Z'),
      until: new Date('2026-11-03T00:00:00Z'),
      sourceId: source,
      limit: 1000,
      tz: 'UTC',
    });
    const figures = rows.map((r) => ({
      day: r.day,
      leads: Number(r.leads),
      accepted: Number(r.accepted),
      duplicates: Number(r.duplicates),
      sold: Number(r.sold),
      unsold: Number(r.unsold),
      deadLettered: Number(r.deadLettered),
      revenue: r.revenue,
    }));
    expect(figures).toEqual([
      {
        day: '2026-11-01',
        leads: 3,
        accepted: 3,
        duplicates: 0,
        sold: 2,
        unsold: 1,
        deadLettered: 0,
        revenue: '12.5000',
      },
      // Two leads then, the one after the migration, a duplicate and an invalid lead; not the rate-limited post.
      {
        day: '2026-11-02',
        leads: 5,
        accepted: 3,
        duplicates: 1,
        sold: 0,
        unsold: 0,
        deadLettered: 1,
        revenue: '0.0000',
      },
    ]);
  });
});
