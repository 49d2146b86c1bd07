// The money tables' guarantees, on real PostgreSQL (docs/decisions/0023-money-model.md):
// the ledger is append-only; each line is written once, whatever repeats,
// also from two connections at once; the report rollups follow exactly the
// lines written. The lines come from @leadrouter/money, as the use cases will
// write them: INSERT ... ON CONFLICT (kind, event_id, party) DO NOTHING.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import pg from 'pg';
import {
  amount,
  formatAmount,
  ledgerLines,
  sumAmounts,
  ZERO,
  type Amount,
  type LeadMoney,
  type LedgerLine,
  type MoneyEvent,
  type Payout,
} from '@leadrouter/money';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';

const NIL = '00000000-0000-0000-0000-000000000000';

let database: TestDatabase;
const clients: pg.Client[] = [];

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  clients.push(client);
  return client;
}

let db: pg.Client;
/** Adds the deltas the triggers appended to the rollups, as the worker's fold does every few seconds. */
const fold = () => db.query('SELECT report_fold(1000000)');

beforeAll(async () => {
  database = await createTestDatabase();
  db = await connect();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end()));
  await database?.drop();
});

/** The lead's ledger lines, written as a use case writes them; how many rows were inserted. */
async function writeLines(client: pg.ClientBase, leadId: string, lines: LedgerLine[], at: Date): Promise<number> {
  const rows = lines.map((l) => ({
    kind: l.kind,
    event_id: l.eventId,
    party: l.party,
    party_id: l.partyId,
    delivery_id: l.deliveryId,
    amount: formatAmount(l.amount),
    note: l.note ?? null,
  }));
  const result = await client.query(
    `INSERT INTO ledger_entries (lead_id, kind, event_id, party, party_id, delivery_id, amount, note, at)
     SELECT $1, l.kind::"LedgerKind", l.event_id, l.party::"LedgerParty", l.party_id, l.delivery_id, l.amount, l.note, $3
     FROM jsonb_to_recordset($2::jsonb)
       AS l (kind text, event_id uuid, party text, party_id uuid, delivery_id uuid, amount numeric, note text)
     ON CONFLICT (kind, event_id, party) DO NOTHING`,
    [leadId, JSON.stringify(rows), at],
  );
  return result.rowCount ?? 0;
}

async function entriesOf(client: pg.ClientBase, leadId: string): Promise<LedgerLine[]> {
  const { rows } = await client.query<{
    kind: LedgerLine['kind'];
    event_id: string;
    party: LedgerLine['party'];
    party_id: string;
    delivery_id: string | null;
    amount: string;
  }>(
    `SELECT kind, event_id, party, party_id, delivery_id, amount::text
     FROM ledger_entries WHERE lead_id = $1 ORDER BY recorded_at, kind, party`,
    [leadId],
  );
  return rows.map((r) => ({
    kind: r.kind,
    eventId: r.event_id,
    party: r.party,
    partyId: r.party_id,
    deliveryId: r.delivery_id,
    amount: amount(r.amount),
  }));
}

/** A source with a payout, `partners` partners, and a lead sold... to none yet: a delivery per partner. */
async function world(opts: {
  payout?: Payout | null;
  partners?: number;
  geo?: string | null;
  channel?: string | null;
}) {
  const sourceId = randomUUID();
  await db.query(
    `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, updated_at) VALUES ($1, $2, $3, 'lr_test', now())`,
    [sourceId, `source-${sourceId}`, sourceId.replaceAll('-', '').padEnd(64, '0')],
  );
  const leadId = randomUUID();
  await db.query(
    `INSERT INTO leads (id, source_id, status, name, phone, geo, sub_source, updated_at)
     VALUES ($1, $2, 'delivered', 'Jane Fixture', '+14155550100', $3, $4, now())`,
    [leadId, sourceId, opts.geo === undefined ? 'US' : opts.geo, opts.channel ?? null],
  );
  const sales: { deliveryId: string; partnerId: string }[] = [];
  for (let i = 0; i < (opts.partners ?? 1); i++) {
    const partnerId = randomUUID();
    await db.query(`INSERT INTO partners (id, name, url, updated_at) VALUES ($1, $2, 'http://127.0.0.1:9/', now())`, [
      partnerId,
      `partner-${partnerId}`,
    ]);
    const deliveryId = randomUUID();
    await db.query(
      `INSERT INTO deliveries (id, lead_id, partner_id, status, updated_at) VALUES ($1, $2, $3, 'accepted', now())`,
      [deliveryId, leadId, partnerId],
    );
    sales.push({ deliveryId, partnerId });
  }
  const lead: Omit<LeadMoney, 'entries'> = {
    leadId,
    sourceId,
    geo: opts.geo === undefined ? 'US' : opts.geo,
    payout: opts.payout ?? null,
    clawback: true,
  };
  // The lead's own figures (its arrival, its outcome: the leads' triggers, test/money/report-rollups.test.ts) are
  // left out: these tests hold the rollups to the ledger's figures alone.
  await db.query(`DELETE FROM report_deltas WHERE source_id = $1`, [sourceId]);
  return { sourceId, leadId, sales, lead };
}

