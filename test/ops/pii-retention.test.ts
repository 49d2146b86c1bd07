import { randomBytes, randomInt } from 'node:crypto';
import { ACCEPT, inlineSql, LEADS_PAST_RETENTION, orderedValues, type Db, type StatementParams } from '@leadrouter/db';
import { eraseExpiredPersonalData, pruneErasedContacts } from '@leadrouter/lifecycle';
import type { LeadStatus } from '@leadrouter/core';
import { useDatabaseClient } from '../support/database';
import { Fixtures } from '../support/fixtures';
import { TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

// PII_RETENTION_DAYS (README "Personal data"; ADR 0031): the worker's housekeeping erases the personal data of older
// leads, in batches of short transactions, skipping those erased or still being delivered, safely from several
// workers at once; the duplicate check still finds them while a source's window reaches them.

const DAY = 24 * 60 * 60_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

/** A lead written as the ingest writes it, `createdAt` in the past; its phone and email its own. */
async function oldLead(db: Db, sourceId: string, days: number, status: LeadStatus = 'delivered') {
  const n = String(randomInt(2_000_000, 10_000_000)); // an exchange of 2-9: a valid number in region 415
  return db.lead.create({
    data: {
      sourceId,
      status,
      name: `Old Person ${n}`,
      phone: `+1415${n}`,
      email: `old.${n}.${randomBytes(2).toString('hex')}@example.com`,
      geo: 'US',
      fields: { zip: n.slice(0, 5) },
      createdAt: daysAgo(days),
    },
  });
}

describe('the personal-data retention', () => {
  const stack = new TestStack({ worker: false, captureLogs: true });
  let fx: Fixtures;
  let source: { id: string; apiKey: string };
  const now = () => new Date();

  beforeAll(async () => {
    await stack.start();
    fx = new Fixtures(stack.db);
    // A source whose duplicate window (60 days) reaches leads older than the retention (30 days).
    source = await stack.createSource({ duplicateWindowHours: 60 * 24 });
  }, 60_000);
  afterAll(() => stack.stop());
  beforeEach(async () => {
    await stack.db.$executeRaw`DELETE FROM erased_contacts`;
    await stack.db.$executeRaw`UPDATE leads SET personal_data_erased_at = now(), name = NULL, phone = NULL, email = NULL
      WHERE personal_data_erased_at IS NULL`;
  });

  const erasures = async (leadId: string) =>
    (await stack.db.leadEvent.findMany({ where: { leadId } })).filter(
      (e) => (e.detail as { event?: string } | null)?.event === 'personal_data_erased',
    );

  it('erases only the leads past it, in batches, leaving those erased or still being delivered', async () => {
    const old = await Promise.all(
      (['delivered', 'unsold', 'unmatched', 'dead_lettered', 'converted', 'returned', 'delivered'] as const).map(
        (status, i) => oldLead(stack.db, source.id, 40 + i, status),
      ),
    );
    const recent = await Promise.all([1, 10, 29].map((days) => oldLead(stack.db, source.id, days)));
    const routing = await oldLead(stack.db, source.id, 45, 'routing');
    const queued = await oldLead(stack.db, source.id, 45, 'queued');
    const retried = await oldLead(stack.db, source.id, 45, 'delivered');
    const partner = await fx.partner();
    await fx.delivery({ leadId: retried.id, partnerId: partner.id, status: 'pending' });
    const erasedBefore = await oldLead(stack.db, source.id, 50);
    await stack.admin('DELETE', `/leads/${erasedBefore.id}/personal-data`);
    const firstErasure = (await stack.db.lead.findUniqueOrThrow({ where: { id: erasedBefore.id } }))
      .personalDataErasedAt;

    const round = await eraseExpiredPersonalData({ db: stack.db, now }, 30, { batch: 3 });
    expect(round).toEqual({ erased: 7, batches: 3 });

    for (const lead of old) {
      const row = await stack.db.lead.findUniqueOrThrow({ where: { id: lead.id } });
      expect(row).toMatchObject({ name: null, phone: null, email: null, fields: {}, status: lead.status });
      expect(row.personalDataErasedAt).not.toBeNull();
      expect((await erasures(lead.id)).map((e) => e.detail)).toEqual([
        { event: 'personal_data_erased', by: 'retention' },
      ]);
    }
    for (const lead of [...recent, routing, queued, retried]) {
      const row = await stack.db.lead.findUniqueOrThrow({ where: { id: lead.id } });
      expect(row).toMatchObject({ phone: lead.phone, personalDataErasedAt: null });
    }
    expect((await stack.db.lead.findUniqueOrThrow({ where: { id: erasedBefore.id } })).personalDataErasedAt).toEqual(
      firstErasure,
    );
    expect(await erasures(erasedBefore.id)).toHaveLength(1);
    // Nothing left to do: a second round erases nothing, in one batch.
    expect(await eraseExpiredPersonalData({ db: stack.db, now }, 30, { batch: 3 })).toEqual({ erased: 0, batches: 1 });
    // A stop between batches ends the round early.
    await Promise.all([40, 41, 42, 43].map((d) => oldLead(stack.db, source.id, d)));
    let asked = 0;
    expect(
      await eraseExpiredPersonalData({ db: stack.db, now }, 30, { batch: 3, stopping: () => asked++ >= 1 }),
    ).toEqual({ erased: 3, batches: 1 });
    expect((await eraseExpiredPersonalData({ db: stack.db, now }, 30, { batch: 3 })).erased).toBe(1);
  });

  it('keeps the duplicate check working while a source’s window reaches the lead', async () => {
    const lead = await oldLead(stack.db, source.id, 40);
    const beyond = await oldLead(stack.db, source.id, 70);
    await eraseExpiredPersonalData({ db: stack.db, now }, 30);
    // Digests only for what a window still reaches (60 days): the 40-day-old lead's phone and email.
    expect(await stack.db.erasedContact.findMany({ select: { leadId: true } })).toEqual([
      { leadId: lead.id },
      { leadId: lead.id },
    ]);
    for (const body of [
      { name: 'Someone', phone: lead.phone!, email: 'new.address@example.com' },
      { name: 'Someone', phone: '+1 212 555 0199', email: lead.email! },
    ]) {
      const answer = await stack.request('POST', '/v1/leads', { key: source.apiKey, body });
      expect(answer).toMatchObject({ status: 409, body: { status: 'duplicate', id: lead.id } });
    }
    // Past every window the digests go, and the phone is new again.
    expect(await pruneErasedContacts({ db: stack.db, now })).toBe(0);
    expect(await pruneErasedContacts({ db: stack.db, now: () => new Date(Date.now() + 21 * DAY) })).toBe(2);
    const later = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: { name: 'Someone', phone: beyond.phone!, email: 'third@example.com' },
    });
    expect(later.status).toBe(202);
  });

  it('erases each lead once when two workers run it at once', async () => {
    const leads = await Promise.all(Array.from({ length: 30 }, (_, i) => oldLead(stack.db, source.id, 31 + (i % 9))));
    const [a, b] = await Promise.all([
      eraseExpiredPersonalData({ db: stack.db, now }, 30, { batch: 4 }),
      eraseExpiredPersonalData({ db: stack.db, now }, 30, { batch: 4 }),
    ]);
    expect(a.erased + b.erased).toBe(30);
    for (const lead of leads) expect(await erasures(lead.id)).toHaveLength(1);
  });

  it('is the worker’s housekeeping, with PII_RETENTION_DAYS, logged as counts only', async () => {
    const leads = await Promise.all([35, 36, 37].map((days) => oldLead(stack.db, source.id, days)));
    const kept = await oldLead(stack.db, source.id, 5);
    await stack.startWorker({ PII_RETENTION_DAYS: '30' });
    await waitFor(
      async () =>
        (await stack.db.lead.count({ where: { id: { in: leads.map((l) => l.id) }, personalDataErasedAt: null } })) ===
        0,
      { timeoutMs: 30_000, what: 'the old leads erased by the housekeeping' },
    );
    expect((await stack.db.lead.findUniqueOrThrow({ where: { id: kept.id } })).phone).toBe(kept.phone);
    const line = await waitFor(() => stack.logLines.find((l) => l.includes('personal data')), {
      what: 'the housekeeping’s log line',
    });
    expect(JSON.parse(line)).toMatchObject({ erased: 3, retentionDays: 30 });
    for (const lead of leads)
      for (const text of [lead.phone!, lead.phone!.slice(1), lead.email!, lead.name!])
        expect(stack.logLines.filter((l) => l.includes(text))).toEqual([]);
  });
});

