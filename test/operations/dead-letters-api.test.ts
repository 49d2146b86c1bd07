import { createDb } from '@leadrouter/db';
import { discardDeadLetters, retryDeadLetters } from '@leadrouter/lifecycle';
import { createRedis, jobIds, Queues } from '@leadrouter/queue';
import { Fixtures } from '../support/fixtures';
import { TestStack } from '../support/stack';

/**
 * The dead-letter admin API on rows written directly (no worker runs, so
 * what the API put on the queue stays there to be looked at).
 */
describe('dead letters: admin API', () => {
  const stack = new TestStack({ worker: false });
  let fx: Fixtures;
  let redis: ReturnType<typeof createRedis>;
  let queues: Queues;
  let deliver: Queues['deliver'];
  let route: Queues['route'];
  let source: { id: string };

  beforeAll(async () => {
    await stack.start();
    fx = new Fixtures(stack.db);
    redis = createRedis({ url: stack.env().REDIS_URL!, role: 'worker' });
    ({ deliver, route } = queues = new Queues(redis, stack.prefix));
    source = await fx.source();
  });
  afterAll(async () => {
    await queues.close();
    redis.disconnect();
    await stack.stop();
  });
  beforeEach(async () => {
    // Each test counts its own dead letters.
    await stack.db.delivery.updateMany({
      where: { status: { in: ['dead_lettered', 'superseded'] } },
      data: { status: 'rejected' },
    });
  });

  const seconds = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n));

  describe('GET /v1/admin/dead-letters', () => {
    it('lists dead letters oldest first, with a cursor that holds while new ones arrive', async () => {
      const partner = await fx.partner({ name: 'listing-partner' });
      const seeded = [];
      for (let i = 0; i < 5; i++)
        seeded.push(await fx.deadLetter({ sourceId: source.id, partnerId: partner.id, at: seconds(i) }));
      // Two dead-lettered in the same millisecond: the id breaks the tie.
      seeded.push(await fx.deadLetter({ sourceId: source.id, partnerId: partner.id, at: seconds(2) }));
      const other = await fx.partner();
      await fx.delivery({ leadId: seeded[0]!.lead.id, partnerId: other.id, status: 'accepted' }); // not a dead letter

      const first = await stack.admin('GET', '/dead-letters?limit=2');
      expect(first.status).toBe(200);
      expect(first.body.items).toHaveLength(2);
      expect(first.body.items[0]).toEqual({
        id: seeded[0]!.delivery.id,
        leadId: seeded[0]!.lead.id,
        partner: 'listing-partner',
        partnerId: partner.id,
        status: 'dead_lettered',
        attempts: 2,
        retries: 0,
        lastError: 'HTTP 502',
        at: seconds(0).toISOString(),
      });
      expect(first.body.nextCursor).toEqual(expect.any(String));

      // A new dead letter between two pages comes after every page already read.
      const late = await fx.deadLetter({ sourceId: source.id, partnerId: partner.id, at: new Date() });
      const seen: string[] = first.body.items.map((d: { id: string }) => d.id);
      let cursor: string | null = first.body.nextCursor;
      while (cursor) {
        const page = await stack.admin('GET', `/dead-letters?limit=2&cursor=${cursor}`);
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((d: { id: string }) => d.id));
        cursor = page.body.nextCursor;
      }
      const tied = [seeded[2]!, seeded[5]!].map((s) => s.delivery.id).sort();
      expect(seen).toEqual([
        seeded[0]!.delivery.id,
        seeded[1]!.delivery.id,
        ...tied,
        seeded[3]!.delivery.id,
        seeded[4]!.delivery.id,
        late.delivery.id,
      ]);
    });

    it('filters by partner id or name', async () => {
      const a = await fx.partner({ name: 'filter-a' });
      const b = await fx.partner({ name: 'filter-b' });
      const da = await fx.deadLetter({ sourceId: source.id, partnerId: a.id });
      await fx.deadLetter({ sourceId: source.id, partnerId: b.id });
      for (const ref of [a.id, 'filter-a', a.id.toUpperCase()]) {
        const res = await stack.admin('GET', `/dead-letters?partner=${encodeURIComponent(ref)}`);
        expect(res.status).toBe(200);
        expect(res.body.items.map((d: { id: string }) => d.id)).toEqual([da.delivery.id]);
      }
    });

    it('leaves superseded dead letters out unless asked for with status', async () => {
      const partner = await fx.partner();
      const live = await fx.deadLetter({ sourceId: source.id, partnerId: partner.id, at: seconds(1) });
      const sold = await fx.lead({ sourceId: source.id, status: 'delivered' });
      const superseded = await fx.delivery({
        leadId: sold.id,
        partnerId: partner.id,
        status: 'superseded',
        deadLetteredAt: seconds(0),
      });
      const ids = async (query: string) => {
        const res = await stack.admin('GET', `/dead-letters?partner=${partner.id}${query}`);
        expect(res.status).toBe(200);
        return res.body.items.map((d: { id: string; status: string }) => [d.id, d.status]);
      };
      expect(await ids('')).toEqual([[live.delivery.id, 'dead_lettered']]);
      expect(await ids('&status=dead_lettered')).toEqual([[live.delivery.id, 'dead_lettered']]);
      expect(await ids('&status=superseded')).toEqual([[superseded.id, 'superseded']]);
      expect(await ids('&status=superseded,dead_lettered')).toEqual([
        [superseded.id, 'superseded'],
        [live.delivery.id, 'dead_lettered'],
      ]);
      const bad = await stack.admin('GET', '/dead-letters?status=rejected');
      expect(bad.status).toBe(422);
      expect(bad.body.errors).toEqual([{ field: 'status', message: expect.stringContaining('superseded') }]);
    });

    it('answers 422 listing every bad parameter', async () => {
      const res = await stack.admin('GET', '/dead-letters?limit=0&cursor=nope&partner=no-such-partner&colour=red');
      expect(res.status).toBe(422);
      expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
        'colour',
        'cursor',
        'limit',
        'partner',
      ]);
    });

    it('requires the admin token', async () => {
      expect((await stack.request('GET', '/v1/admin/dead-letters')).status).toBe(401);
    });
  });

  describe('POST /v1/admin/dead-letters/:id/retry', () => {
    it('requeues with a fresh round of attempts, reopens the lead and enqueues attempt attempts+1', async () => {
      const partner = await fx.partner();
      const { lead, delivery } = await fx.deadLetter({ sourceId: source.id, partnerId: partner.id, attempts: 2 });

      const res = await stack.admin('POST', `/dead-letters/${delivery.id}/retry`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ requeued: 1 });

      const after = await stack.db.delivery.findUniqueOrThrow({ where: { id: delivery.id } });
      expect(after).toMatchObject({
        status: 'pending',
        attempts: 2,
        attemptsBase: 2,
        retries: 1,
        deadLetteredAt: null,
        lastError: 'HTTP 502', // kept: what went wrong last time
      });
      expect(after.nextAttemptAt).not.toBeNull();
      expect(await stack.leadStatus(lead.id)).toBe('routing');
      const events = await stack.db.leadEvent.findMany({ where: { leadId: lead.id } });
      expect(events.map((e) => [e.status, e.partnerId, e.detail])).toEqual([
        ['routing', partner.id, { reason: 'operator retried a dead letter', deliveryId: delivery.id }],
      ]);
      const job = await deliver.getJob(jobIds.deliver(delivery.id, 3));
      expect(job?.data).toEqual({ deliveryId: delivery.id, attempt: 3 });
    });

    it('requeues exactly once when two retries of the same dead letter arrive together; the other is a 409', async () => {
      const partner = await fx.partner();
      const { lead, delivery } = await fx.deadLetter({ sourceId: source.id, partnerId: partner.id });
      const deliveriesBefore = await stack.db.delivery.count({ where: { leadId: lead.id } });

      const answers = await Promise.all([
        stack.admin('POST', `/dead-letters/${delivery.id}/retry`),
        stack.admin('POST', `/dead-letters/${delivery.id}/retry`),
        stack.admin('POST', `/dead-letters/${delivery.id}/retry`),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 409, 409]);
      for (const refused of answers.filter((a) => a.status === 409)) {
        expect(refused.body).toMatchObject({
          status: 'rejected',
          reason: 'not_dead_lettered',
          deliveryStatus: 'pending',
        });
      }
      const after = await stack.db.delivery.findUniqueOrThrow({ where: { id: delivery.id } });
      expect(after.retries).toBe(1);
      expect(await stack.db.delivery.count({ where: { leadId: lead.id } })).toBe(deliveriesBefore);
      const jobs = (await deliver.getJobs(['waiting', 'delayed', 'active', 'prioritized'])).filter(
        (j) => j.data.deliveryId === delivery.id,
      );
      expect(jobs.map((j) => j.id)).toEqual([jobIds.deliver(delivery.id, 3)]);
      const routingEvents = await stack.db.leadEvent.count({ where: { leadId: lead.id, status: 'routing' } });
      expect(routingEvents).toBe(1);
    });

    it('refuses (409 sold) when the lead has since been sold exclusively', async () => {
      const partner = await fx.partner();
      const buyer = await fx.partner();
      const { lead, delivery } = await fx.deadLetter({
        sourceId: source.id,
        partnerId: partner.id,
        leadStatus: 'delivered',
      });
      await fx.delivery({ leadId: lead.id, partnerId: buyer.id, status: 'accepted' });

      const res = await stack.admin('POST', `/dead-letters/${delivery.id}/retry`);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ status: 'rejected', reason: 'sold' });
      expect(res.body.message).toMatch(/sold/);
      const after = await stack.db.delivery.findUniqueOrThrow({ where: { id: delivery.id } });
      expect(after.status).toBe('dead_lettered');
      expect(await stack.leadStatus(lead.id)).toBe('delivered');
      expect(await deliver.getJob(jobIds.deliver(delivery.id, 3))).toBeUndefined();
    });

    it('refuses (409 sold) a superseded dead letter, whatever the lead’s deliveries say now', async () => {
      const partner = await fx.partner();
      // The sale that superseded it was returned since: still no retry, the lead was sold.
      const lead = await fx.lead({ sourceId: source.id, status: 'delivered' });
      const superseded = await fx.delivery({ leadId: lead.id, partnerId: partner.id, status: 'superseded' });
      const res = await stack.admin('POST', `/dead-letters/${superseded.id}/retry`);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ reason: 'sold', deliveryStatus: 'superseded' });
      expect((await stack.db.delivery.findUniqueOrThrow({ where: { id: superseded.id } })).status).toBe('superseded');
      expect(await deliver.getJob(jobIds.deliver(superseded.id, 3))).toBeUndefined();
      const discard = await stack.admin('DELETE', `/dead-letters/${superseded.id}`);
      expect(discard.status).toBe(409);
      expect(discard.body).toMatchObject({ reason: 'not_dead_lettered', deliveryStatus: 'superseded' });
    });

    it('refuses (409 busy) while the lead is out with the next partner, and allows a shared lead with room left', async () => {
      const partner = await fx.partner();
      const next = await fx.partner();
      const busy = await fx.deadLetter({ sourceId: source.id, partnerId: partner.id, leadStatus: 'routing' });
      await fx.delivery({ leadId: busy.lead.id, partnerId: next.id, status: 'pending' });
      const res = await stack.admin('POST', `/dead-letters/${busy.delivery.id}/retry`);
      expect(res.status).toBe(409);
      expect(res.body.reason).toBe('busy');

      // maxDeliveries 2, one partner bought it: one more may.
      const shared = await fx.deadLetter({
        sourceId: source.id,
        partnerId: partner.id,
        leadStatus: 'delivered',
        maxDeliveries: 2,
      });
      await fx.delivery({ leadId: shared.lead.id, partnerId: next.id, status: 'accepted' });
      const ok = await stack.admin('POST', `/dead-letters/${shared.delivery.id}/retry`);
      expect(ok.status).toBe(200);
      expect(await stack.leadStatus(shared.lead.id)).toBe('delivered'); // stays sold
    });

    it('refuses a paused or inactive partner (409), and 404s an unknown id', async () => {
      const paused = await fx.partner({ pausedAt: new Date() });
      const inactive = await fx.partner({ active: false });
      const p = await fx.deadLetter({ sourceId: source.id, partnerId: paused.id });
      const i = await fx.deadLetter({ sourceId: source.id, partnerId: inactive.id });
      const rp = await stack.admin('POST', `/dead-letters/${p.delivery.id}/retry`);
      expect([rp.status, rp.body.reason]).toEqual([409, 'partner_paused']);
      const ri = await stack.admin('POST', `/dead-letters/${i.delivery.id}/retry`);
      expect([ri.status, ri.body.reason]).toEqual([409, 'partner_inactive']);

      expect((await stack.admin('POST', '/dead-letters/00000000-0000-4000-8000-000000000000/retry')).status).toBe(404);
      expect((await stack.admin('POST', '/dead-letters/not-an-id/retry')).status).toBe(404);
    });
  });

  describe('POST /v1/admin/dead-letters/retry', () => {
    it('needs exactly one of partner and all (422 otherwise, every problem listed)', async () => {
      for (const body of [{}, { all: false }, { partner: 'x', all: true }, { all: true, extra: 1 }, { partner: 7 }]) {
        const res = await stack.admin('POST', '/dead-letters/retry', body);
        expect({ body, status: res.status }).toEqual({ body, status: 422 });
      }
      const unknown = await stack.admin('POST', '/dead-letters/retry', { partner: 'no-such-partner' });
      expect(unknown.status).toBe(422);
      expect(unknown.body.errors).toEqual([{ field: '/partner', message: 'no partner has this id or name' }]);
      const both = await stack.admin('POST', '/dead-letters/retry', { all: false, surprise: true });
      expect(both.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['/all', '/surprise']);
    });

    it('requeues a partner’s dead letters, or all, and counts what it skipped and why', async () => {
      const a = await fx.partner({ name: 'bulk-a' });
      const b = await fx.partner({ name: 'bulk-b' });
      const paused = await fx.partner({ name: 'bulk-paused', pausedAt: new Date() });
      const buyer = await fx.partner();
      const ofA = [];
      for (let i = 0; i < 3; i++) ofA.push(await fx.deadLetter({ sourceId: source.id, partnerId: a.id }));
      const ofB = await fx.deadLetter({ sourceId: source.id, partnerId: b.id });
      const sold = await fx.deadLetter({ sourceId: source.id, partnerId: b.id, leadStatus: 'delivered' });
      await fx.delivery({ leadId: sold.lead.id, partnerId: buyer.id, status: 'accepted' });
      await fx.deadLetter({ sourceId: source.id, partnerId: paused.id });

      const byPartner = await stack.admin('POST', '/dead-letters/retry', { partner: 'bulk-a' });
      expect(byPartner.status).toBe(200);
      expect(byPartner.body).toEqual({
        requeued: 3,
        skipped: {
          not_dead_lettered: 0,
          sold: 0,
          busy: 0,
          partner_paused: 0,
          partner_inactive: 0,
          personal_data_erased: 0,
        },
      });
      for (const { delivery } of ofA) expect(await deliver.getJob(jobIds.deliver(delivery.id, 3))).toBeDefined();
      expect(await stack.db.delivery.count({ where: { partnerId: a.id, status: 'pending' } })).toBe(3);

      const all = await stack.admin('POST', '/dead-letters/retry', { all: true });
      expect(all.status).toBe(200);
      expect(all.body).toEqual({
        requeued: 1,
        skipped: {
          not_dead_lettered: 0,
          sold: 1,
          busy: 0,
          partner_paused: 1,
          partner_inactive: 0,
          personal_data_erased: 0,
        },
      });
      expect(await deliver.getJob(jobIds.deliver(ofB.delivery.id, 3))).toBeDefined();
      // What was skipped is still a dead letter, and a second run skips it again.
      const list = await stack.admin('GET', '/dead-letters');
      expect(list.body.items).toHaveLength(2);
      const again = await stack.admin('POST', '/dead-letters/retry', { all: true });
      expect(again.body).toMatchObject({ requeued: 0, skipped: { sold: 1, partner_paused: 1 } });
    });

    it('works in bounded batches, reports progress, never oversells a lead, and leaves newer dead letters alone', async () => {
      const a = await fx.partner();
      const b = await fx.partner();
      const ids = [];
      for (let i = 0; i < 5; i++)
        ids.push((await fx.deadLetter({ sourceId: source.id, partnerId: a.id, at: seconds(i) })).delivery.id);
      // One exclusive lead dead-lettered at two partners: only one may be out at a time.
      const twice = await fx.deadLetter({ sourceId: source.id, partnerId: a.id, at: seconds(10) });
      await fx.delivery({
        leadId: twice.lead.id,
        partnerId: b.id,
        status: 'dead_lettered',
        deadLetteredAt: seconds(11),
      });
      // Dead-lettered after the retry started: not part of it.
      const future = await fx.deadLetter({ sourceId: source.id, partnerId: a.id, at: new Date(Date.now() + 3600_000) });

      const db = createDb({ databaseUrl: stack.database.url });
      const producer = createRedis({ url: stack.env().REDIS_URL!, role: 'worker' });
      const queues = new Queues(producer, stack.prefix);
      try {
        const progress: number[] = [];
        const result = await retryDeadLetters(
          { db, queues },
          {},
          { batchSize: 2, onProgress: (p) => progress.push(p.done) },
        );
        expect(result).toEqual({
          requeued: 6,
          skipped: {
            not_dead_lettered: 0,
            sold: 0,
            busy: 1,
            partner_paused: 0,
            partner_inactive: 0,
            personal_data_erased: 0,
          },
        });
        expect(progress).toEqual([0, 2, 4, 6, 7]);
      } finally {
        await queues.close();
        producer.disconnect();
        await db.$disconnect();
      }
      for (const id of ids)
        expect((await stack.db.delivery.findUniqueOrThrow({ where: { id } })).status).toBe('pending');
      const statuses = await stack.db.delivery.findMany({
        where: { leadId: twice.lead.id },
        orderBy: { deadLetteredAt: 'asc' },
      });
      expect(statuses.map((d) => d.status).sort()).toEqual(['dead_lettered', 'pending']);
      expect((await stack.db.delivery.findUniqueOrThrow({ where: { id: future.delivery.id } })).status).toBe(
        'dead_lettered',
      );
    });
  });

  describe('DELETE /v1/admin/dead-letters/:id', () => {
    it('keeps the delivery in the history as rejected by the operator and hands the lead back to the worker', async () => {
      const partner = await fx.partner();
      const { lead, delivery } = await fx.deadLetter({ sourceId: source.id, partnerId: partner.id });

      const res = await stack.admin('DELETE', `/dead-letters/${delivery.id}`);
      expect(res.status).toBe(204);
      const after = await stack.db.delivery.findUniqueOrThrow({ where: { id: delivery.id } });
      expect(after).toMatchObject({
        status: 'rejected',
        reason: 'discarded by operator',
        attempts: 2,
        lastError: 'HTTP 502',
      });
      expect(after.deadLetteredAt).not.toBeNull();
      const list = await stack.admin('GET', '/dead-letters');
      expect(list.body.items.map((d: { id: string }) => d.id)).not.toContain(delivery.id);
      // The worker settles it (to unsold) and sends the postback; here no worker runs.
      expect(await stack.leadStatus(lead.id)).toBe('routing');
      expect(await route.getJob(jobIds.route(lead.id))).toBeDefined();

      const again = await stack.admin('DELETE', `/dead-letters/${delivery.id}`);
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ reason: 'not_dead_lettered', deliveryStatus: 'rejected' });
      expect((await stack.admin('POST', `/dead-letters/${delivery.id}/retry`)).status).toBe(409);
      expect((await stack.admin('DELETE', '/dead-letters/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    });

    it('leaves a lead with another dead letter dead_lettered', async () => {
      const a = await fx.partner();
      const b = await fx.partner();
      const { lead, delivery } = await fx.deadLetter({ sourceId: source.id, partnerId: a.id });
      await fx.delivery({ leadId: lead.id, partnerId: b.id, status: 'dead_lettered' });
      expect((await stack.admin('DELETE', `/dead-letters/${delivery.id}`)).status).toBe(204);
      expect(await stack.leadStatus(lead.id)).toBe('dead_lettered');
      expect(await route.getJob(jobIds.route(lead.id))).toBeUndefined();
    });
  });
  describe('POST /v1/admin/dead-letters/discard', () => {
    it('needs exactly one of partner and all (422 otherwise, every problem listed)', async () => {
      for (const body of [{}, { all: false }, { partner: 'x', all: true }, { all: true, extra: 1 }, { partner: 7 }]) {
        const res = await stack.admin('POST', '/dead-letters/discard', body);
        expect({ body, status: res.status }).toEqual({ body, status: 422 });
      }
      const none = await stack.admin('POST', '/dead-letters/discard', {});
      expect(none.body.errors).toEqual([
        { field: '/', message: 'give "partner" (an id or name), or "all": true to discard every dead letter' },
      ]);
      const unknown = await stack.admin('POST', '/dead-letters/discard', { partner: 'no-such-partner' });
      expect(unknown.body.errors).toEqual([{ field: '/partner', message: 'no partner has this id or name' }]);
      expect((await stack.request('POST', '/v1/admin/dead-letters/discard', { body: { all: true } })).status).toBe(401);
    });

    it('discards a partner’s dead letters, or all, keeps them in the history, and hands settled leads back to the worker', async () => {
      const a = await fx.partner({ name: 'discard-a' });
      const b = await fx.partner({ name: 'discard-b' });
      const ofA = [];
      for (let i = 0; i < 3; i++) ofA.push(await fx.deadLetter({ sourceId: source.id, partnerId: a.id }));
      // A lead dead-lettered at both: it settles only once neither is left.
      await fx.delivery({ leadId: ofA[0]!.lead.id, partnerId: b.id, status: 'dead_lettered' });
      const ofB = await fx.deadLetter({ sourceId: source.id, partnerId: b.id });
      // A delivered (shared) lead's dead letter: discarded, the lead stays delivered.
      const shared = await fx.deadLetter({
        sourceId: source.id,
        partnerId: b.id,
        leadStatus: 'delivered',
        maxDeliveries: 2,
      });
      const sold = await fx.lead({ sourceId: source.id, status: 'delivered' });
      const superseded = await fx.delivery({ leadId: sold.id, partnerId: a.id, status: 'superseded' });

      const byPartner = await stack.admin('POST', '/dead-letters/discard', { partner: 'discard-a' });
      expect(byPartner.status).toBe(200);
      expect(byPartner.body).toEqual({ discarded: 3, skipped: { not_dead_lettered: 0 }, settling: 2 });
      for (const { delivery } of ofA) {
        expect(await stack.db.delivery.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({
          status: 'rejected',
          reason: 'discarded by operator',
          attempts: 2,
          lastError: 'HTTP 502',
        });
      }
      expect(await stack.leadStatus(ofA[0]!.lead.id)).toBe('dead_lettered'); // its dead letter at b is left
      for (const { lead } of ofA.slice(1)) {
        expect(await stack.leadStatus(lead.id)).toBe('routing');
        expect(await route.getJob(jobIds.route(lead.id))).toBeDefined();
        const events = await stack.db.leadEvent.findMany({ where: { leadId: lead.id } });
        expect(events.map((e) => [e.status, e.partnerId, (e.detail as { reason: string }).reason])).toEqual([
          ['routing', a.id, 'operator discarded a dead letter'],
        ]);
      }
      expect(await route.getJob(jobIds.route(ofA[0]!.lead.id))).toBeUndefined();
      expect((await stack.db.delivery.findUniqueOrThrow({ where: { id: superseded.id } })).status).toBe('superseded');

      const all = await stack.admin('POST', '/dead-letters/discard', { all: true });
      expect(all.body).toEqual({ discarded: 3, skipped: { not_dead_lettered: 0 }, settling: 2 });
      expect(await stack.leadStatus(ofA[0]!.lead.id)).toBe('routing');
      expect(await stack.leadStatus(ofB.lead.id)).toBe('routing');
      expect(await stack.leadStatus(shared.lead.id)).toBe('delivered');
      expect((await stack.admin('GET', '/dead-letters')).body.items).toEqual([]);
      const again = await stack.admin('POST', '/dead-letters/discard', { all: true });
      expect(again.body).toEqual({ discarded: 0, skipped: { not_dead_lettered: 0 }, settling: 0 });
    });

    it('works in bounded batches, reports progress, and leaves newer dead letters alone', async () => {
      const a = await fx.partner();
      const ids = [];
      for (let i = 0; i < 5; i++)
        ids.push((await fx.deadLetter({ sourceId: source.id, partnerId: a.id, at: seconds(i) })).delivery.id);
      const future = await fx.deadLetter({ sourceId: source.id, partnerId: a.id, at: new Date(Date.now() + 3600_000) });

      const db = createDb({ databaseUrl: stack.database.url });
      const producer = createRedis({ url: stack.env().REDIS_URL!, role: 'worker' });
      const queues = new Queues(producer, stack.prefix);
      try {
        const progress: [number, number, number][] = [];
        const result = await discardDeadLetters(
          { db, queues },
          { partner: { id: a.id, name: a.name } },
          { batchSize: 2, onProgress: (p) => progress.push([p.done, p.total, p.discarded]) },
        );
        expect(result).toEqual({ discarded: 5, skipped: { not_dead_lettered: 0 }, settling: 5 });
        expect(progress).toEqual([
          [0, 5, 0],
          [2, 5, 2],
          [4, 5, 4],
          [5, 5, 5],
        ]);
      } finally {
        await queues.close();
        producer.disconnect();
        await db.$disconnect();
      }
      for (const id of ids)
        expect((await stack.db.delivery.findUniqueOrThrow({ where: { id } })).status).toBe('rejected');
      expect((await stack.db.delivery.findUniqueOrThrow({ where: { id: future.delivery.id } })).status).toBe(
        'dead_lettered',
      );
    });
  });
});
