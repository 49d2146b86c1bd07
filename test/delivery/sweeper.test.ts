// The sweeper, called directly at a fixed moment, against rows written
// straight to PostgreSQL: which leads, deliveries and postbacks it puts back
// on the queue, with which job, and that a second round adds nothing.
import { jobIds } from '@leadrouter/queue';
import type { WorkerDeps } from '../../services/worker/src/deps';
import { PENDING_GRACE_MS, QUEUED_GRACE_MS, ROUTING_GRACE_MS, sweep } from '@leadrouter/lifecycle';
import { Fixtures } from '../support/fixtures';
import { TestStack } from '../support/stack';

describe('the sweeper', () => {
  const stack = new TestStack({ worker: false });
  const now = new Date('2030-01-01T12:00:00Z');
  const ago = (ms: number) => new Date(now.getTime() - ms);
  let deps: WorkerDeps;
  let fixtures: Fixtures;

  beforeAll(async () => {
    await stack.start();
    fixtures = new Fixtures(stack.db);
    deps = stack.directWorkerDeps({ now: () => now });
  });
  afterAll(async () => {
    for (const queue of deps.queues.all()) await queue.obliterate({ force: true });
    await stack.stop();
  });

  /** Sets a lead's, delivery's or postback's timestamps as Prisma would not let a create. */
  const at = (table: 'leads' | 'deliveries' | 'postbacks', id: string, column: string, value: Date | null) =>
    stack.db.$executeRawUnsafe(`UPDATE ${table} SET ${column} = $1 WHERE id = $2::uuid`, value, id);

  it('requeues what PostgreSQL says is due, each with its next attempt, and nothing twice', async () => {
    const source = await fixtures.source();
    const partner = await fixtures.partner();
    const paused = await fixtures.partner({ pausedAt: ago(3_600_000) });
    const inactive = await fixtures.partner({ active: false });

    // Leads `queued` past the grace period, and one just inside it.
    const queuedOld = await fixtures.lead({
      sourceId: source.id,
      status: 'queued',
      createdAt: ago(QUEUED_GRACE_MS + 1),
    });
    await fixtures.lead({ sourceId: source.id, status: 'queued', createdAt: ago(QUEUED_GRACE_MS - 1) });

    // Pending deliveries: long past due, just past due, parked (no due time) with the partner resumed, paused
    // or inactive.
    const lead = async () => {
      const l = await fixtures.lead({ sourceId: source.id, status: 'routing' });
      await at('leads', l.id, 'updated_at', now);
      return l;
    };
    const overdue = await fixtures.delivery({
      leadId: (await lead()).id,
      partnerId: partner.id,
      status: 'pending',
      attempts: 2,
    });
    await at('deliveries', overdue.id, 'next_attempt_at', ago(PENDING_GRACE_MS + 1));
    const due = await fixtures.delivery({ leadId: (await lead()).id, partnerId: partner.id, status: 'pending' });
    await at('deliveries', due.id, 'next_attempt_at', ago(PENDING_GRACE_MS - 1));
    const parked = await fixtures.delivery({
      leadId: (await lead()).id,
      partnerId: partner.id,
      status: 'pending',
      attempts: 3,
    });
    await at('deliveries', parked.id, 'next_attempt_at', null);
    await at('deliveries', parked.id, 'updated_at', ago(PENDING_GRACE_MS + 1));
    const parkedRecently = await fixtures.delivery({
      leadId: (await lead()).id,
      partnerId: partner.id,
      status: 'pending',
    });
    await at('deliveries', parkedRecently.id, 'next_attempt_at', null);
    await at('deliveries', parkedRecently.id, 'updated_at', ago(PENDING_GRACE_MS - 1));
    const parkedPaused = await fixtures.delivery({
      leadId: (await lead()).id,
      partnerId: paused.id,
      status: 'pending',
    });
    await at('deliveries', parkedPaused.id, 'next_attempt_at', null);
    await at('deliveries', parkedPaused.id, 'updated_at', ago(PENDING_GRACE_MS + 1));
    const parkedInactive = await fixtures.delivery({
      leadId: (await lead()).id,
      partnerId: inactive.id,
      status: 'pending',
    });
    await at('deliveries', parkedInactive.id, 'next_attempt_at', null);
    await at('deliveries', parkedInactive.id, 'updated_at', ago(PENDING_GRACE_MS + 1));

    // Leads `routing` with nothing pending (stuck), a recent one, and an old one still waiting for a delivery.
    const stuck = await fixtures.lead({ sourceId: source.id, status: 'routing' });
    await fixtures.delivery({ leadId: stuck.id, partnerId: partner.id, status: 'rejected' });
    await at('leads', stuck.id, 'updated_at', ago(ROUTING_GRACE_MS + 1));
    const routingRecently = await fixtures.lead({ sourceId: source.id, status: 'routing' });
    await at('leads', routingRecently.id, 'updated_at', ago(ROUTING_GRACE_MS - 1));
    const waiting = await fixtures.lead({ sourceId: source.id, status: 'routing' });
    const waitingDelivery = await fixtures.delivery({ leadId: waiting.id, partnerId: partner.id, status: 'pending' });
    await at('deliveries', waitingDelivery.id, 'next_attempt_at', now);
    await at('leads', waiting.id, 'updated_at', ago(ROUTING_GRACE_MS + 1));

    // Postbacks: pending and overdue, pending and just due, delivered.
    const settledLead = await fixtures.lead({ sourceId: source.id, status: 'delivered' });
    const postback = (
      leadStatus: 'delivered' | 'unsold' | 'unmatched',
      status: 'pending' | 'delivered',
      attempts: number,
    ) =>
      stack.db.postback.create({ data: { leadId: settledLead.id, sourceId: source.id, leadStatus, status, attempts } });
    const postbackOverdue = await postback('delivered', 'pending', 1);
    await at('postbacks', postbackOverdue.id, 'next_attempt_at', ago(PENDING_GRACE_MS + 1));
    const postbackDue = await postback('unsold', 'pending', 0);
    await at('postbacks', postbackDue.id, 'next_attempt_at', ago(PENDING_GRACE_MS - 1));
    const postbackDone = await postback('unmatched', 'delivered', 1);
    await at('postbacks', postbackDone.id, 'next_attempt_at', ago(PENDING_GRACE_MS + 1));

    expect(await sweep(deps)).toEqual({ leads: 1, deliveries: 2, advanced: 1, postbacks: 1 });

    /** The jobs waiting in a queue, by id. */
    const jobs = async (queue: 'route' | 'deliver' | 'postback') =>
      Object.fromEntries((await deps.queues[queue].getJobs(['waiting', 'delayed'])).map((j) => [j.id, j.data]));
    expect(await jobs('route')).toEqual({
      [jobIds.route(queuedOld.id)]: { leadId: queuedOld.id },
      [jobIds.route(stuck.id)]: { leadId: stuck.id },
    });
    expect(await jobs('deliver')).toEqual({
      [jobIds.deliver(overdue.id, 3)]: { deliveryId: overdue.id, attempt: 3 },
      [jobIds.deliver(parked.id, 4)]: { deliveryId: parked.id, attempt: 4 },
    });
    expect(await jobs('postback')).toEqual({
      [jobIds.postback(postbackOverdue.id, 2)]: { postbackId: postbackOverdue.id, attempt: 2 },
    });

    // The jobs are there now: the next round adds nothing.
    expect(await sweep(deps)).toEqual({ leads: 0, deliveries: 0, advanced: 0, postbacks: 0 });
  });
});
