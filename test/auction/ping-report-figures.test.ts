// The ping figures of the reports (ADR 0028, 0032), on real PostgreSQL: the worker's PingLog records pings and its
// buyers' answers in bulk, and each statement appends the report figures of the rows it inserted — so a write
// retried after a failure (the rows kept for the next one) counts each ping and each answer exactly once.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { closeDb, createDb, FOLD_REPORT_DELTAS, runStatement, sqlPool, type Db } from '@leadrouter/db';
import { adminReport, parseReport, PingLog, sourceReport, type LoggedAuction } from '@leadrouter/lifecycle';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let db: Db;
let pool: pg.Pool;
const warnings: string[] = [];
const log = {
  info: () => undefined,
  warn: (_: unknown, msg: string) => void warnings.push(msg),
  error: (_: unknown, msg: string) => void warnings.push(msg),
};

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb({ databaseUrl: database.url, poolMax: 2 });
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
});
afterAll(async () => {
  await pool?.end();
  if (db) await closeDb(db);
  await database?.drop();
});

const sourceId = randomUUID();
const [p1, p2, p3] = [randomUUID(), randomUUID(), randomUUID()];
const at = new Date('2026-11-10T14:20:00.000Z');
const ping = (partnerId: string, outcome: 'bid' | 'no_bid' | 'timeout', bid?: string) => ({
  partnerId,
  outcome,
  ...(bid ? { bid } : {}),
  pinged: true,
  durationMs: 40,
});

/** A source's ping to three buyers (two bids, one timeout), answered with its payout on the best bid. */
const sourcePing: LoggedAuction = {
  pingId: randomUUID(),
  sourceId,
  routeId: randomUUID(),
  values: { geo: 'US', source: 'facebook' },
  pings: [ping(p1, 'bid', '12.5000'), ping(p2, 'bid', '10.0000'), ping(p3, 'timeout')],
  ranked: [
    { partnerId: p1, bid: '12.5000' },
    { partnerId: p2, bid: '10.0000' },
  ],
  sourceBid: '6.2500',
};
/** A lead's own auction (posted without a ping to an auction route): its buyers' answers only. */
const leadAuction: LoggedAuction = {
  pingId: randomUUID(),
  sourceId,
  routeId: randomUUID(),
  values: { geo: 'CA', source: null },
  pings: [ping(p1, 'bid', '9.0000'), ping(p2, 'no_bid')],
  ranked: [{ partnerId: p1, bid: '9.0000' }],
};

const query = (groupBy: string) =>
  parseReport({ groupBy, since: '2026-11-10', until: '2026-11-11' }, 'admin', new Date('2026-11-12T00:00:00Z'));
const figures = (i: {
  pings: number;
  bids: number;
  wins: number;
  winRate: number | null;
  averageBid: string | null;
}) => ({
  pings: i.pings,
  bids: i.bids,
  wins: i.wins,
  winRate: i.winRate,
  averageBid: i.averageBid,
});

describe('PingLog: the report figures of pings and bids', () => {
  it('counts each ping and each answer once, though the write failed halfway and was retried', async () => {
    // The buyers' answers cannot be written once: the pings are, the answers are kept for the next write.
    await pool.query(`CREATE FUNCTION fail_ping_bids() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'ping_bids unavailable'; END $$`);
    await pool.query(`CREATE TRIGGER fail_ping_bids BEFORE INSERT ON ping_bids
      FOR EACH ROW EXECUTE FUNCTION fail_ping_bids()`);
    const pingLog = new PingLog(db, log, 3_600_000);
    pingLog.add(sourcePing, at, true);
    pingLog.add(leadAuction, at, false);
    await pingLog.flush();
    expect(warnings).toEqual(['could not record pings; kept']);
    const { rows: recorded } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM pings`);
    expect(Number(recorded[0]!.n)).toBe(1);

    await pool.query(`DROP TRIGGER fail_ping_bids ON ping_bids`);
    await pingLog.flush();
    // Written again as a whole (the ping is a repeat now): nothing more is counted.
    pingLog.add(sourcePing, at, true);
    pingLog.add(leadAuction, at, false);
    await pingLog.close();
    expect(warnings).toHaveLength(1);

    // The lead's own auction is no source's ping; the source's ping carries its geo and channel.
    const { rows: pings } = await pool.query(
      `SELECT id::text, geo, channel, status, best_bid::text, source_bid::text FROM pings`,
    );
    expect(pings).toEqual([
      {
        id: sourcePing.pingId,
        geo: 'US',
        channel: 'facebook',
        status: 'bid',
        best_bid: '12.5000',
        source_bid: '6.2500',
      },
    ]);
    const { rows: bids } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ping_bids`);
    expect(Number(bids[0]!.n)).toBe(5);

    const expected = async () => {
      const byPartner = await adminReport(db, query('partner'));
      expect(byPartner.map((i) => [i.partner?.id ?? null, figures(i)])).toEqual(
        expect.arrayContaining([
          // The source's ping: one ping, answered with a bid of 6.25 (its payout); no lead posted against it.
          [null, { pings: 1, bids: 1, wins: 0, winRate: 0, averageBid: '6.2500' }],
          // Buyer 1: asked twice, bid twice (12.50, 9), the best both times.
          [p1, { pings: 2, bids: 2, wins: 2, winRate: 1, averageBid: '10.7500' }],
          [p2, { pings: 2, bids: 1, wins: 0, winRate: 0, averageBid: '10.0000' }],
          [p3, { pings: 1, bids: 0, wins: 0, winRate: null, averageBid: null }],
        ]),
      );
      expect(byPartner).toHaveLength(4);
      // Not grouped by partner: the sources' pings, by the ping's geo and channel.
      const byGeo = await adminReport(db, query('geo,channel'));
      expect(byGeo.map((i) => [i.geo, i.channel, figures(i)])).toEqual([
        ['CA', null, { pings: 0, bids: 0, wins: 0, winRate: null, averageBid: null }],
        ['US', 'facebook', { pings: 1, bids: 1, wins: 0, winRate: 0, averageBid: '6.2500' }],
      ]);
      const byHour = await adminReport(db, query('hour,partner'));
      expect(byHour.find((i) => i.partner?.id === p1)).toMatchObject({ hour: '2026-11-10T14:00:00.000Z', pings: 2 });
      const own = await sourceReport(
        db,
        parseReport({ since: '2026-11-10', until: '2026-11-11' }, 'source', at),
        sourceId,
      );
      expect(
        own.map(({ pings, bids, posted, winRate, averageBid }) => ({ pings, bids, posted, winRate, averageBid })),
      ).toEqual([{ pings: 1, bids: 1, posted: 0, winRate: 0, averageBid: '6.2500' }]);
    };
    await expected();
    // Folded into the rollups, the same figures.
    const [{ folded } = { folded: 0 }] = await runStatement(sqlPool(db), FOLD_REPORT_DELTAS, { maxRows: 1000 });
    expect(folded).toBeGreaterThan(0);
    const { rows: left } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM report_deltas`);
    expect(Number(left[0]!.n)).toBe(0);
    await expected();
  });
});
