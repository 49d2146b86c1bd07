import { sqlPool } from '@leadrouter/db';
import { ADMIN_TOKEN, TestStack } from '../support/stack';

const ALPHA = '0b000000-0000-4000-8000-000000000001';
const BRAVO = '0b000000-0000-4000-8000-000000000002';
const CHARLIE = '0b000000-0000-4000-8000-000000000003';
/** A partner that only an event names (not the lead's routing record or deliveries). */
const XRAY = '0b000000-0000-4000-8000-000000000004';
/** A partner of the routing record that no longer exists. */
const GONE = '0b000000-0000-4000-8000-000000000099';
const LEAD = '0c000000-0000-4000-8000-000000000001';
const BARE = '0c000000-0000-4000-8000-000000000002';
/** A lead whose routing record this version cannot read (a newer version's). */
const NEWER = '0c000000-0000-4000-8000-000000000004';
const DELIVERY_ALPHA = '0d000000-0000-4000-8000-000000000001';
const DELIVERY_BRAVO = '0d000000-0000-4000-8000-000000000002';
const ENTRY_SALE = '0e000000-0000-4000-8000-000000000001';
const ENTRY_CPL = '0e000000-0000-4000-8000-000000000002';
const ENTRY_ADJUSTMENT = '0e000000-0000-4000-8000-000000000003';
const at = (ms: string) => `2026-01-31T12:00:00.${ms}Z`;

/**
 * GET /v1/leads/:id byte for byte, on rows written in SQL: field order,
 * masking, nulls and absent fields, timestamps, the order of events and
 * attempts (ties included), partner names. It pins the hand-written SQL of
 * `showLead` (ADR 0009: the lead API runs no Prisma query).
 */
