import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { Fixtures } from '../../../test/support/fixtures.js';
import { createDb, type Db } from './client.js';
import { applyMigrations } from './migrate.js';

const MIGRATIONS = path.resolve(__dirname, '../../../prisma/migrations');
const BACKFILL = '20261202050031_supersede_sold_dead_letters';

/**
 * The data migration that supersedes the dead letters of leads sold before
 * the worker did it at the sale: on a database migrated up to just before
 * it, with dead letters of every kind of lead.
 */
describe(`migration ${BACKFILL}`, () => {
  let database: TestDatabase;
  let db: Db;
  let before: string;

  beforeAll(async () => {
    before = mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    for (const entry of readdirSync(MIGRATIONS)) {
      if (entry.localeCompare(BACKFILL) < 0 || entry === 'migration_lock.toml')
        cpSync(path.join(MIGRATIONS, entry), path.join(before, entry), { recursive: true });
    }
    database = await createTestDatabase({ empty: true });
    await applyMigrations({ databaseUrl: database.url, migrationsDir: before, log: () => undefined });
    db = createDb({ databaseUrl: database.url });
  });
  afterAll(async () => {
    await db?.$disconnect();
    await database?.drop();
    rmSync(before, { recursive: true, force: true });
  });

  it('supersedes the dead letters of leads sold to maxDeliveries partners, and only those', async () => {
    const fx = new Fixtures(db);
    const source = await fx.source();
    const [a, b, c] = [await fx.partner(), await fx.partner(), await fx.partner()];
    const deadLetterOf = async (
      leadStatus: 'delivered' | 'dead_lettered',
      maxDeliveries: number | string | null,
      accepted: number,
    ): Promise<string> => {
      const lead = await fx.lead({ sourceId: source.id, status: leadStatus });
      await db.lead.update({ where: { id: lead.id }, data: { routing: { maxDeliveries, decisions: [] } } });
      for (const partner of [b, c].slice(0, accepted))
        await fx.delivery({ leadId: lead.id, partnerId: partner.id, status: 'accepted' });
      return (await fx.delivery({ leadId: lead.id, partnerId: a.id, status: 'dead_lettered' })).id;
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
    expect(result.applied).toEqual([BACKFILL]);

    const status = async (id: string) => (await db.delivery.findUniqueOrThrow({ where: { id } })).status;
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
    const superseded = await db.delivery.findUniqueOrThrow({ where: { id: cases.exclusiveSold } });
    expect(superseded.deadLetteredAt).not.toBeNull(); // kept: when it was dead-lettered
  });
});
