import { createLogger } from '@leadrouter/config';
import type { Prisma } from '@leadrouter/db';
import { deliverAttempt } from '../../services/worker/src/deliver';
import type { WorkerDeps } from '../../services/worker/src/deps';
import { routeLead } from '../../services/worker/src/route-lead';
import { jobIds } from '@leadrouter/queue';
import { FakePartner } from '../support/partner';
import { TestStack } from '../support/stack';

/**
 * The worker reads `leads.routing` back through core's `readRoutingRecord`
 * (docs/decisions/0021-pure-lifecycle-decisions.md): a record written before
 * records had a version is read as version 1; a routing lead whose record
 * it cannot read (a newer version) is settled from what it has — `delivered`
 * when a partner bought it, else `dead_lettered` — once no delivery is
 * pending, with an event and an error in the log that say why, its record
 * kept as stored; nothing fails.
 */
describe('the routing record read back by the worker', () => {
  const stack = new TestStack({ worker: false });
  let partner: FakePartner;
  let direct: WorkerDeps;
  let logged: Record<string, unknown>[];
  let sourceId: string;
  let partnerId: string;
  /** A source with a postback URL (nothing listens there: postbacks are only counted here). */
  let reportingSourceId: string;

  beforeAll(async () => {
    await stack.start();
    partner = await new FakePartner(() => ({ status: 200, body: { accepted: true } })).start();
    sourceId = (await stack.createSource()).id;
    reportingSourceId = (await stack.createSource({ postbackUrl: 'https://postbacks.example.com/leads' })).id;
    partnerId = (await stack.createPartner({ url: partner.url })).id;
    logged = [];
    const log = createLogger(
      { name: 'worker', level: 'info', pretty: false },
      { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) },
    );
    direct = { ...stack.directWorkerDeps(), log };
  });
  afterAll(async () => {
    await partner.stop();
    await stack.stop();
  });

  /** A lead routing to `partnerId` with `routing` stored as given, and its delivery (pending unless said). */
  async function routingLead(
    routing: Prisma.InputJsonObject,
    opts: { source?: string; delivery?: 'pending' | 'rejected' | 'none' } = {},
  ) {
    const lead = await stack.db.lead.create({
      data: { sourceId: opts.source ?? sourceId, status: 'routing', name: 'Jane', phone: '+14155550142', routing },
    });
    if (opts.delivery === 'none') return { leadId: lead.id, deliveryId: '' };
    const delivery = await stack.db.delivery.create({
      data: { leadId: lead.id, partnerId, nextAttemptAt: new Date(), status: opts.delivery ?? 'pending' },
    });
    return { leadId: lead.id, deliveryId: delivery.id };
  }

  const NEWER = 'the routing record is version 2, newer than this leadrouter reads (1)';
  const errorsOf = (leadId: string) => logged.filter((l) => l.leadId === leadId && l.level === 50);
  const eventsOf = (leadId: string) =>
    stack.db.leadEvent.findMany({ where: { leadId }, orderBy: { id: 'asc' }, select: { status: true, detail: true } });

  const record = () => ({
    routeName: 'main',
    strategy: 'priority',
    maxDeliveries: 1,
    candidates: [partnerId],
    decisions: [{ partnerId, decision: 'offered', at: new Date().toISOString() }],
  });

  it('reads a record without a version as version 1, and writes it back with one', async () => {
    const { leadId, deliveryId } = await routingLead(record());
    expect(await deliverAttempt(direct, { deliveryId, attempt: 1 })).toBe('accepted');
    const lead = await stack.db.lead.findUniqueOrThrow({ where: { id: leadId } });
    expect(lead.status).toBe('delivered');
    expect(lead.routing).toMatchObject({
      version: 1,
      routeName: 'main',
      decisions: [{ partnerId, decision: 'accepted' }],
    });
  });

  it('lets the pending delivery of a lead whose record is of a newer version go on, then settles it delivered', async () => {
    const newer = { ...record(), version: 2 };
    const { leadId, deliveryId } = await routingLead(newer);
    // A repeat of its route job: the pending delivery is put back on the queue; the lead waits for it.
    await expect(routeLead(direct, leadId)).resolves.toBeUndefined();
    expect(await direct.queues.deliver.getJob(jobIds.deliver(deliveryId, 1))).toBeDefined();
    expect(await stack.db.lead.findUniqueOrThrow({ where: { id: leadId } })).toMatchObject({ status: 'routing' });
    // The partner buys it: the lead is sold, whatever the record says, and the record stays as stored.
    expect(await deliverAttempt(direct, { deliveryId, attempt: 1 })).toBe('accepted');
    const lead = await stack.db.lead.findUniqueOrThrow({ where: { id: leadId } });
    expect(lead).toMatchObject({ status: 'delivered', routing: newer });
    expect(await eventsOf(leadId)).toEqual([
      { status: 'delivered', detail: { error: `the routing record cannot be read: ${NEWER}` } },
    ]);
    expect(errorsOf(leadId)).toEqual([
      expect.objectContaining({
        msg: 'the lead’s routing record cannot be read: it settles once no delivery is pending',
        reason: NEWER,
      }),
      expect.objectContaining({
        msg: 'the lead’s routing record cannot be read: settled delivered',
        reason: NEWER,
        status: 'delivered',
      }),
    ]);
  });

  it('settles dead_lettered a lead whose record cannot be read and that nobody bought, with its postback', async () => {
    const newer = { ...record(), version: 2 };
    const rejected = await routingLead(newer, { delivery: 'rejected', source: reportingSourceId });
    const none = await routingLead(newer, { delivery: 'none' });
    for (const { leadId } of [rejected, none]) {
      await expect(routeLead(direct, leadId)).resolves.toBeUndefined();
      expect(await stack.db.lead.findUniqueOrThrow({ where: { id: leadId } })).toMatchObject({
        status: 'dead_lettered',
        routing: newer,
      });
      expect(await eventsOf(leadId)).toEqual([
        { status: 'dead_lettered', detail: { error: `the routing record cannot be read: ${NEWER}` } },
      ]);
      expect(errorsOf(leadId)).toEqual([
        expect.objectContaining({ msg: 'the lead’s routing record cannot be read: settled dead_lettered' }),
      ]);
    }
    // The source with a postback URL is told; a repeat changes nothing.
    expect(await stack.db.postback.findMany({ where: { leadId: rejected.leadId } })).toEqual([
      expect.objectContaining({ leadStatus: 'dead_lettered', status: 'pending' }),
    ]);
    await routeLead(direct, rejected.leadId);
    expect(await stack.db.postback.count({ where: { leadId: rejected.leadId } })).toBe(1);
    expect(await stack.db.leadEvent.count({ where: { leadId: rejected.leadId } })).toBe(1);
  });

  it('settles dead_lettered a lead whose record cannot be read when its last pending delivery is rejected', async () => {
    partner.respondWith(() => ({ status: 400, body: { error: 'not buying' } }));
    try {
      const { leadId, deliveryId } = await routingLead({ ...record(), version: 2 });
      expect(await deliverAttempt(direct, { deliveryId, attempt: 1 })).toBe('rejected');
      expect(await stack.db.lead.findUniqueOrThrow({ where: { id: leadId } })).toMatchObject({
        status: 'dead_lettered',
      });
    } finally {
      partner.respondWith(() => ({ status: 200, body: { accepted: true } }));
    }
  });
});
