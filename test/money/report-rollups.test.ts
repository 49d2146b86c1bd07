// The lead figures of the report rollups, on real PostgreSQL (docs/decisions/0028-reports.md): the triggers
// on leads and ingest_rejections append them to report_deltas in the transaction of the change, report_fold()
// moves them into report_daily/report_hourly, and a report reads both, so it answers the same before and
// after a fold. Appending takes no lock: transactions writing leads of the same sources in opposite orders
// never wait for each other (the ingest's group commits), where adding to the rollups at once would deadlock.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { ReportKey } from '@leadrouter/core';
import { FOLD_REPORT_DELTAS, reportStatement, runStatement, type ReportTable } from '@leadrouter/db';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let pool: pg.Pool;
const clients: pg.Client[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 6 });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
  await pool?.end();
  await database?.drop();
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  clients.push(client);
  return client;
}

async function source(): Promise<string> {
  const id = randomUUID();
  await pool.query(
    `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at) VALUES ($1, $2, $3, 'lr_test', now())`,
    [id, `source-${id}`, id.replaceAll('-', '').padEnd(64, '0')],
  );
  return id;
}

interface LeadAt {
  sourceId: string;
  at: Date;
  status?: string;
  geo?: string | null;
  channel?: string | null;
}

async function lead(q: pg.ClientBase | pg.Pool, l: LeadAt): Promise<string> {
  const id = randomUUID();
  await q.query(
    `INSERT INTO leads (id, source_id, status, name, phone, geo, sub_source, created_at, updated_at)
     VALUES ($1, $2, $3::"LeadStatus", 'Jane Fixture', '+14155550100', $4, $5, $6, now())`,
    [id, l.sourceId, l.status ?? 'queued', l.geo === undefined ? 'US' : l.geo, l.channel ?? null, l.at],
  );
  return id;
}

const setStatus = (id: string, status: string) =>
  pool.query(`UPDATE leads SET status = $2::"LeadStatus", updated_at = now() WHERE id = $1`, [id, status]);

/** The report's rows of one source, as the API reads them (rollups and deltas), counts as numbers. */
async function report(
  sourceId: string,
  keys: ReportKey[],
  since: string,
  until: string,
  table: ReportTable = 'daily',
): Promise<Record<string, unknown>[]> {
  const rows = await runStatement(pool, reportStatement(table, keys), {
    since: new Date(since),
    until: new Date(until),
    sourceId,
    limit: 1000,
    tz: 'UTC',
  });
  return rows.map((r) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      if (v === null || ['sourceId', 'sourceName', 'partnerId', 'partnerName'].includes(k)) continue;
      out[k] = ['revenue', 'cost', 'margin', 'day', 'geo', 'channel'].includes(k) || v instanceof Date ? v : Number(v);
    }
    return out;
  });
}

const fold = async () => (await runStatement(pool, FOLD_REPORT_DELTAS, { maxRows: 100_000 }))[0]!.folded;

const zero = {
  leads: 0,
  accepted: 0,
  duplicates: 0,
  sold: 0,
  unsold: 0,
  unmatched: 0,
  deadLettered: 0,
  converted: 0,
  returned: 0,
  reversed: 0,
  pings: 0,
  bids: 0,
  wins: 0,
  bidTotal: 0,
  revenue: '0',
  cost: '0',
  margin: '0',
};

