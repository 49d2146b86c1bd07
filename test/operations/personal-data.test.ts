import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ADMIN_TOKEN, TestStack } from '../support/stack';
import { Fixtures } from '../support/fixtures';
import { FakePartner } from '../support/partner';
import { waitFor } from '../support/wait';

// The right to erasure (README "Personal data"; ADR 0031): `DELETE /v1/admin/leads/:id/personal-data` erases one lead's
// personal data at once — wherever it was, also where its partners echoed it — and keeps its money and history.

/** The lead's strings, and how they could appear anywhere else (formatted, lower-cased, as digits). */
const PERSON = {
  name: 'Zelda Quincey',
  phone: '+1 415 555 0177',
  email: 'Zelda.Q@Example.org',
  fields: { zip: '94107', plan: 'gold-zq-plan' },
  consent: { tcpa: true, certificateUrl: 'https://cert.example/zelda-quincey' },
};
const TRACES = ['zelda', 'quincey', '4155550177', 'zelda.q@example.org', '94107', 'gold-zq-plan', 'cert.example'];

describe('erasing a lead’s personal data', () => {
  const stack = new TestStack();
  let fx: Fixtures;
  let rejecter: FakePartner;
  let buyer: FakePartner;
  let affiliate: FakePartner;
  let buyerFeedbackKey: string;
  let source: { id: string; apiKey: string };

  beforeAll(async () => {
    await stack.start();
    fx = new Fixtures(stack.db);
    // Both partners repeat the lead in their answers, as real ones do.
    rejecter = await new FakePartner((req) => {
      const lead = req.json as { name: string; phone: string; email: string };
      return { status: 422, body: { error: `duplicate of ${lead.name} (${lead.phone}, ${lead.email})` } };
    }).start();
    buyer = await new FakePartner((req) => {
      const lead = req.json as { name: string; phone: string };
      return {
        status: 200,
        body: { ok: true, price: '10', ref: `B-${randomUUID()}`, note: `welcome ${lead.name}, we call ${lead.phone}` },
      };
    }).start();
    affiliate = await new FakePartner(() => ({ status: 204 })).start();
    const first = await stack.createPartner({ url: rejecter.url, responseMap: { reason: 'error' } });
    const second = (await stack.createPartner({
      url: buyer.url,
      responseMap: { price: 'price', reference: 'ref' },
      returns: { windowDays: 30, autoApprove: true },
    })) as unknown as { id: string; feedbackKey: string };
    buyerFeedbackKey = second.feedbackKey;
    await stack.createRoute({
      strategy: 'priority',
      maxDeliveries: 1,
      partners: [{ partnerId: first.id }, { partnerId: second.id }],
    });
    source = await stack.createSource({
      postbackUrl: affiliate.url,
      duplicateWindowHours: 48,
      payout: { model: 'cpl', amount: 4 },
    });
  }, 60_000);
  afterAll(async () => {
    await stack.stop();
    await Promise.all([rejecter.stop(), buyer.stop(), affiliate.stop()]);
  });

  /** Every row of every table of the schema, as JSON text, with the traces of PERSON found in it. */
  async function tracesLeft(): Promise<string[]> {
    const tables = await stack.db.$queryRaw<{ name: string }[]>`
      SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`;
    const found: string[] = [];
    for (const { name } of tables) {
      const rows = await stack.db.$queryRawUnsafe<{ row: string }[]>(
        `SELECT row_to_json(t)::text AS row FROM "${name}" t`,
      );
      for (const { row } of rows)
        for (const trace of TRACES) if (row.toLowerCase().includes(trace)) found.push(`${name}: ${trace} in ${row}`);
    }
    return found;
  }

  /** Every key under the stack's Redis prefix (the queues' jobs, counters, locks), with the traces found in it. */
  async function tracesInRedis(): Promise<{ keys: number; found: string[] }> {
    const redis = stack.workerDeps!.redis as Redis;
    const found: string[] = [];
    let scanned = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${stack.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      scanned += keys.length;
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'string'
            ? await redis.get(key)
            : type === 'hash'
              ? JSON.stringify(await redis.hgetall(key))
              : type === 'list'
                ? JSON.stringify(await redis.lrange(key, 0, -1))
                : type === 'set'
                  ? JSON.stringify(await redis.smembers(key))
                  : type === 'zset'
                    ? JSON.stringify(await redis.zrange(key, '0', '-1'))
                    : type === 'stream'
                      ? JSON.stringify(await redis.xrange(key, '-', '+'))
                      : '';
        for (const trace of TRACES) if (value?.toLowerCase().includes(trace)) found.push(`${key}: ${trace}`);
      }
    } while (cursor !== '0');
    return { keys: scanned, found };
  }

  const erase = (id: string, body?: unknown) =>
    stack.request('DELETE', `/v1/admin/leads/${id}/personal-data`, {
      key: ADMIN_TOKEN,
      ...(body !== undefined ? { body } : {}),
    });

  it('leaves no trace of it in any table, and keeps its money, statuses and history', async () => {
    const posted = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      headers: { 'idempotency-key': 'zelda-1' },
      body: { ...PERSON, geo: 'US', source: 'Facebook' },
    });
    expect(posted.status).toBe(202);
    const id = posted.body.id as string;
    expect(await stack.finalStatus(id)).toBe('delivered');
    // The buyer returns it, repeating the person in its reason: approved at once, a postback with the reason.
    const returned = await stack.request('POST', '/v1/feedback', {
      key: buyerFeedbackKey,
      body: { leadId: id, event: 'returned', reason: `Zelda Quincey says wrong number 14155550177` },
    });
    expect(returned.body).toEqual({ status: 'recorded', outcome: 'returned' });
    await waitFor(async () => (await stack.leadStatus(id)) === 'returned', { what: 'the lead returned' });
    await waitFor(
      async () =>
        (await stack.db.postback.count({ where: { leadId: id, status: { not: 'pending' } } })) ===
        (await stack.db.postback.count({ where: { leadId: id } })),
      { what: 'the postbacks sent' },
    );
    expect((await tracesLeft()).length).toBeGreaterThan(10);
    // Jobs carry ids: Redis never held the person.
    expect(await tracesInRedis()).toEqual({ keys: expect.any(Number), found: [] });
    expect((await tracesInRedis()).keys).toBeGreaterThan(0);

    const before = await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN });
    const deliveriesBefore = await stack.db.delivery.findMany({
      where: { leadId: id },
      select: { id: true, partnerId: true, status: true, attempts: true, price: true, reference: true },
      orderBy: { createdAt: 'asc' },
    });
    const eventsBefore = await stack.db.leadEvent.count({ where: { leadId: id } });
    const ledgerBefore = await stack.db.ledgerEntry.findMany({ where: { leadId: id }, orderBy: { id: 'asc' } });
    expect(ledgerBefore.length).toBeGreaterThanOrEqual(4); // the sale (partner, source) and its return

    const erased = await erase(id, { reason: 'erasure request #4711' });
    expect(erased.status).toBe(200);
    expect(erased.body).toEqual({
      id,
      personalDataErasedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      alreadyErased: false,
    });

    expect(await tracesLeft()).toEqual([]);
    // Money, statuses, deliveries' outcomes and the partners' references stay.
    expect(await stack.db.ledgerEntry.findMany({ where: { leadId: id }, orderBy: { id: 'asc' } })).toEqual(
      ledgerBefore,
    );
    expect(
      await stack.db.delivery.findMany({
        where: { leadId: id },
        select: { id: true, partnerId: true, status: true, attempts: true, price: true, reference: true },
        orderBy: { createdAt: 'asc' },
      }),
    ).toEqual(deliveriesBefore);
    const after = await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN });
    expect(after.body.money).toEqual(before.body.money);
    expect(after.body).toMatchObject({
      status: 'returned',
      personalDataErasedAt: erased.body.personalDataErasedAt,
      lead: { name: null, phone: null, email: null, geo: 'US', source: 'Facebook', fields: {} },
      events: before.body.events,
      routing: { route: before.body.routing.route, strategy: 'priority' },
    });
    // The routing decision stays, each partner's fate with it; the rejection's reason without the person.
    const fates = (view: typeof before) =>
      view.body.routing.partners.map((p: { partner: string; decision: string }) => [p.partner, p.decision]);
    expect(fates(after)).toEqual(fates(before));
    expect(after.body.routing.partners[0].reason).toBe('HTTP 422: duplicate of [erased] ([erased], [erased])');
    // What the partners answered is still there, without the person: the rejection's reason, the attempts.
    const rejected = await stack.db.delivery.findFirstOrThrow({ where: { leadId: id, status: 'rejected' } });
    expect(rejected.reason).toBe('duplicate of [erased] ([erased], [erased])');
    expect(
      await stack.db.deliveryAttempt.count({ where: { delivery: { leadId: id }, responseExcerpt: { not: null } } }),
    ).toBe(0);

    // The timeline says who erased it and why, and nothing of what was erased.
    const events = await stack.db.leadEvent.findMany({ where: { leadId: id }, orderBy: { id: 'asc' } });
    expect(events).toHaveLength(eventsBefore + 1);
    expect(events.at(-1)).toMatchObject({
      status: 'returned',
      detail: { event: 'personal_data_erased', by: 'operator', via: 'api', reason: 'erasure request #4711' },
    });
    const story = await stack.admin('GET', `/leads/${id}`);
    expect(story.body).toMatchObject({
      personalDataErasedAt: erased.body.personalDataErasedAt,
      lead: { name: null, phone: null, email: null, fields: {}, consent: null },
    });
    expect(story.body.events.at(-1).detail).toEqual({
      event: 'personal_data_erased',
      by: 'operator',
      via: 'api',
      reason: 'erasure request #4711',
    });
    // Its source sees it erased too, with its status history as before.
    const own = await stack.request('GET', `/v1/leads/${id}`, { key: source.apiKey });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      personalDataErasedAt: erased.body.personalDataErasedAt,
      lead: { name: null, phone: null, email: null, fields: {} },
      events: before.body.events.map(({ at, status }: { at: string; status: string }) => ({ at, status })),
    });

    // Asking again changes nothing, and says when it was done.
    const again = await erase(id);
    expect(again.body).toEqual({ ...erased.body, alreadyErased: true });
    expect(await stack.db.leadEvent.count({ where: { leadId: id } })).toBe(eventsBefore + 1);

    // The duplicate check still knows its phone and its email within the source's window: the person is not
    // bought again because they asked to be forgotten, nor through a replay of its Idempotency-Key (which is
    // erased too: a source's key may be the person's email).
    for (const again of [
      { ...PERSON, email: 'someone.else@example.com' },
      { ...PERSON, phone: '+1 415 555 0999' },
    ]) {
      const dup = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: again });
      expect(dup).toMatchObject({ status: 409, body: { status: 'duplicate', id } });
    }
    const replay = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      headers: { 'idempotency-key': 'zelda-1' },
      body: { ...PERSON, geo: 'US', source: 'Facebook' },
    });
    expect(replay).toMatchObject({ status: 409, body: { status: 'duplicate', id } });
    expect(await tracesLeft()).toEqual([]);
  });

  it('answers 404 for an unknown lead, and only to the admin', async () => {
    expect((await erase(randomUUID())).status).toBe(404);
    expect((await erase('not-a-uuid')).status).toBe(404);
    const lead = await fx.lead({ sourceId: source.id, status: 'unsold' });
    const bySource = await stack.request('DELETE', `/v1/admin/leads/${lead.id}/personal-data`, { key: source.apiKey });
    expect(bySource.status).toBe(401);
    expect((await erase(lead.id, { reason: '' })).status).toBe(422);
    expect((await erase(lead.id, { why: 'x' })).status).toBe(422);
    expect((await stack.db.lead.findUniqueOrThrow({ where: { id: lead.id } })).personalDataErasedAt).toBeNull();
  });

  it('waits while the lead is being delivered, and never sends an erased lead again', async () => {
    const partner = await fx.partner();
    const routing = await fx.lead({ sourceId: source.id, status: 'routing' });
    const busy = await erase(routing.id);
    expect(busy.status).toBe(409);
    expect(busy.body.message).toMatch(/still being delivered \(routing\)/);
    // A sold lead whose dead letter an operator retried is being delivered again: it waits too.
    const sold = await fx.lead({ sourceId: source.id, status: 'delivered', maxDeliveries: 2 });
    await fx.delivery({ leadId: sold.id, partnerId: partner.id, status: 'pending' });
    expect((await erase(sold.id)).status).toBe(409);
    expect((await stack.db.lead.findUniqueOrThrow({ where: { id: sold.id } })).phone).not.toBeNull();

    // A dead letter of an erased lead cannot be retried: there is nothing left to send.
    const { lead, delivery } = await fx.deadLetter({ sourceId: source.id, partnerId: partner.id });
    expect((await erase(lead.id)).status).toBe(200);
    const retried = await stack.admin('POST', `/dead-letters/${delivery.id}/retry`);
    expect(retried).toMatchObject({ status: 409, body: { reason: 'personal_data_erased' } });
    expect(await stack.leadStatus(lead.id)).toBe('dead_lettered');
  });

  it('leaves erased leads out of a routing dry run: what its filters read is gone', async () => {
    const lead = await fx.lead({ sourceId: source.id, status: 'unsold' });
    expect((await erase(lead.id)).status).toBe(200);
    const kept = await stack.db.lead.count({ where: { personalDataErasedAt: null } });
    const run = await stack.admin('POST', '/routes/dry-run', { routes: [], limit: 500 });
    expect(run.status).toBe(200);
    expect(run.body.leads).toBe(kept);
  });
});