describe('GET /v1/leads/:id', () => {
  // CURRENCY names every amount's currency; this installation's is EUR.
  const stack = new TestStack({ worker: false, env: { CURRENCY: 'EUR' } });
  let source: { id: string; apiKey: string };
  let other: { apiKey: string };

  beforeAll(async () => {
    await stack.start();
    source = await stack.createSource();
    other = await stack.createSource();
    const pool = sqlPool(stack.db);
    await pool.query(
      `INSERT INTO partners (id, name, url, updated_at) VALUES
       ($1, 'alpha', 'http://a.test', now()), ($2, 'bravo', 'http://b.test', now()),
       ($3, 'charlie', 'http://c.test', now()), ($4, 'xray', 'http://x.test', now())`,
      [ALPHA, BRAVO, CHARLIE, XRAY],
    );
    const routing = {
      routeName: 'main',
      strategy: 'priority',
      maxDeliveries: 1,
      candidates: [GONE, ALPHA, BRAVO, CHARLIE],
      decisions: [
        { partnerId: GONE, decision: 'skipped', reason: 'partner is paused', at: at('100') },
        { partnerId: ALPHA, decision: 'rejected', reason: 'HTTP 400', at: at('110') },
        { partnerId: BRAVO, decision: 'accepted', at: at('290') },
      ],
    };
    await pool.query(
      `INSERT INTO leads (id, source_id, status, name, phone, email, geo, sub_source, fields, routing, created_at,
                          updated_at)
       VALUES ($1, $2, 'delivered', 'Jane Roe', '+14155550123', 'jane.roe@example.com', 'US', 'Facebook', $3, $4, $5,
               now()),
              ($6, $2, 'queued', 'Bare', '+14155550124', NULL, NULL, NULL, '{}', NULL, $5, now()),
              ($7, $2, 'routing', 'Newer', '+14155550125', NULL, NULL, NULL, '{}', $8, $5, now())`,
      [
        LEAD,
        source.id,
        JSON.stringify({ zip: '94107', score: 1.5, age: 42, vip: true }),
        JSON.stringify(routing),
        at('000'),
        BARE,
        NEWER,
        JSON.stringify({ ...routing, version: 2 }),
      ],
    );
    // Recorded in this order: the last one is older than the one before it.
    await pool.query(
      `INSERT INTO lead_events (lead_id, status, partner_id, at, lead_created_at)
       SELECT l.id, e.status::"LeadStatus", e.partner_id::uuid, e.at::timestamptz, l.created_at
       FROM (VALUES (1, 'queued', NULL, $3), (2, 'routing', NULL, $4), (3, 'delivered', $2, $5), (4, 'delivered', $6, $7))
         AS e (n, status, partner_id, at), leads l
       WHERE l.id = $1 ORDER BY e.n`,
      [LEAD, BRAVO, at('000'), at('120'), at('300'), XRAY, at('250')],
    );
    await pool.query(
      `INSERT INTO deliveries (id, lead_id, partner_id, status, attempts, reference, updated_at)
       VALUES ($1, $3, $4, 'rejected', 2, NULL, now()), ($2, $3, $5, 'accepted', 1, 'BRAVO-7731', now())`,
      [DELIVERY_ALPHA, DELIVERY_BRAVO, LEAD, ALPHA, BRAVO],
    );
    // bravo's attempt is recorded before alpha's second one, in the same millisecond.
    await pool.query(
      `INSERT INTO delivery_attempts (delivery_id, attempt, outcome, http_status, duration_ms, error, at, lead_created_at)
       SELECT d.id, a.attempt, a.outcome::"AttemptOutcome", a.http_status, a.duration_ms, a.error, a.at::timestamptz,
              d.lead_created_at
       FROM (VALUES (1, $1::uuid, 1, 'retry', NULL::int, 10000, 'timeout after 10000 ms', $3),
                    (2, $2::uuid, 1, 'accepted', 200, 4, NULL, $4),
                    (3, $1::uuid, 2, 'rejected', 400, 5, 'HTTP 400', $4))
         AS a (n, delivery_id, attempt, outcome, http_status, duration_ms, error, at)
       JOIN deliveries d ON d.id = a.delivery_id ORDER BY a.n`,
      [DELIVERY_ALPHA, DELIVERY_BRAVO, at('150'), at('200')],
    );
    // Its money: bravo's sale, the source's cpl (keyed by the lead), and an operator's correction.
    await pool.query(
      `INSERT INTO ledger_entries (id, lead_id, party, party_id, kind, amount, delivery_id, event_id, note, at) VALUES
       ($1, $4, 'partner', $5, 'sale', 12.5, $6, $6, NULL, $8),
       ($2, $4, 'source', $7, 'sale', 10, $6, $4, NULL, $8),
       ($3, $4, 'source', $7, 'adjustment', -0.25, NULL, $3, 'rounding', $9)`,
      [ENTRY_SALE, ENTRY_CPL, ENTRY_ADJUSTMENT, LEAD, BRAVO, DELIVERY_BRAVO, source.id, at('290'), at('400')],
    );
  });
  afterAll(() => stack.stop());

  const get = async (id: string, key: string) => {
    const res = await fetch(`${stack.url}/v1/leads/${id}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, text: await res.text() };
  };

  const lead = (phone: string, email: string) => ({
    name: 'Jane Roe',
    phone,
    email,
    geo: 'US',
    source: 'Facebook',
    fields: { age: 42, vip: true, zip: '94107', score: 1.5 }, // jsonb's key order
  });

  /** What the source sees: its data masked, its statuses; nothing of partners, routing or deliveries. */
  const sourceView = () => ({
    id: LEAD,
    status: 'delivered',
    createdAt: at('000'),
    sourceId: source.id,
    personalDataErasedAt: null,
    lead: lead('+1415*****23', 'j*******@example.com'),
    events: [
      { at: at('000'), status: 'queued' },
      { at: at('120'), status: 'routing' },
      { at: at('300'), status: 'delivered' },
      { at: at('250'), status: 'delivered' },
    ],
    payout: 9.75,
    currency: 'EUR',
  });

  const adminView = () => ({
    id: LEAD,
    status: 'delivered',
    createdAt: at('000'),
    sourceId: source.id,
    personalDataErasedAt: null,
    lead: lead('+14155550123', 'jane.roe@example.com'),
    events: [
      { at: at('000'), status: 'queued' },
      { at: at('120'), status: 'routing' },
      { at: at('300'), status: 'delivered', partner: 'bravo' },
      { at: at('250'), status: 'delivered', partner: XRAY },
    ],
    routing: {
      route: 'main',
      strategy: 'priority',
      partners: [
        { partner: GONE, decision: 'skipped', reason: 'partner is paused', at: at('100') },
        { partner: 'alpha', decision: 'rejected', reason: 'HTTP 400', at: at('110') },
        { partner: 'bravo', decision: 'accepted', at: at('290') },
        { partner: 'charlie', decision: 'not_offered', reason: 'the lead was placed before its turn' },
      ],
    },
    deliveries: [
      {
        partner: 'alpha',
        attempt: 1,
        outcome: 'retry',
        httpStatus: null,
        durationMs: 10000,
        error: 'timeout after 10000 ms',
        at: at('150'),
      },
      {
        partner: 'alpha',
        attempt: 2,
        outcome: 'rejected',
        httpStatus: 400,
        durationMs: 5,
        error: 'HTTP 400',
        at: at('200'),
      },
      {
        partner: 'bravo',
        attempt: 1,
        outcome: 'accepted',
        httpStatus: 200,
        durationMs: 4,
        error: null,
        reference: 'BRAVO-7731',
        at: at('200'),
      },
    ],
    money: {
      revenue: 12.5,
      cost: 9.75,
      margin: 2.75,
      currency: 'EUR',
      entries: [
        {
          id: ENTRY_SALE,
          leadId: LEAD,
          party: 'partner',
          partyId: BRAVO,
          kind: 'sale',
          amount: 12.5,
          deliveryId: DELIVERY_BRAVO,
          at: at('290'),
        },
        {
          id: ENTRY_CPL,
          leadId: LEAD,
          party: 'source',
          partyId: source.id,
          kind: 'sale',
          amount: 10,
          deliveryId: DELIVERY_BRAVO,
          at: at('290'),
        },
        {
          id: ENTRY_ADJUSTMENT,
          leadId: LEAD,
          party: 'source',
          partyId: source.id,
          kind: 'adjustment',
          amount: -0.25,
          deliveryId: null,
          note: 'rounding',
          at: at('400'),
        },
      ],
    },
  });

  it('shows the lead to its source, phone and email masked, with its statuses and nothing of its partners', async () => {
    const shown = await get(LEAD, source.apiKey);
    expect(shown).toEqual({ status: 200, text: JSON.stringify(sourceView()) });
    expect(shown.text).not.toContain('BRAVO-7731'); // a partner's reference is the admin's to see
  });

  it('shows it to the admin token unmasked, with partners, routing and attempts', async () => {
    expect(await get(LEAD, ADMIN_TOKEN)).toEqual({ status: 200, text: JSON.stringify(adminView()) });
  });

  it('shows a lead without history, with its nulls', async () => {
    expect(await get(BARE, source.apiKey)).toEqual({
      status: 200,
      text: JSON.stringify({
        id: BARE,
        status: 'queued',
        createdAt: at('000'),
        sourceId: source.id,
        personalDataErasedAt: null,
        lead: { name: 'Bare', phone: '+1415*****24', email: null, geo: null, source: null, fields: {} },
        events: [],
        payout: 0,
        currency: 'EUR',
      }),
    });
    expect(await get(BARE, ADMIN_TOKEN)).toEqual({
      status: 200,
      text: JSON.stringify({
        id: BARE,
        status: 'queued',
        createdAt: at('000'),
        sourceId: source.id,
        personalDataErasedAt: null,
        lead: { name: 'Bare', phone: '+14155550124', email: null, geo: null, source: null, fields: {} },
        events: [],
        routing: null,
        deliveries: [],
        money: { revenue: 0, cost: 0, margin: 0, currency: 'EUR', entries: [] },
      }),
    });
  });

  it('shows a routing record it cannot read as no route and the reason (readRoutingRecord, ADR 0021)', async () => {
    const res = await get(NEWER, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    expect((JSON.parse(res.text) as { routing: unknown }).routing).toEqual({
      route: null,
      strategy: null,
      reason:
        'the routing record cannot be read: the routing record is version 2, newer than this leadrouter reads (1)',
      partners: [],
    });
  });

  it('finds the lead by its id in either case', async () => {
    expect(await get(LEAD.toUpperCase(), source.apiKey)).toEqual({ status: 200, text: JSON.stringify(sourceView()) });
  });

  it("answers 404 for another source's lead, an unknown id and anything that is not a UUID", async () => {
    const notFound = {
      status: 404,
      text: JSON.stringify({ status: 'rejected', message: 'lead not found', errors: [{ message: 'lead not found' }] }),
    };
    expect(await get(LEAD, other.apiKey)).toEqual(notFound);
    expect(await get('0c000000-0000-4000-8000-000000000003', source.apiKey)).toEqual(notFound);
    expect(await get('0c000000-0000-4000-8000-000000000003', ADMIN_TOKEN)).toEqual(notFound);
    const hex = LEAD.replace(/-/g, '');
    for (const id of [
      'nope',
      '-'.repeat(36),
      `{${LEAD.slice(1, 35)}}`,
      `${LEAD.slice(0, 35)}g`,
      LEAD.replace(/-/g, ''),
      // PostgreSQL would take these, but the API takes one form of id (core's UUID_PATTERN, ADR 0019).
      `${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16)}`,
      `urn:uuid:${LEAD}`,
    ]) {
      expect(await get(encodeURIComponent(id), source.apiKey)).toEqual(notFound);
    }
  });
});