/** What a use case does for one event: read the lead's ledger, decide, write — in one transaction. */
async function record(
  client: pg.ClientBase,
  lead: Omit<LeadMoney, 'entries'>,
  event: MoneyEvent,
  at = new Date(),
): Promise<{ outcome: string; written: number }> {
  const decision = ledgerLines(event, { ...lead, entries: await entriesOf(client, lead.leadId) });
  if (decision.outcome !== 'record') return { outcome: decision.outcome, written: 0 };
  return { outcome: 'record', written: await writeLines(client, lead.leadId, decision.lines, at) };
}

const cpl: Payout = { model: 'cpl', amount: amount('10'), geo: new Map() };
const revshare: Payout = { model: 'revshare', percent: amount('70') };

async function expectRefused(sql: string, values: unknown[] = []) {
  await expect(db.query(sql, values)).rejects.toMatchObject({
    code: '23001',
    message: expect.stringContaining('ledger entries are immutable'),
  });
}

describe('the ledger', () => {
  test('refuses UPDATE, DELETE and TRUNCATE: a correction is a new entry', async () => {
    const w = await world({ payout: cpl });
    const sale = { kind: 'sale' as const, ...w.sales[0]!, price: amount('25') };
    await record(db, w.lead, sale);
    const before = await entriesOf(db, w.leadId);
    expect(before).toHaveLength(2);

    await expectRefused(`UPDATE ledger_entries SET amount = 0 WHERE lead_id = $1`, [w.leadId]);
    await expectRefused(`UPDATE ledger_entries SET note = 'x' WHERE false`);
    await expectRefused(`DELETE FROM ledger_entries WHERE lead_id = $1`, [w.leadId]);
    await expectRefused(`TRUNCATE ledger_entries`);
    // Nor through the lead: its money outlives it.
    await expect(db.query(`DELETE FROM leads WHERE id = $1`, [w.leadId])).rejects.toMatchObject({ code: '23503' });

    expect(await entriesOf(db, w.leadId)).toEqual(before);
  });

  test("writes an event's entries once, however often it is recorded", async () => {
    const w = await world({ payout: revshare });
    const sale: MoneyEvent = { kind: 'sale', ...w.sales[0]!, price: amount('12.3457') };
    expect(await record(db, w.lead, sale)).toEqual({ outcome: 'record', written: 2 });
    // A retried job reads the ledger and finds its lines.
    expect(await record(db, w.lead, sale)).toEqual({ outcome: 'duplicate', written: 0 });
    // A worker that computed its lines before the first one committed writes nothing either.
    const stale = ledgerLines(sale, { ...w.lead, entries: [] });
    if (stale.outcome !== 'record') throw new Error('expected lines');
    expect(await writeLines(db, w.leadId, stale.lines, new Date())).toBe(0);
    // A plain INSERT of a repeat is refused by the once-key.
    await expect(
      db.query(
        `INSERT INTO ledger_entries (lead_id, kind, event_id, party, party_id, delivery_id, amount)
         VALUES ($1, 'sale', $2, 'partner', $3, $2, 1)`,
        [w.leadId, w.sales[0]!.deliveryId, w.sales[0]!.partnerId],
      ),
    ).rejects.toMatchObject({ code: '23505', constraint: 'ledger_entries_kind_event_id_party_key' });

    const entries = await entriesOf(db, w.leadId);
    expect(entries.map((e) => `${e.kind} ${e.party} ${formatAmount(e.amount)}`)).toEqual([
      'sale partner 12.3457',
      'sale source 8.6420',
    ]);
  });

  test('two connections writing the same lines at once leave one set; a rolled-back writer leaves it to the other', async () => {
    const [a, b] = [await connect(), await connect()];
    const bPid = (await b.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const blockedOnA = () =>
      waitFor(
        async () =>
          (await db.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [bPid]))
            .rowCount,
        { what: 'the second writer to wait for the first' },
      );

    for (const end of ['COMMIT', 'ROLLBACK'] as const) {
      const w = await world({ payout: revshare });
      const sale: MoneyEvent = { kind: 'sale', ...w.sales[0]!, price: amount('40') };
      // Both read an empty ledger and decide the same lines (feedback repeated, a job retried while the first runs).
      const decision = ledgerLines(sale, { ...w.lead, entries: [] });
      if (decision.outcome !== 'record') throw new Error('expected lines');

      await a.query('BEGIN');
      await b.query('BEGIN');
      expect(await writeLines(a, w.leadId, decision.lines, new Date())).toBe(2);
      const second = writeLines(b, w.leadId, decision.lines, new Date());
      await blockedOnA();
      await a.query(end); // COMMIT; or a worker dying mid-transaction
      expect(await second).toBe(end === 'COMMIT' ? 0 : 2);
      await b.query('COMMIT');

      expect((await entriesOf(db, w.leadId)).map((e) => formatAmount(e.amount))).toEqual(['40.0000', '28.0000']);
      await fold();
      const [daily] = (
        await db.query<{ sold: number; revenue: string; cost: string }>(
          // The partner's row: the lead's own figures are on the nil partner's.
          `SELECT sold, revenue::text, cost::text FROM report_daily WHERE source_id = $1 AND partner_id <> $2`,
          [w.sourceId, NIL],
        )
      ).rows;
      expect(daily).toEqual({ sold: 1, revenue: '40.0000', cost: '28.0000' });
    }
  });

  test('concurrent feedback for one lead: one conversion; concurrent shared sales: one cpl', async () => {
    const w = await world({ payout: cpl, partners: 2 });
    const [s1, s2] = w.sales as [(typeof w.sales)[0], (typeof w.sales)[0]];
    const [a, b] = [await connect(), await connect()];
    // Two partners' sales written at once: the cpl is the lead's, paid once.
    await Promise.all([
      record(a, w.lead, { kind: 'sale', ...s1, price: amount('25') }),
      record(b, w.lead, { kind: 'sale', ...s2, price: amount('20') }),
    ]);
    // The same conversion pushed twice at once, with different amounts: one is kept.
    const results = await Promise.all(
      [a, b].map(async (client, i) => {
        await client.query('BEGIN');
        const r = await record(client, w.lead, { kind: 'conversion', ...s1, amount: amount(i === 0 ? '40' : '45') });
        await client.query('COMMIT');
        return r.written;
      }),
    );
    expect(results.sort()).toEqual([0, 1]);

    const entries = await entriesOf(db, w.leadId);
    expect(entries.filter((e) => e.party === 'source').map((e) => `${e.kind} ${formatAmount(e.amount)}`)).toEqual([
      'sale 10.0000',
    ]);
    expect(entries.filter((e) => e.kind === 'conversion')).toHaveLength(1);
  });
});

