import { createLogger } from '@leadrouter/config';
import type { Prisma } from '@leadrouter/db';
import { deliverAttempt } from '../../services/worker/src/deliver';
import type { WorkerDeps } from '../../services/worker/src/deps';
import { routeLead } from '../../services/worker/src/route-lead';
import { FakePartner } from '../support/partner';
import { TestStack } from '../support/stack';

/**
 * The worker reads `leads.routing` back through core's `readRoutingRecord`
 * (docs/decisions/0021-pure-lifecycle-decisions.md): a record written before
 * records had a version is read as version 1; one it cannot read (a newer
 * version) leaves the lead as it is, with an error in the log, and fails
 * nothing.
 */
describe('the routing record read back by the worker', () => {
  const stack = new TestStack({ worker: false });
  let partner: FakePartner;
  let direct: WorkerDeps;
  let logged: Record<string, unknown>[];
  let sourceId: string;
  let partnerId: string;

  beforeAll(async () => {
    await stack.start();
    partner = await new FakePartner(() => ({ status: 200, body: { accepted: true } })).start();
    sourceId = (await stack.createSource()).id;
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

  /** A lead routing to `partnerId` with `routing` stored as given, and its pending delivery. */
  async function routingLead(routing: Prisma.InputJsonObject) {
    const lead = await stack.db.lead.create({
      data: { sourceId, status: 'routing', name: 'Jane', phone: '+14155550142', routing },
    });
    const delivery = await stack.db.delivery.create({
      data: { leadId: lead.id, partnerId, nextAttemptAt: new Date() },
    });
    return { leadId: lead.id, deliveryId: delivery.id };
  }

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

  it('leaves a lead whose record is of a newer version as it is, saying why', async () => {
    const newer = { ...record(), version: 2 };
    const { leadId, deliveryId } = await routingLead(newer);
    await expect(routeLead(direct, leadId)).resolves.toBeUndefined();
    // The attempt is made and recorded; the lead is not moved on from a record the worker cannot read.
    expect(await deliverAttempt(direct, { deliveryId, attempt: 1 })).toBe('accepted');
    const lead = await stack.db.lead.findUniqueOrThrow({ where: { id: leadId } });
    expect(lead).toMatchObject({ status: 'routing', routing: newer });
    expect(await stack.db.delivery.findUniqueOrThrow({ where: { id: deliveryId } })).toMatchObject({
      status: 'accepted',
    });
    const errors = logged.filter((l) => l.leadId === leadId && l.level === 50);
    expect(errors).toHaveLength(2);
    for (const e of errors)
      expect(e).toMatchObject({
        msg: 'the lead’s routing record cannot be read: left as it is',
        reason: 'the routing record is version 2, newer than this leadrouter reads (1)',
      });
  });
});
