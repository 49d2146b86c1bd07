// LEAD_RETENTION_MONTHS (ADR 0035, Decision 5): the worker's housekeeping drops a month of the leads' tables once the
// whole month is that many months past the current one's start — their history first (events, attempts, postbacks,
// feedback, returns), then their deliveries and leads, which stay while the ledger holds money of their month or of
// one before (its foreign keys reference them). The ledger's months are never dropped. Times are set in 2030–2031,
// where nothing else of the test database is.
import { randomUUID } from 'node:crypto';
import { createWorkerMetrics } from '@leadrouter/metrics';
import { LEAD_PARTITIONED, maintainLeadPartitions } from '../../services/worker/src/housekeeping';
import { TestStack } from '../support/stack';

describe('LEAD_RETENTION_MONTHS', () => {
  const stack = new TestStack({ worker: false });
  beforeAll(() => stack.start(), 60_000);
  afterAll(() => stack.stop());

  /** A lead of `createdAt` with its whole history; sold (two ledger lines) when `sold`. */
  async function lead(createdAt: Date, sourceId: string, partnerId: string, sold: boolean) {
    const [id, delivery] = [randomUUID(), randomUUID()];
    await stack.db.$transaction([
      stack.db.$executeRaw`INSERT INTO leads (id, source_id, status, name, phone, created_at, updated_at)
        VALUES (${id}::uuid, ${sourceId}::uuid, 'delivered', 'n', '+14155550100', ${createdAt}, now())`,
      stack.db.$executeRaw`INSERT INTO lead_events (lead_id, lead_created_at, status)
        VALUES (${id}::uuid, ${createdAt}, 'queued'), (${id}::uuid, ${createdAt}, 'delivered')`,
      stack.db.$executeRaw`INSERT INTO deliveries (id, lead_id, lead_created_at, partner_id, status, updated_at)
        VALUES (${delivery}::uuid, ${id}::uuid, ${createdAt}, ${partnerId}::uuid, 'accepted', now())`,
      stack.db.$executeRaw`INSERT INTO delivery_attempts (delivery_id, lead_created_at, attempt, outcome, duration_ms)
        VALUES (${delivery}::uuid, ${createdAt}, 1, 'accepted', 9)`,
      stack.db.$executeRaw`INSERT INTO postbacks (id, lead_id, lead_created_at, source_id, lead_status, updated_at)
        VALUES (gen_random_uuid(), ${id}::uuid, ${createdAt}, ${sourceId}::uuid, 'delivered', now())`,
      stack.db
        .$executeRaw`INSERT INTO feedback_events (partner_id, lead_id, lead_created_at, delivery_id, event, outcome, at)
        VALUES (${partnerId}::uuid, ${id}::uuid, ${createdAt}, ${delivery}::uuid, 'converted', 'converted', now())`,
      stack.db.$executeRaw`INSERT INTO returns (lead_id, lead_created_at, delivery_id, partner_id, reason, filed_via)
        VALUES (${id}::uuid, ${createdAt}, ${delivery}::uuid, ${partnerId}::uuid, 'x', 'push')`,
      ...(sold
        ? [
            stack.db
              .$executeRaw`INSERT INTO ledger_entries (lead_id, lead_created_at, kind, event_id, party, party_id, delivery_id, amount)
              VALUES (${id}::uuid, ${createdAt}, 'sale', ${delivery}::uuid, 'partner', ${partnerId}::uuid, ${delivery}::uuid, 12.5),
                     (${id}::uuid, ${createdAt}, 'sale', ${delivery}::uuid, 'source', ${sourceId}::uuid, ${delivery}::uuid, -6.25)`,
          ]
        : []),
    ]);
    return id;
  }
  /** Per table, the rows of a lead. */
  const rowsOf = async (id: string) =>
    (
      await stack.db.$queryRaw<Record<string, number>[]>`
        SELECT (SELECT count(*) FROM leads WHERE id = ${id}::uuid)::int AS leads,
               (SELECT count(*) FROM lead_events WHERE lead_id = ${id}::uuid)::int AS lead_events,
               (SELECT count(*) FROM deliveries WHERE lead_id = ${id}::uuid)::int AS deliveries,
               (SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
                 WHERE d.lead_id = ${id}::uuid)::int AS delivery_attempts,
               (SELECT count(*) FROM postbacks WHERE lead_id = ${id}::uuid)::int AS postbacks,
               (SELECT count(*) FROM feedback_events WHERE lead_id = ${id}::uuid)::int AS feedback_events,
               (SELECT count(*) FROM returns WHERE lead_id = ${id}::uuid)::int AS returns,
               (SELECT count(*) FROM ledger_entries WHERE lead_id = ${id}::uuid)::int AS ledger_entries`
    )[0]!;
  const whole = { leads: 1, lead_events: 2, deliveries: 1, delivery_attempts: 1, postbacks: 1, feedback_events: 1 };
  const partitionsOf = async (table: string) =>
    (
      await stack.db.$queryRaw<{ name: string }[]>`
        SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = ${table}::regclass AND c.relname LIKE '%\_p20%' ORDER BY 1`
    ).map((r) => r.name);

  it('drops a month of a lead’s history, and of leads and deliveries only before the ledger’s first month kept', async () => {
    const source = await stack.createSource();
    const partner = await stack.createPartner({ url: 'http://127.0.0.1:9/leads' });
    const config = (months: number) => ({ LEAD_RETENTION_MONTHS: months });
    // December 2030 to March 2031 made ahead; then to July.
    await maintainLeadPartitions({ db: stack.db, now: () => new Date('2030-12-05T00:00:00Z') }, config(0));
    await maintainLeadPartitions({ db: stack.db, now: () => new Date('2031-04-01T00:00:00Z') }, config(0));
    expect(await partitionsOf('leads')).toEqual(
      ['203012', '203101', '203102', '203103', '203104', '203105', '203106', '203107'].map((m) => `leads_p${m}`),
    );

    const december = await lead(new Date('2030-12-20T10:00:00Z'), source.id, partner.id, false);
    const january = await lead(new Date('2031-01-31T23:59:59.999Z'), source.id, partner.id, true);
    const february = await lead(new Date('2031-02-14T10:00:00Z'), source.id, partner.id, false);
    const march = await lead(new Date('2031-03-01T00:00:00Z'), source.id, partner.id, true);
    const ledger = async () =>
      (
        await stack.db.$queryRaw<{ digest: string }[]>`SELECT md5(string_agg(e::text, ',' ORDER BY id)) AS digest
          FROM ledger_entries e WHERE lead_created_at >= '2030-12-01'`
      )[0]!.digest;
    const money = await ledger();

    // 0 keeps everything.
    const kept = await maintainLeadPartitions({ db: stack.db, now: () => new Date('2031-06-15T12:00:00Z') }, config(0));
    expect(kept.dropped).toEqual([]);

    // Three months in mid-June 2031: every month that ends by 2031-03-01 (December, January, February).
    const metrics = createWorkerMetrics({ processMetrics: false });
    const { dropped } = await maintainLeadPartitions(
      { db: stack.db, now: () => new Date('2031-06-15T12:00:00Z'), metrics },
      config(3),
    );
    const children = ['lead_events', 'delivery_attempts', 'postbacks', 'feedback_events', 'returns'];
    for (const table of children)
      expect(dropped).toEqual(expect.arrayContaining(['203012', '203101', '203102'].map((m) => `${table}_p${m}`)));
    // January's sale keeps January's (and so February's) leads and deliveries: the ledger references them.
    expect(dropped).toEqual(expect.arrayContaining(['deliveries_p203012', 'leads_p203012']));
    expect(dropped.filter((p) => /^(leads|deliveries)_p20310[12]$/.test(p))).toEqual([]);
    expect(dropped.filter((p) => p.startsWith('ledger_entries'))).toEqual([]);
    expect(dropped.filter((p) => p.endsWith('_p203103') || p.endsWith('_default'))).toEqual([]);
    // Children first: every table's December goes before deliveries' and leads'.
    expect(dropped.indexOf('leads_p203012')).toBeGreaterThan(dropped.indexOf('returns_p203012'));
    expect(dropped.indexOf('leads_p203012')).toBeGreaterThan(dropped.indexOf('deliveries_p203012'));

    const none = { leads: 0, lead_events: 0, deliveries: 0, delivery_attempts: 0, postbacks: 0, feedback_events: 0 };
    expect(await rowsOf(december)).toEqual({ ...none, returns: 0, ledger_entries: 0 });
    const historyGone = { lead_events: 0, delivery_attempts: 0, postbacks: 0, feedback_events: 0, returns: 0 };
    expect(await rowsOf(january)).toEqual({ leads: 1, deliveries: 1, ...historyGone, ledger_entries: 2 });
    expect(await rowsOf(february)).toEqual({ leads: 1, deliveries: 1, ...historyGone, ledger_entries: 0 });
    expect(await rowsOf(march)).toEqual({ ...whole, returns: 1, ledger_entries: 2 });
    expect(await ledger()).toEqual(money);
    for (const table of LEAD_PARTITIONED)
      expect({ table, kept: (await partitionsOf(table)).includes(`${table}_p203103`) }).toEqual({ table, kept: true });
    // The rows of the dropped partitions count as deleted.
    const deleted = (await metrics.housekeepingDeleted.get()).values;
    expect(deleted.find((v) => v.labels.table === 'lead_events')?.value).toBe(6);
    expect(deleted.find((v) => v.labels.table === 'leads')?.value).toBe(1);

    // Again: nothing more.
    expect(
      (await maintainLeadPartitions({ db: stack.db, now: () => new Date('2031-06-15T12:00:00Z') }, config(3))).dropped,
    ).toEqual([]);
  });
});