describe('the report rollups', () => {
  type Row = Record<string, string | number>;
  const FIGURES = `sold, converted, returned, reversed, revenue::text, cost::text`;

  test('follow the ledger by day, hour, partner, geo and channel', async () => {
    const w = await world({ payout: revshare, partners: 2, geo: 'CA', channel: 'Facebook' });
    const [s1, s2] = w.sales as [(typeof w.sales)[0], (typeof w.sales)[0]];
    const day1 = new Date('2026-11-30T23:59:59.999Z');
    const day2 = new Date('2026-12-01T00:00:00Z');
    await record(db, w.lead, { kind: 'sale', ...s1, price: amount('10.0001') }, day1);
    await record(db, w.lead, { kind: 'sale', ...s2, price: amount('20') }, day1);
    await record(db, w.lead, { kind: 'sale', ...s2, price: amount('20') }, day1); // a repeat: nothing
    await record(db, w.lead, { kind: 'conversion', ...s1, amount: amount('100') }, day2);
    await record(db, w.lead, { kind: 'reversal', ...s1 }, day2);
    await record(db, w.lead, { kind: 'return', ...s2 }, day2);
    const adjustment: MoneyEvent = {
      kind: 'adjustment',
      adjustmentId: randomUUID(),
      party: 'source',
      partyId: w.sourceId,
      amount: amount('-1.5'),
      note: 'fee',
    };
    await record(db, w.lead, adjustment, day2);

    await fold();
    const daily = await db.query<Row>(
      `SELECT day::text, partner_id, geo, channel, ${FIGURES} FROM report_daily WHERE source_id = $1
       ORDER BY day, partner_id = $2 DESC, partner_id = $3 DESC`,
      [w.sourceId, s1.partnerId, s2.partnerId],
    );
    const at = { geo: 'CA', channel: 'Facebook' };
    expect(daily.rows).toEqual([
      // 70% of 10.0001 = 7.00007, rounded half to even.
      row('2026-11-30', s1.partnerId, at, { sold: 1, revenue: '10.0001', cost: '7.0001' }),
      row('2026-11-30', s2.partnerId, at, { sold: 1, revenue: '20.0000', cost: '14.0000' }),
      row('2026-12-01', s1.partnerId, at, { converted: 1, reversed: 1, revenue: '0.0000', cost: '0.0000' }),
      row('2026-12-01', s2.partnerId, at, { returned: 1, revenue: '-20.0000', cost: '-14.0000' }),
      row('2026-12-01', NIL, at, { revenue: '0.0000', cost: '-1.5000' }),
    ]);

    const hourly = await db.query<Row>(
      `SELECT hour, partner_id, ${FIGURES} FROM report_hourly WHERE source_id = $1 AND partner_id = $2 ORDER BY hour`,
      [w.sourceId, s1.partnerId],
    );
    expect(hourly.rows).toEqual([
      {
        hour: new Date('2026-11-30T23:00:00Z'),
        partner_id: s1.partnerId,
        ...figures({ sold: 1, revenue: '10.0001', cost: '7.0001' }),
      },
      { hour: new Date('2026-12-01T00:00:00Z'), partner_id: s1.partnerId, ...figures({ converted: 1, reversed: 1 }) },
    ]);

    // Every figure of both rollups is the ledger's, summed.
    const entries = await entriesOf(db, w.leadId);
    const totals = await db.query<Row>(
      `SELECT (SELECT sum(revenue)::text FROM report_daily WHERE source_id = $1) AS daily_revenue,
              (SELECT sum(cost)::text FROM report_daily WHERE source_id = $1) AS daily_cost,
              (SELECT sum(revenue)::text FROM report_hourly WHERE source_id = $1) AS hourly_revenue,
              (SELECT sum(cost)::text FROM report_hourly WHERE source_id = $1) AS hourly_cost`,
      [w.sourceId],
    );
    const revenue = formatAmount(sumAmounts(entries.filter((e) => e.party === 'partner').map((e) => e.amount)));
    const cost = formatAmount(sumAmounts(entries.filter((e) => e.party === 'source').map((e) => e.amount)));
    expect(totals.rows[0]).toEqual({
      daily_revenue: revenue,
      daily_cost: cost,
      hourly_revenue: revenue,
      hourly_cost: cost,
    });
  });

  function figures(
    f: Partial<Record<'sold' | 'converted' | 'returned' | 'reversed' | 'revenue' | 'cost', number | string>>,
  ) {
    return { sold: 0, converted: 0, returned: 0, reversed: 0, revenue: '0.0000', cost: '0.0000', ...f };
  }
  function row(day: string, partnerId: string, at: { geo: string; channel: string }, f: Parameters<typeof figures>[0]) {
    return { day, partner_id: partnerId, ...at, ...figures(f) };
  }

  test('report_rollup_add adds lead-level deltas exactly, also from many transactions at once', async () => {
    const w = await world({ geo: null });
    const at = '2026-12-01T10:15:00Z';
    const add = (client: pg.ClientBase, deltas: object[]) =>
      client.query('SELECT report_rollup_add($1::jsonb)', [JSON.stringify(deltas)]);

    await add(db, [
      { at, source_id: w.sourceId, leads: 1, accepted: 1 },
      { at, source_id: w.sourceId, leads: 1, duplicates: 1 },
      { at: '2026-12-01T11:00:00Z', source_id: w.sourceId, leads: 1, accepted: 1, cost: '0.0001' },
    ]);
    // 2 connections x 50 transactions, each adding 0.0001 to the same rows.
    const [a, b] = [await connect(), await connect()];
    await Promise.all(
      [a, b].map(async (client) => {
        for (let i = 0; i < 50; i++) await add(client, [{ at, source_id: w.sourceId, sold: 1, cost: '0.0001' }]);
      }),
    );

    const daily = await db.query<Row>(
      `SELECT partner_id, geo, channel, leads, accepted, duplicates, sold, cost::text FROM report_daily WHERE source_id = $1`,
      [w.sourceId],
    );
    expect(daily.rows).toEqual([
      { partner_id: NIL, geo: '', channel: '', leads: 3, accepted: 2, duplicates: 1, sold: 100, cost: '0.0101' },
    ]);
    const hourly = await db.query<Row>(
      `SELECT extract(hour FROM hour AT TIME ZONE 'UTC')::int AS h, leads, sold, cost::text
       FROM report_hourly WHERE source_id = $1 ORDER BY hour`,
      [w.sourceId],
    );
    expect(hourly.rows).toEqual([
      { h: 10, leads: 2, sold: 100, cost: '0.0100' },
      { h: 11, leads: 1, sold: 0, cost: '0.0001' },
    ]);
  });

  test('for any event sequence, rows per partner hold what the ledger says they do (property)', async () => {
    const price = fc
      .bigInt({ min: 0n, max: 99_999_999n })
      .map((u) => amount(`${u / 10_000n}.${String(u % 10_000n).padStart(4, '0')}`));
    const payout = fc.constantFrom<Payout | null>(null, cpl, revshare, {
      model: 'cpa',
      amount: amount('40'),
      geo: new Map(),
    });
    const step = fc.record({
      kind: fc.constantFrom('sale', 'conversion', 'return', 'reversal'),
      sale: fc.nat({ max: 1 }),
      value: price,
      repeat: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(payout, fc.array(step, { maxLength: 12 }), async (p, steps) => {
        const w = await world({ payout: p, partners: 2 });
        for (const s of steps) {
          const d = w.sales[s.sale]!;
          const event: MoneyEvent =
            s.kind === 'sale'
              ? { kind: 'sale', ...d, price: s.value }
              : s.kind === 'conversion'
                ? { kind: 'conversion', ...d, amount: s.value }
                : { kind: s.kind, ...d };
          await record(db, w.lead, event);
          if (s.repeat) expect((await record(db, w.lead, event)).written).toBe(0);
        }
        const entries = await entriesOf(db, w.leadId);
        const partnerOf = new Map(w.sales.map((s) => [s.deliveryId, s.partnerId]));
        const want = new Map<string, { revenue: Amount; cost: Amount }>();
        for (const e of entries) {
          const partner = e.party === 'partner' ? e.partyId : ((e.deliveryId && partnerOf.get(e.deliveryId)) ?? NIL);
          const t = want.get(partner) ?? { revenue: ZERO, cost: ZERO };
          if (e.party === 'partner') t.revenue = t.revenue.plus(e.amount);
          else t.cost = t.cost.plus(e.amount);
          want.set(partner, t);
        }
        await fold();
        const got = await db.query<{ partner_id: string; revenue: string; cost: string }>(
          `SELECT partner_id, sum(revenue)::text AS revenue, sum(cost)::text AS cost
           FROM report_daily WHERE source_id = $1 GROUP BY partner_id`,
          [w.sourceId],
        );
        expect(Object.fromEntries(got.rows.map((r) => [r.partner_id, { revenue: r.revenue, cost: r.cost }]))).toEqual(
          Object.fromEntries(
            [...want].map(([k, v]) => [k, { revenue: formatAmount(v.revenue), cost: formatAmount(v.cost) }]),
          ),
        );
      }),
      { numRuns: 25 },
    );
  });
});