/**
 * The retention's batch must start at the oldest lead still kept, however many erased leads came before it
 * (years of them): through the partial index of kept leads, not a walk of created_at over erased rows. The
 * accept statement's look-up of erased leads' digests must stay one probe of its key.
 */
describe('the retention’s and the duplicate check’s plans', () => {
  const db = useDatabaseClient();

  it('find the next batch through the index of kept leads, and an erased contact by its key', async () => {
    const client = db();
    const source = '00000000-0000-4000-8000-000000000001';
    await client.query(
      `INSERT INTO sources (id, name, api_key_hash, api_key_prefix, duplicate_window_hours, updated_at)
       VALUES ('${source}', 's', repeat('a', 64), 'lr_', 24, now())`,
    );
    // 20,000 erased leads older than 3,000 kept ones, all past the retention.
    await client.query(
      `INSERT INTO leads (id, source_id, status, geo, created_at, updated_at, personal_data_erased_at)
       SELECT gen_random_uuid(), '${source}', 'delivered', 'US', now() - interval '400 days' + g * interval '1 minute',
              now(), now()
       FROM generate_series(1, 20000) AS g`,
    );
    await client.query(
      `INSERT INTO leads (id, source_id, status, name, phone, created_at, updated_at)
       SELECT gen_random_uuid(), '${source}', 'delivered', 'n', '+44' || g,
              now() - interval '300 days' + g * interval '1 minute', now()
       FROM generate_series(1, 3000) AS g`,
    );
    await client.query(
      `INSERT INTO erased_contacts (digest, lead_id, source_id, created_at)
       SELECT sha256(g::text::bytea), gen_random_uuid(), '${source}', now() - g * interval '1 second'
       FROM generate_series(1, 20000) AS g`,
    );
    await client.query('ANALYZE leads; ANALYZE erased_contacts');

    const batch = inlineSql(
      LEADS_PAST_RETENTION,
      orderedValues(LEADS_PAST_RETENTION, { before: daysAgo(30), limit: 500 }),
    );
    const plan = await explain(client, batch);
    expect(plan).toMatch(/Index Scan using leads_personal_data_kept_idx on leads/);
    expect(plan).not.toMatch(/Seq Scan on leads/);
    expect(plan).not.toMatch(/Rows Removed by Filter: \d{3,}/);

    const values: StatementParams<typeof ACCEPT> = {
      ...{ n: 0, sourceId: source, name: 'n', phone: '+14155550100', email: 'x@example.com', geo: null },
      ...{ subSource: null, fields: {}, consent: null, key: null, requestHash: null, windowHours: 24 },
      ...{ id: null, ping: null, detail: null },
    };
    const accept = await explain(client, inlineSql(ACCEPT, orderedValues(ACCEPT, values)));
    expect(accept).not.toMatch(/Seq Scan on erased_contacts/);
    expect(accept).toMatch(/Index Scan using erased_contacts_pkey on erased_contacts/);
  });
});

async function explain(client: ReturnType<ReturnType<typeof useDatabaseClient>>, sql: string): Promise<string> {
  await client.query('BEGIN');
  try {
    const rows = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE) ${sql}`)).rows;
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await client.query('ROLLBACK');
  }
}
