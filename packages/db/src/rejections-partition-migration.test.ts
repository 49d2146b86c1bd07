import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { useDatabaseMigratedBefore } from '../../../test/support/migrations.js';
import { rowsScanned } from '../../../test/support/seq-scans.js';
import { applyMigrations } from './migrate.js';
import { runStatement } from './statements.js';
import { DELETE_OLD_REJECTIONS, INSERT_REJECTION } from './tables/ingest-rejections.js';
import { CREATE_TIME_PARTITIONS, DROP_TIME_PARTITIONS } from './tables/partitions.js';

const FIRST = '20261202160000_rejection_partitions_prepare';
const SWITCH = '20261202160300_rejection_partitions';
const SEEDED = 120_000;
const DAY_MS = 24 * 60 * 60_000;
/** The application_name of this test's own pool: every other connection is one whose statistics it waits for. */
const TEST_CONNECTIONS = 'partition-migration-test';

/**
 * The conversion of an existing ingest_rejections into a table partitioned by day (ADR 0035): on a database
 * migrated up to just before it and seeded with SEEDED rejections of the last 40 days (in SQL of that
 * schema), the migrations keep every row as it was, in the partition of the rows from before partitioning;
 * the switch itself reads none of them (the validated CHECK proves the range); the keys, the foreign key,
 * the reports' trigger and the id sequence work on the partitioned table; and the housekeeping's
 * statements create days ahead, drop the old partition, and delete its rows past 30 days meanwhile.
 */
