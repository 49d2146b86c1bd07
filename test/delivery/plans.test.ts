import { executeSql, orderedValues, prepareSql, RECORD_ATTEMPT } from '@leadrouter/db';
import { useDatabaseClient } from '../support/database';

/**
 * A prepared statement keeps the generic plan it settled on after its first
 * executions. Planned while the tables were nearly empty and without
 * statistics (a new deployment, a database with autovacuum off), the
 * attempt's update once chose the (status, dead_lettered_at) index over the
 * primary key, and then read every pending delivery to record one attempt.
 */
describe('the attempt statement', () => {
  const db = useDatabaseClient();

  it('finds its delivery by the primary key, even with a plan made while the table was empty', async () => {
    const client = db();
    const source = '00000000-0000-4000-8000-000000000001';
    const partner = '00000000-0000-4000-8000-000000000002';
    await client.query(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at)
         VALUES ($1, 's', repeat('a', 64), 'lr_', now());
       INSERT INTO partners (id, name, url, updated_at) VALUES ($2, 'p', 'https://partner.example', now())`
        .replace('$1', `'${source}'`)
        .replace('$2', `'${partner}'`),
    );
    await client.query(prepareSql(RECORD_ATTEMPT));
    const missing = '00000000-0000-4000-8000-0000000000ff';
    const execute = executeSql(
      RECORD_ATTEMPT,
      orderedValues(RECORD_ATTEMPT, {
        ...{ deliveryId: missing, attempts: 0, status: 'accepted', nextAttemptAt: null, error: null },
        ...{ deadLetteredAt: null, price: null, reference: null, reason: null, outcome: 'accepted' },
        ...{ httpStatus: 200, durationMs: 5, excerpt: null, leadId: missing },
      }),
    );
    // More than the five custom plans after which PostgreSQL may settle on a generic one.
    for (let i = 0; i < 8; i++) await client.query(execute);
    await client.query(
      `INSERT INTO leads (id, source_id, name, phone, updated_at)
         SELECT gen_random_uuid(), '${source}', 'n', '+14155550100', now() FROM generate_series(1, 2000);
       INSERT INTO deliveries (id, lead_id, partner_id, updated_at)
         SELECT gen_random_uuid(), id, '${partner}', now() FROM leads`,
    );
    const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${execute}`)).rows
      .map((r) => r['QUERY PLAN'])
      .join('\n');
    expect(plan).toMatch(/Index Scan using deliveries_pkey on deliveries/);
    expect(plan).not.toMatch(/Rows Removed by Filter: \d{3,}/);
  });
});
