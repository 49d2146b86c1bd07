import { insertSourceAndPartner, useDatabaseMigratedBefore } from '../../../test/support/migrations.js';
import { applyMigrations } from './migrate.js';

const MIGRATION = '20261203160000_backfill_marks_of_empty_tables';

/**
 * The backfill of lead_created_at has nothing to fill in a table with no row (ADR 0035 Decision 5): the migration marks
 * such tables walked, so a new installation's worker never walks them — and a table with rows is left to the walk.
 */
describe(`migration ${MIGRATION}`, () => {
  const m = useDatabaseMigratedBefore(MIGRATION);

  it('marks the empty tables walked and leaves a table with rows to the backfill', async () => {
    const { source, partner } = await insertSourceAndPartner(m.pool);
    const { id: lead } = await m.one<{ id: string }>(
      `INSERT INTO leads (id, source_id, status, name, phone, updated_at)
       VALUES (uuidv7(), $1, 'delivered', 'Jane Fixture', '+14155550100', now()) RETURNING id`,
      [source],
    );
    await m.pool.query(
      `INSERT INTO deliveries (id, lead_id, partner_id, status, attempts, updated_at)
       VALUES (uuidv7(), $1, $2, 'accepted', 1, now())`,
      [lead, partner],
    );
    const marks = async () =>
      (await m.pool.query<{ name: string }>(`SELECT name FROM housekeeping_marks ORDER BY name`)).rows.map(
        (r) => r.name,
      );
    // The history's tables were marked by their partitioning (every row there has the column); the others not yet.
    expect(await marks()).toEqual(['backfill:delivery_attempts', 'backfill:lead_events']);

    await applyMigrations({ databaseUrl: m.database.url, log: () => undefined });

    expect(await marks()).toEqual([
      'backfill:delivery_attempts',
      'backfill:feedback_events',
      'backfill:lead_events',
      'backfill:ledger_entries',
      'backfill:postbacks',
      'backfill:returns',
    ]);
  });
});
