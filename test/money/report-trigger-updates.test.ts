import { randomUUID } from 'node:crypto';
import { useDatabaseClient } from '../support/database';

/**
 * The leads' report trigger on updates (prisma/hand-written/reports.sql; docs/performance.md, "The reports'
 * trigger on leads' updates") runs its insert only for an update that changes what the rollups count: a
 * lead's outcome, or the row it counts on (its arrival hour, source, geo, channel). The worker updates a
 * lead twice (to routing with its offer, then settled): the first changes no figure and must cost no
 * statement. auto_explain (PostgreSQL's contrib, loaded in this session only) shows every statement the
 * trigger ran; the figures are read from report_deltas.
 */
describe('the report trigger on updates of leads', () => {
  const db = useDatabaseClient();
  const plans: string[] = [];
  const SOURCE = randomUUID();

  beforeAll(async () => {
    const client = db();
    client.on('notice', (msg: { message?: string }) => {
      if (msg.message?.startsWith('duration:')) plans.push(msg.message);
    });
    await client.query(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at)
       VALUES ($1, 'report trigger', repeat('b', 64), 'lr_test', now())`,
      [SOURCE],
    );
    await client.query(`LOAD 'auto_explain'`);
    await client.query(`SET auto_explain.log_min_duration = 0`);
    await client.query(`SET auto_explain.log_nested_statements = on`);
    await client.query(`SET auto_explain.log_level = notice`);
    await client.query(`SET client_min_messages = notice`);
  });

  const lead = async (at: string, geo: string | null, channel: string | null): Promise<string> => {
    const id = randomUUID();
    await db().query(
      `INSERT INTO leads (id, source_id, name, phone, geo, sub_source, created_at, updated_at)
       VALUES ($1, $2, 'Jane Fixture', '+14155550100', $3, $4, $5, now())`,
      [id, SOURCE, geo, channel, at],
    );
    return id;
  };

  /** The statements into report_deltas the update ran (the trigger's; the update itself names leads). */
  const deltaStatements = async (sql: string, params: unknown[]): Promise<number> => {
    plans.length = 0;
    await db().query(sql, params);
    return plans.filter((p) => p.includes('INSERT INTO report_deltas')).length;
  };

  /** The figures appended for the source, by hour, geo and channel (zero rows left out). */
  const figures = async () =>
    (
      await db().query<Record<string, string | number>>(
        `SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') AS hour, geo, channel,
                sum(leads)::int AS leads, sum(accepted)::int AS accepted, sum(sold)::int AS sold,
                sum(unsold)::int AS unsold, sum(unmatched)::int AS unmatched, sum(dead_lettered)::int AS "deadLettered"
         FROM report_deltas WHERE source_id = $1
         GROUP BY 1, 2, 3
         HAVING (sum(leads), sum(accepted), sum(sold), sum(unsold), sum(unmatched), sum(dead_lettered))
                <> (0, 0, 0, 0, 0, 0)
         ORDER BY 1, 2, 3`,
        [SOURCE],
      )
    ).rows;

  it('runs no statement for an update that changes no figure, one for an outcome that changes', async () => {
    const id = await lead('2026-05-01T10:20:00Z', 'US', 'fb');
    const update = `UPDATE leads SET status = coalesce($2::"LeadStatus", status), routing = coalesce($3::jsonb, routing),
                      updated_at = now() WHERE id = $1`;
    // The worker's route update: queued -> routing with its offer. No outcome before or after.
    expect(await deltaStatements(update, [id, 'routing', '{"offered":1}'])).toBe(0);
    // Its routing record alone.
    expect(await deltaStatements(update, [id, null, '{"offered":2}'])).toBe(0);
    // Settled: routing -> delivered, one sold lead.
    expect(await deltaStatements(update, [id, 'delivered', '{"accepted":1}'])).toBe(1);
    // The money statuses keep it sold.
    expect(await deltaStatements(update, [id, 'converted', null])).toBe(0);
    expect(await deltaStatements(update, [id, 'returned', null])).toBe(0);
    expect(await figures()).toEqual([
      {
        hour: '2026-05-01T10',
        geo: 'US',
        channel: 'fb',
        leads: 1,
        accepted: 1,
        sold: 1,
        unsold: 0,
        unmatched: 0,
        deadLettered: 0,
      },
    ]);
  });

  it('moves each lead of one statement from its old outcome and row to its new ones', async () => {
    await db().query(`DELETE FROM report_deltas WHERE source_id = $1`, [SOURCE]);
    await db().query(`DELETE FROM leads WHERE source_id = $1`, [SOURCE]);
    const a = await lead('2026-05-02T08:00:00Z', 'US', 'fb');
    const b = await lead('2026-05-02T08:30:00Z', 'US', 'fb');
    const c = await lead('2026-05-02T09:00:00Z', null, null);
    await db().query(`UPDATE leads SET status = 'delivered' WHERE id = $1`, [a]);
    await db().query(`UPDATE leads SET status = 'dead_lettered' WHERE id = $1`, [b]);
    // One statement: a's geo corrected (its sold lead moves to CA), b retried (dead letter -> routing: no
    // outcome), c unmatched and its channel set, and a no-op for a lead that keeps everything.
    plans.length = 0;
    await db().query(
      `UPDATE leads SET
         geo = CASE id WHEN $1::uuid THEN 'CA' ELSE geo END,
         status = CASE id WHEN $2::uuid THEN 'routing'::"LeadStatus" WHEN $3::uuid THEN 'unmatched'::"LeadStatus" ELSE status END,
         sub_source = CASE id WHEN $3::uuid THEN 'tt' ELSE sub_source END
       WHERE id = ANY(ARRAY[$1, $2, $3]::uuid[])`,
      [a, b, c],
    );
    const zero = { leads: 0, accepted: 0, sold: 0, unsold: 0, unmatched: 0, deadLettered: 0 };
    expect(await figures()).toEqual([
      { ...zero, hour: '2026-05-02T08', geo: 'CA', channel: 'fb', leads: 1, accepted: 1, sold: 1 },
      // b: still one lead on its way (accepted, no outcome); a moved off this row.
      { ...zero, hour: '2026-05-02T08', geo: 'US', channel: 'fb', leads: 1, accepted: 1 },
      // c's arrival row (geo '', no channel) is left empty by its move to channel tt.
      { ...zero, hour: '2026-05-02T09', geo: '', channel: 'tt', leads: 1, accepted: 1, unmatched: 1 },
    ]);
    // And folded into the rollups (the daily one keeps geo and channel), the same.
    await db().query('SELECT report_fold(100000)');
    const { rows } = await db().query<Record<string, string | number>>(
      `SELECT geo, channel, leads, accepted, sold, unsold, unmatched, dead_lettered AS "deadLettered"
       FROM report_daily WHERE source_id = $1 AND day = '2026-05-02' ORDER BY geo, channel`,
      [SOURCE],
    );
    expect(rows).toEqual([
      { ...zero, geo: '', channel: '' },
      { ...zero, geo: '', channel: 'tt', leads: 1, accepted: 1, unmatched: 1 },
      { ...zero, geo: 'CA', channel: 'fb', leads: 1, accepted: 1, sold: 1 },
      { ...zero, geo: 'US', channel: 'fb', leads: 1, accepted: 1 },
    ]);
  });
});
