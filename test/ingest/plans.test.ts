import { ACCEPT, executeSql, orderedValues, prepareSql, SOURCE_BY_KEY_HASH } from '@leadrouter/db';
import { useDatabaseClient } from '../support/database';

/**
 * A prepared statement keeps the generic plan it settled on after its first
 * executions, even when that plan was made on empty tables without
 * statistics (a new deployment). The accept statement's look-ups must stay
 * index look-ups by key, phone and email however the table grew since.
 */
describe('the accept statement', () => {
  const db = useDatabaseClient();

  it('finds replays and duplicates through their indexes, even with a plan made while the table was empty', async () => {
    const client = db();
    const source = '00000000-0000-4000-8000-000000000001';
    await client.query(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at)
       VALUES ('${source}', 's', repeat('a', 64), 'lr_', now())`,
    );
    await client.query(prepareSql(ACCEPT));
    const accept = (phone: string, email: string, key: string) =>
      executeSql(
        ACCEPT,
        orderedValues(ACCEPT, {
          ...{ n: 0, sourceId: source, name: 'n', phone, email, geo: null, subSource: null, fields: {} },
          ...{ consent: null, key, requestHash: 'f'.repeat(64), windowHours: 24 },
          ...{ id: null, ping: null, detail: null },
        }),
      );
    // More than the five custom plans after which PostgreSQL may settle on a generic one.
    for (let i = 0; i < 8; i++) await client.query(accept(`+1415555010${i}`, `p${i}@example.com`, `k${i}`));
    await client.query(
      `WITH l AS (
         INSERT INTO leads (id, source_id, name, phone, email, updated_at)
         SELECT gen_random_uuid(), '${source}', 'n', '+44' || g, 'e' || g || '@example.com', now()
         FROM generate_series(1, 5000) AS g
         RETURNING id, created_at, phone)
       INSERT INTO idempotency_keys (source_id, key, lead_id, lead_created_at, request_hash)
       SELECT '${source}', 'key' || substr(phone, 4), id, created_at, repeat('f', 64) FROM l`,
    );
    for (const [what, execute] of [
      ['a new lead', accept('+14155550999', 'new@example.com', 'new-key')],
      ['a duplicate', accept('+4442', 'other@example.com', 'other-key')],
      ['a replay', accept('+14155550998', 'x@example.com', 'key7')],
    ] as const) {
      const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE) ${execute}`)).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      expect({ what, seqScan: /Seq Scan on (leads|idempotency_keys)/.test(plan) }).toEqual({ what, seqScan: false });
      expect({ what, filtered: /Rows Removed by Filter: \d{3,}/.test(plan) }).toEqual({ what, filtered: false });
    }
  });
});

/**
 * A source is found by its key on every post its cache has not seen (and on every made-up key): the look-up must
 * stay one probe of the key's unique index. The hash column is `char(64)`: a parameter of another type would be
 * compared as text, which that index cannot serve.
 */
describe('the source look-up by key', () => {
  const db = useDatabaseClient();

  it('goes through the key’s unique index, prepared, with many sources', async () => {
    const client = db();
    await client.query(prepareSql(SOURCE_BY_KEY_HASH));
    const find = (hash: string) => executeSql(SOURCE_BY_KEY_HASH, orderedValues(SOURCE_BY_KEY_HASH, { hash }));
    // More than the five custom plans after which PostgreSQL may settle on a generic one.
    for (let i = 0; i < 8; i++) await client.query(find(String(i).repeat(64)));
    await client.query(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at)
       SELECT gen_random_uuid(), 's' || g, md5(g::text) || md5((g + 1)::text), 'lr_', now()
       FROM generate_series(1, 5000) AS g`,
    );
    await client.query('ANALYZE sources');
    const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE) ${find('a'.repeat(64))}`)).rows
      .map((r) => r['QUERY PLAN'])
      .join('\n');
    expect(plan).not.toMatch(/Seq Scan on sources/);
    expect(plan).toMatch(/Index Scan using \S+ on sources/);
  });
});