describe(`migrations ${FIRST} to ${SWITCH}`, () => {
  const m = useDatabaseMigratedBefore(FIRST, { applicationName: TEST_CONNECTIONS });
  const { one } = m;

  /** Every row, in id order, as one digest. */
  const digest = () =>
    one<{ rows: number; digest: string }>(
      `SELECT count(*)::int AS rows,
              md5(string_agg(concat_ws('|', id, source_id, http_status, reason, errors, lead_id, geo, channel, count,
                                       extract(epoch FROM at)), ',' ORDER BY id)) AS digest
       FROM ingest_rejections`,
    );

  it('keeps every row, reads none of them under the switch, and leaves a table that works', async () => {
    const source = randomUUID();
    await m.pool.query(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at) VALUES ($1, $2, $3, 'lr_test', now())`,
      [source, `source-${source}`, randomUUID().replaceAll('-', '').padEnd(64, '0')],
    );
    await m.pool.query(
      `INSERT INTO ingest_rejections (source_id, http_status, reason, errors, lead_id, geo, channel, count, at)
       SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE $1::uuid END, CASE WHEN i % 2 = 0 THEN 422 ELSE 409 END,
              CASE WHEN i % 2 = 0 THEN 'invalid' ELSE 'duplicate' END,
              CASE WHEN i % 2 = 0 THEN '[{"field": "/phone", "message": "is not a phone number"}]'::jsonb END,
              CASE WHEN i % 2 = 1 THEN gen_random_uuid() END, 'US', 'search', 1 + i % 4,
              now() - make_interval(secs => i * (40 * 86400.0 / $2))
       FROM generate_series(1, $2::int) AS i`,
      [source, SEEDED],
    );
    const seeded = await digest();
    expect(seeded.rows).toBe(SEEDED);
    const { oid } = await one<{ oid: number }>(`SELECT 'ingest_rejections'::regclass::oid::int AS oid`);

    // The CHECK (NOT VALID), the index CONCURRENTLY, the CHECK validated: the scans happen here, without a long lock.
    const upToSwitch = m.migrationsBefore(SWITCH);
    const prepared = await applyMigrations({
      databaseUrl: m.database.url,
      migrationsDir: upToSwitch,
      log: () => undefined,
    });
    expect(prepared.applied).toEqual([
      FIRST,
      '20261202160100_rejection_partitions_key_index',
      '20261202160200_rejection_partitions_validate',
    ]);
    // The statistics see a scan (the measure can fail): a count, on a connection of its own.
    const readBefore = await rowsScanned(m.pool, TEST_CONNECTIONS, [oid]);
    const client = new pg.Client({ connectionString: m.database.url });
    await client.connect();
    await client.query('SELECT count(*) FROM ingest_rejections');
    await client.end();
    expect(await rowsScanned(m.pool, TEST_CONNECTIONS, [oid])).toBe(readBefore + SEEDED);

    const switched = await applyMigrations({ databaseUrl: m.database.url, log: () => undefined });
    expect(switched.applied[0]).toBe(SWITCH);
    // The switch read no row of the old table.
    expect(await rowsScanned(m.pool, TEST_CONNECTIONS, [oid])).toBe(readBefore + SEEDED);

    const partitions = await m.pool.query<{ name: string; bound: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'ingest_rejections'::regclass ORDER BY c.relname`,
    );
    expect(partitions.rows).toEqual([
      {
        name: 'ingest_rejections_before_partitioning',
        bound: expect.stringMatching(/^FOR VALUES FROM \(MINVALUE\) TO/),
      },
      { name: 'ingest_rejections_default', bound: 'DEFAULT' },
    ]);
    expect(await one(`SELECT 'ingest_rejections_before_partitioning'::regclass::oid::int AS oid`)).toEqual({ oid });
    expect(await digest()).toEqual(seeded);
    expect(
      await one(`SELECT pg_get_constraintdef(oid) AS pkey FROM pg_constraint WHERE conname = 'ingest_rejections_pkey'`),
    ).toEqual({ pkey: 'PRIMARY KEY (id, at)' });

    // Written through the statement the ingest uses: a new id after the old ones, counted once by the reports' trigger.
    const { max } = await one<{ max: string }>('SELECT max(id)::text AS max FROM ingest_rejections');
    const deltas = () => one<{ n: number }>(`SELECT coalesce(sum(duplicates), 0)::int AS n FROM report_deltas`);
    const duplicatesBefore = (await deltas()).n;
    await runStatement(m.pool, INSERT_REJECTION, {
      sourceId: source,
      httpStatus: 409,
      reason: 'duplicate',
      errors: null,
      leadId: randomUUID(),
      geo: 'US',
      channel: 'search',
    });
    const newest = await one<{ id: string; part: string }>(
      `SELECT id::text, tableoid::regclass::text AS part FROM ingest_rejections ORDER BY ingest_rejections.id DESC LIMIT 1`,
    );
    expect(BigInt(newest.id)).toBeGreaterThan(BigInt(max));
    expect(newest.part).toBe('ingest_rejections_before_partitioning');
    expect((await deltas()).n).toBe(duplicatesBefore + 1);
    // The primary key holds on the partitioned table.
    await expect(
      m.pool.query(
        `INSERT INTO ingest_rejections (id, http_status, reason, at) SELECT id, 401, 'x', at FROM ingest_rejections LIMIT 1`,
      ),
    ).rejects.toMatchObject({ code: '23505' });

    // The housekeeping's round, 40 days on: days made ahead, the old rows past 30 days deleted in batches, then
    // (32 days after the switch's day) the old partition dropped whole.
    const now = new Date();
    const ahead = await runStatement(m.pool, CREATE_TIME_PARTITIONS, {
      table: 'ingest_rejections',
      unit: 'day',
      ahead: 7,
      at: now,
    });
    // The day of the switch and the next are the old partition's; the six days after them are new.
    expect(ahead).toHaveLength(6);
    const old = (
      await one<{ n: number }>(`SELECT count(*)::int AS n FROM ingest_rejections WHERE at < now() - interval '30 days'`)
    ).n;
    expect(old).toBeGreaterThan(SEEDED / 5);
    let deleted = 0;
    for (;;) {
      const [{ deleted: n = 0 } = {}] = await runStatement(m.pool, DELETE_OLD_REJECTIONS, {
        before: new Date(now.getTime() - 30 * DAY_MS),
        limit: 10_000,
      });
      if (n === 0) break;
      deleted += n;
    }
    expect(deleted).toBe(old);
    expect(
      await runStatement(m.pool, DROP_TIME_PARTITIONS, {
        table: 'ingest_rejections',
        before: new Date(now.getTime() - 30 * DAY_MS),
      }),
    ).toEqual([]);
    const { n: left } = await one<{ n: number }>('SELECT count(*)::int AS n FROM ingest_rejections');
    const dayAfterNext = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 2));
    const dropped = await runStatement(m.pool, DROP_TIME_PARTITIONS, {
      table: 'ingest_rejections',
      before: dayAfterNext,
    });
    expect(dropped).toEqual([{ partition: 'ingest_rejections_before_partitioning', rows: left }]);
    expect(left).toBe(SEEDED + 1 - old);
    // The sequence belongs to the partitioned table: it outlived the partition it was made for.
    await runStatement(m.pool, INSERT_REJECTION, {
      sourceId: source,
      httpStatus: 422,
      reason: 'invalid',
      errors: [{ field: '/email', message: 'is not an email address' }],
      leadId: null,
      geo: null,
      channel: null,
    });
    expect(await one(`SELECT count(*)::int AS n, min(id) > $1::bigint AS after FROM ingest_rejections`, [max])).toEqual(
      {
        n: 1,
        after: true,
      },
    );
    // The foreign key to sources: a source deleted takes its rejections along.
    await m.pool.query('DELETE FROM sources WHERE id = $1', [source]);
    expect(await one(`SELECT count(*)::int AS n FROM ingest_rejections`)).toEqual({ n: 0 });
  }, 120_000);
});
