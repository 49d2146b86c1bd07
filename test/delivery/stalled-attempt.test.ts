import { jobIds } from '@leadrouter/queue';
import { sweep, type InFlight } from '@leadrouter/lifecycle';
import { deliverAttempt } from '../../services/worker/src/deliver';
import type { WorkerDeps } from '../../services/worker/src/deps';
import { PartnerSlots } from '../../services/worker/src/partner-slots';
import { FakePartner, type PartnerReply } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * An attempt in flight is leased to the job making it (ADR 0001, "At-least-once delivery"): a job that runs
 * meanwhile — BullMQ taking the job for stalled because its worker did not renew the lock in time, the route
 * job's repeat, the sweeper — does not send the lead a second time; it looks again once the lease has ended.
 * After a crash the lease runs out and the lead is sent again (crash.test.ts).
 */
describe('an attempt in flight while its job is run again', () => {
  const stack = new TestStack({ worker: false });
  const workers: ServiceProcess[] = [];
  let partner: FakePartner | undefined;
  let answerHeld: (reply: PartnerReply) => void = () => undefined;
  let key: string;
  let direct: WorkerDeps;

  beforeAll(async () => {
    await stack.start();
    key = (await stack.createSource({ payout: { model: 'cpl', amount: 4 } })).apiKey;
    direct = stack.directWorkerDeps();
  });
  afterAll(async () => {
    for (const w of workers) w.proc?.kill('SIGCONT');
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    answerHeld({ status: 200, body: { accepted: true } });
    await partner?.stop();
    await stack.stop();
  });

  it('is not sent again by the worker that took its job over while the first worker was frozen', async () => {
    // The first request is held open until the test answers it; any later one would be accepted at once.
    const held = new Promise<PartnerReply>((resolve) => (answerHeld = resolve));
    partner = await new FakePartner((_req, i) => (i === 0 ? held : { status: 200, body: { accepted: true } })).start();
    // The lease (timeoutMs + 5 s) outlasts the freeze below: the takeover comes 5–20 s after it began.
    const timeoutMs = 40_000;
    const p = await stack.createPartner({ url: partner.url, timeoutMs, maxAttempts: 3, price: 11 });
    await stack.createRoute({ partners: [{ partnerId: p.id }] });

    const env = { ...stack.env(), WORKER_CONCURRENCY: '4', LOG_LEVEL: 'info' };
    const [first, second] = [new ServiceProcess('worker', env), new ServiceProcess('worker', env)];
    workers.push(first, second);
    await Promise.all([first.start(), second.start()]);
    // The second worker is frozen while the lead is routed, so the first is the one sending it.
    second.proc!.kill('SIGSTOP');
    const res = await stack.request('POST', '/v1/leads', { key, body: sampleLead() });
    expect(res.status).toBe(202);
    const leadId: string = res.body.id;
    await waitFor(() => partner!.requests.length === 1, { what: 'the first worker to send the lead' });
    const delivery = await stack.db.delivery.findFirstOrThrow({ where: { leadId } });
    const sentAt = partner.requests[0]!.at;

    // The first worker freezes with the request in flight (as an event loop blocked past the job's lock, or a
    // worker cut off from Redis): it renews no lock, and the second takes its route job over as stalled.
    first.proc!.kill('SIGSTOP');
    second.proc!.kill('SIGCONT');
    await waitFor(() => second.output.includes('a job stalled'), {
      timeoutMs: 30_000,
      what: 'the second worker to take the route job over as stalled',
    });
    // Its repeat, finding the lead routing, queued the pending delivery: delayed until the lease ends.
    const resumed = await waitFor(() => direct.queues.deliver.getJob(jobIds.deliver(delivery.id, 1)), {
      timeoutMs: 15_000,
      what: 'the route job’s repeat to queue the delivery',
    });
    expect(await resumed.getState()).toBe('delayed');
    expect(resumed.timestamp + resumed.delay).toBeGreaterThanOrEqual(sentAt + timeoutMs);

    // A deliver job run now (a stalled deliver job taken over) waits for the lease instead of sending.
    const step = (await deliverAttempt(direct, { deliveryId: delivery.id, attempt: 1 })) as InFlight;
    expect(step).toMatchObject({ step: 'in_flight' });
    expect(step.until.getTime()).toBeGreaterThanOrEqual(sentAt + timeoutMs);
    // Nor does the sweeper take the delivery for lost, 40 s on (its due time is the lease's end).
    expect(await sweep({ ...direct, now: () => new Date(Date.now() + 40_000) })).toMatchObject({ deliveries: 0 });
    expect(partner.requests).toHaveLength(1);

    // The first worker wakes up, the partner answers it, and it records the sale.
    first.proc!.kill('SIGCONT');
    answerHeld({ status: 200, body: { accepted: true } });
    await waitFor(async () => (await stack.leadStatus(leadId)) === 'delivered', { what: 'the lead to be delivered' });

    // Once the lease has ended the queued job runs, finds the attempt recorded, and is done without sending.
    await waitFor(async () => !(await direct.queues.deliver.getJob(jobIds.deliver(delivery.id, 1))), {
      timeoutMs: timeoutMs + 30_000,
      intervalMs: 250,
      what: 'the delayed deliver job to run and finish',
    });
    expect(partner.requests).toHaveLength(1);
    const recorded = await stack.db.delivery.findUniqueOrThrow({
      where: { id: delivery.id },
      include: { attemptLog: true },
    });
    expect(recorded).toMatchObject({ status: 'accepted', attempts: 1, nextAttemptAt: null });
    expect(recorded.attemptLog.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'accepted']]);
    const ledger = await stack.db.ledgerEntry.findMany({ where: { leadId }, orderBy: { party: 'asc' } });
    expect(ledger.map((e) => [e.party, e.kind, e.amount.toString()])).toEqual([
      ['partner', 'sale', '11'],
      ['source', 'sale', '4'],
    ]);
  }, 180_000);

  it('is given back by a first attempt whose partner has no free slot: its deliver job sends it once there is one', async () => {
    // The workers of the first test run on. The partner's one slot is taken here, as another request would.
    const timeoutMs = 60_000;
    const ready = await new FakePartner(() => ({ status: 200, body: { accepted: true } })).start();
    try {
      const p = await stack.createPartner({ url: ready.url, timeoutMs, concurrency: 1, price: 11 });
      await stack.createRoute({ priority: 1, filters: { geo: ['CA'] }, partners: [{ partnerId: p.id }] });
      const release = await new PartnerSlots(direct.redis, stack.prefix).tryAcquire(p.id, 1, timeoutMs);
      expect(release).not.toBeNull();
      const res = await stack.request('POST', '/v1/leads', {
        key,
        body: sampleLead({ geo: 'CA', phone: '+1 415 555 0177', email: 'busy@example.com' }),
      });
      expect(res.status).toBe(202);
      const leadId: string = res.body.id;
      const delivery = await waitFor(() => stack.db.delivery.findFirst({ where: { leadId } }), {
        what: 'the lead to be routed',
      });
      // The route job found no slot: its deliver job is queued (after a busy delay), and the lease taken with
      // the offer was given back — the delivery is due, not leased for the partner's 60 s.
      await waitFor(() => direct.queues.deliver.getJob(jobIds.deliver(delivery.id, 1)), {
        what: 'the busy delivery to be queued',
      });
      const busy = await stack.db.delivery.findUniqueOrThrow({ where: { id: delivery.id } });
      expect(busy).toMatchObject({ status: 'pending', attempts: 0 });
      expect(busy.nextAttemptAt!.getTime()).toBeLessThanOrEqual(Date.now());
      expect(ready.requests).toHaveLength(0);

      await release!();
      await waitFor(async () => (await stack.leadStatus(leadId)) === 'delivered', {
        what: 'the deliver job to send the lead once the slot is free',
      });
      expect(ready.requests).toHaveLength(1);
    } finally {
      await ready.stop();
    }
  });

  it('is not sent again by a job of the same process, even once its lease has passed (its answer is not recorded yet)', async () => {
    const slow = await new FakePartner(() => new Promise<PartnerReply>((resolve) => (answerHeld = resolve))).start();
    try {
      const p = await stack.createPartner({ url: slow.url, timeoutMs: 5_000 });
      const source = await stack.db.source.findFirstOrThrow();
      const lead = await stack.db.lead.create({
        data: { sourceId: source.id, status: 'routing', name: 'Jane', phone: '+14155550199' },
      });
      const delivery = await stack.db.delivery.create({
        data: { leadId: lead.id, partnerId: p.id, nextAttemptAt: new Date() },
      });
      const job = { deliveryId: delivery.id, attempt: 1 };
      const first = deliverAttempt(direct, job);
      await waitFor(() => slow.requests.length === 1, { what: 'the first attempt to be sent' });
      // Its lease is in PostgreSQL: the partner's timeout and the margin.
      const leased = await stack.db.delivery.findUniqueOrThrow({ where: { id: delivery.id } });
      expect(leased.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(slow.requests[0]!.at + 5_000);

      // A job of this process whose clock says the lease is over: the attempt is still this process's.
      const later = stack.directWorkerDeps({ now: () => new Date(Date.now() + 60_000) });
      const step = await deliverAttempt(later, job);
      expect(step).toMatchObject({ step: 'in_flight' });
      expect(slow.requests).toHaveLength(1);

      answerHeld({ status: 200, body: { accepted: true } });
      expect(await first).toBe('accepted');
      expect(await deliverAttempt(later, job)).toBe('stale');
      expect(slow.requests).toHaveLength(1);
    } finally {
      answerHeld({ status: 200 });
      await slow.stop();
    }
  });
});