describe('lead figures in the report rollups', () => {
  test('leads count at their arrival, in their outcome of now; a report is the same before and after a fold', async () => {
    const s = await source();
    const day1 = '2026-03-01T';
    const a = await lead(pool, { sourceId: s, at: new Date(`${day1}10:15:00Z`), geo: 'US', channel: 'fb' });
    const b = await lead(pool, { sourceId: s, at: new Date(`${day1}10:45:00Z`), geo: 'US', channel: 'fb' });
    const c = await lead(pool, { sourceId: s, at: new Date(`${day1}23:59:59.999Z`), geo: 'CA', channel: null });
    const d = await lead(pool, { sourceId: s, at: new Date('2026-03-02T00:00:00Z'), geo: null, channel: 'fb' });
    // a: routed and sold, then converted and returned (still one sold lead: the partners' rows count those).
    for (const status of ['routing', 'delivered', 'converted', 'returned']) await setStatus(a, status);
    // b: dead-lettered, retried by an operator, sold: counted once, as sold.
    for (const status of ['routing', 'dead_lettered', 'routing', 'delivered']) await setStatus(b, status);
    await setStatus(c, 'unsold');
    await setStatus(d, 'unmatched');
    // An update that changes no outcome adds nothing.
    await pool.query(`UPDATE leads SET routing = '{}' WHERE id = ANY($1)`, [[a, b, c, d]]);

    const byGeoChannel = [
      { ...zero, geo: '', channel: 'fb', leads: 1, accepted: 1, unmatched: 1 },
      { ...zero, geo: 'CA', channel: '', leads: 1, accepted: 1, unsold: 1 },
      { ...zero, geo: 'US', channel: 'fb', leads: 2, accepted: 2, sold: 2 },
    ];
    const before = await report(s, ['day', 'geo'], '2026-03-01', '2026-03-03');
    expect(await report(s, ['day', 'channel'], '2026-03-01', '2026-03-03')).toHaveLength(3);
    const hourly = await report(s, ['hour'], '2026-03-01T10:00:00Z', '2026-03-02T01:00:00Z', 'hourly');
    expect(hourly.map((r) => [(r.hour as Date).toISOString(), r.leads, r.sold, r.unsold, r.unmatched])).toEqual([
      ['2026-03-01T10:00:00.000Z', 2, 2, 0, 0],
      ['2026-03-01T23:00:00.000Z', 1, 0, 1, 0],
      ['2026-03-02T00:00:00.000Z', 1, 0, 0, 1],
    ]);
    const deltaRows = (await pool.query(`SELECT count(*)::int AS n FROM report_deltas WHERE source_id = $1`, [s]))
      .rows[0].n;
    expect(deltaRows).toBeGreaterThan(3);

    // A fold elsewhere in the database (another test file's sources) is fine: folded is at least ours.
    expect(await fold()).toBeGreaterThanOrEqual(deltaRows);
    expect((await pool.query(`SELECT count(*)::int AS n FROM report_deltas WHERE source_id = $1`, [s])).rows[0].n).toBe(
      0,
    );
    const after = await report(s, ['geo', 'channel'], '2026-03-01', '2026-03-03');
    expect(after).toEqual(byGeoChannel.map((r) => ({ ...r, revenue: '0.0000', cost: '0.0000', margin: '0.0000' })));
    expect(await report(s, ['day', 'geo'], '2026-03-01', '2026-03-03')).toEqual(
      before.map((r) => ({ ...r, revenue: '0.0000', cost: '0.0000', margin: '0.0000' })),
    );
    // Days outside the range are not in it; a whole day's range takes its last millisecond.
    expect(await report(s, ['day'], '2026-03-01', '2026-03-02')).toEqual([
      {
        ...zero,
        day: '2026-03-01',
        leads: 3,
        accepted: 3,
        sold: 2,
        unsold: 1,
        revenue: '0.0000',
        cost: '0.0000',
        margin: '0.0000',
      },
    ]);
  });

  test('days are UTC days whatever the session’s time zone', async () => {
    const s = await source();
    await lead(pool, { sourceId: s, at: new Date('2026-03-10T23:30:00Z'), status: 'unsold' });
    await lead(pool, { sourceId: s, at: new Date('2026-03-11T00:30:00Z'), status: 'unsold' });
    await fold();
    const tokyo = new pg.Pool({ connectionString: database.url, max: 1, options: '-c TimeZone=Asia/Tokyo' });
    try {
      const rows = await runStatement(tokyo, reportStatement('daily', ['day']), {
        since: new Date('2026-03-11T00:00:00Z'),
        until: new Date('2026-03-12T00:00:00Z'),
        sourceId: s,
        limit: 1000,
        tz: 'UTC',
      });
      expect(rows.map((r) => [r.day, r.leads, r.unsold])).toEqual([['2026-03-11', '1', '1']]);
    } finally {
      await tokyo.end();
    }
  });

  test('a change after the fold moves the lead between outcomes of the folded rows', async () => {
    const s = await source();
    const a = await lead(pool, { sourceId: s, at: new Date('2026-04-01T08:00:00Z'), status: 'dead_lettered' });
    await fold();
    expect(await report(s, [], '2026-04-01', '2026-04-02')).toEqual([
      { ...zero, leads: 1, accepted: 1, deadLettered: 1, revenue: '0.0000', cost: '0.0000', margin: '0.0000' },
    ]);
    await setStatus(a, 'routing');
    await setStatus(a, 'delivered');
    const expected = { ...zero, leads: 1, accepted: 1, sold: 1 };
    expect(await report(s, [], '2026-04-01', '2026-04-02')).toEqual([
      { ...expected, revenue: '0.0000', cost: '0.0000', margin: '0.0000' },
    ]);
    await fold();
    expect(await report(s, [], '2026-04-01', '2026-04-02')).toEqual([
      { ...expected, revenue: '0.0000', cost: '0.0000', margin: '0.0000' },
    ]);
  });

  test('a source’s duplicates and invalid leads count as leads; other rejections do not', async () => {
    const s = await source();
    const at = new Date('2026-05-01T12:30:00Z');
    const reject = (reason: string, httpStatus: number, geo: string | null, channel: string | null, src = s) =>
      pool.query(
        `INSERT INTO ingest_rejections (source_id, http_status, reason, geo, channel, at) VALUES ($1, $2, $3, $4, $5, $6)`,
        [src, httpStatus, reason, geo, channel, at],
      );
    await reject('duplicate', 409, 'US', 'fb');
    await reject('duplicate', 409, 'US', 'fb');
    await reject('invalid', 422, null, null);
    await reject('rate_limited', 429, null, null);
    await reject('malformed', 400, null, null);
    await pool.query(
      `INSERT INTO ingest_rejections (source_id, http_status, reason, count, at) VALUES (NULL, 401, 'unauthorized', 50, $1)`,
      [at],
    );
    expect(await report(s, ['geo', 'channel'], '2026-05-01', '2026-05-02')).toEqual([
      // Unfolded deltas: their money columns are numeric(18, 4), as the rollups' are.
      { ...zero, geo: '', channel: '', leads: 1, revenue: '0.0000', cost: '0.0000', margin: '0.0000' },
      {
        ...zero,
        geo: 'US',
        channel: 'fb',
        leads: 2,
        duplicates: 2,
        revenue: '0.0000',
        cost: '0.0000',
        margin: '0.0000',
      },
    ]);
  });

  test('transactions adding leads of the same sources in opposite orders never wait for each other', async () => {
    const [s1, s2] = [await source(), await source()];
    const at = new Date();
    const [t1, t2] = [await connect(), await connect()];
    for (const t of [t1, t2]) {
      await t.query('BEGIN');
      // A wait on a lock would fail the statement, not hang: the rollup rows of one hour are what a direct
      // addition would lock, in the order the leads come.
      await t.query(`SET LOCAL lock_timeout = '1s'`);
    }
    await lead(t1, { sourceId: s1, at });
    await lead(t2, { sourceId: s2, at });
    await lead(t1, { sourceId: s2, at });
    await lead(t2, { sourceId: s1, at });
    await Promise.all([t1.query('COMMIT'), t2.query('COMMIT')]);
    const since = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
    const until = new Date(since.getTime() + 86_400_000);
    for (const s of [s1, s2]) {
      const [r] = await report(s, [], since.toISOString(), until.toISOString());
      expect(r).toMatchObject({ leads: 2, accepted: 2 });
    }
  });

  test('folds running at once move each delta once', async () => {
    const s = await source();
    const at = new Date('2026-06-01T00:00:00Z');
    await pool.query(
      `INSERT INTO report_deltas (at, source_id, geo, channel, leads, accepted)
       SELECT $2::timestamptz + (i % 48) * interval '1 hour', $1, '', '', 1, 1 FROM generate_series(0, 2879) AS i`,
      [s, at],
    );
    const folds = await Promise.all(
      Array.from({ length: 4 }, async () => {
        let n = 0;
        for (;;) {
          const [{ folded }] = (await runStatement(pool, FOLD_REPORT_DELTAS, { maxRows: 250 })) as [{ folded: number }];
          if (folded === 0) return n;
          n += folded;
        }
      }),
    );
    expect(folds.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2880);
    expect(await report(s, ['day'], '2026-06-01', '2026-06-03')).toEqual([
      { ...zero, day: '2026-06-01', leads: 1440, accepted: 1440, revenue: '0.0000', cost: '0.0000', margin: '0.0000' },
      { ...zero, day: '2026-06-02', leads: 1440, accepted: 1440, revenue: '0.0000', cost: '0.0000', margin: '0.0000' },
    ]);
  });
});
