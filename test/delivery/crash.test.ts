import { deliverAttempt } from '../../services/worker/src/deliver';
import type { WorkerDeps } from '../../services/worker/src/deps';
import { LOCK } from '../../services/worker/src/worker';
import { FakePartner, type PartnerReply } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * At-least-once delivery (ADR 0001): a worker killed mid-delivery leaves the
 * delivery to another worker, which sends it again with the same
 * Idempotency-Key; an attempt already recorded is never sent again.
 */

describe('a worker killed mid-delivery', () => {
  const stack = new TestStack({ worker: false });
  const workers: ServiceProcess[] = [];
  let partner: FakePartner;
  let answerHeld: (reply: PartnerReply) => void = () => undefined;
  let key: string;

  beforeAll(async () => {
    await stack.start();
    key = (await stack.createSource({ payout: { model: 'cpl', amount: 4 } })).apiKey;
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    answerHeld({ status: 200 });
    await partner?.stop();
    await stack.stop();
  });

  it('is sent again by another worker within the lock bound, with the same Idempotency-Key, and accepted once', async () => {
    // The first request is held open (the worker sending it is killed while it waits); later ones are accepted.
    const held = new Promise<PartnerReply>((resolve) => (answerHeld = resolve));
    partner = await new FakePartner((_req, i) => (i === 0 ? held : { status: 200, body: { accepted: true } })).start();
    // concurrency 1: the dead worker's slot is the partner's only one, so the redelivery also waits for it to
    // expire (timeoutMs + 5 s after it was taken).
    const timeoutMs = 3_000;
    const p = await stack.createPartner({ url: partner.url, timeoutMs, concurrency: 1, maxAttempts: 3, price: 11 });
    await stack.createRoute({ partners: [{ partnerId: p.id }] });

    const env = { ...stack.env(), WORKER_CONCURRENCY: '4', LOG_LEVEL: 'info' };
    const [first, second] = [new ServiceProcess('worker', env), new ServiceProcess('worker', env)];
    workers.push(first, second);
    await Promise.all([first.start(), second.start()]);
    // The second worker is frozen (SIGSTOP) while the lead is sent, so the first is the one holding the request.
    second.proc!.kill('SIGSTOP');

    const res = await stack.request('POST', '/v1/leads', { key, body: sampleLead() });
    expect(res.status).toBe(202);
    const leadId: string = res.body.id;
    await waitFor(() => partner.requests.length === 1, { what: 'the first worker to send the lead' });

    second.proc!.kill('SIGCONT');
    const killedAt = Date.now();
    expect(await first.stop('SIGKILL')).toBeNull(); // no exit code: killed by the signal
    // It was still waiting for the partner: it recorded nothing.
    expect(await stack.db.deliveryAttempt.count()).toBe(0);

    await waitFor(() => partner.requests.length >= 2, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: 'another worker to send the delivery again',
    });
    const redeliveredAfterMs = partner.requests[1]!.at - killedAt;
    // The documented bound (ADR 0001): the job lock expires and a stalled check hands the job over, and the
    // dead worker's partner slot has expired (timeoutMs + 5 s after it was taken), plus one busy delay.
    const bound = Math.max(LOCK.lockDuration + 2 * LOCK.stalledInterval, timeoutMs + 5_000) + 1_000;
    expect(redeliveredAfterMs).toBeLessThanOrEqual(bound + 1_000);

    const [sent, resent] = partner.requests;
    expect(resent!.headers['idempotency-key']).toBe(sent!.headers['idempotency-key']);
    expect(resent!.headers['x-lead-id']).toBe(leadId);
    expect(sent!.headers['x-lead-id']).toBe(leadId);
    expect(resent!.body).toBe(sent!.body);

    await waitFor(async () => (await stack.leadStatus(leadId)) === 'delivered', { what: 'the lead to be delivered' });
    const deliveries = await stack.db.delivery.findMany({ where: { leadId }, include: { attemptLog: true } });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ status: 'accepted', attempts: 1 });
    // The killed worker recorded nothing: the one attempt on record is the redelivery's.
    expect(deliveries[0]!.attemptLog.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'accepted']]);
    // The sale was written once, with the accepted attempt: the partner's price and the source's cpl.
    const ledger = await stack.db.ledgerEntry.findMany({ where: { leadId }, orderBy: { party: 'asc' } });
    expect(ledger.map((e) => [e.party, e.kind, e.amount.toString()])).toEqual([
      ['partner', 'sale', '11'],
      ['source', 'sale', '4'],
    ]);
    await waitFor(() => second.output.includes('delivery attempt'), { what: 'the second worker to log the attempt' });
    expect(partner.requests).toHaveLength(2);
  }, 120_000);

  describe('a job for an attempt already recorded (a repeat after a crash)', () => {
    let direct: WorkerDeps;
    beforeAll(() => {
      direct = stack.directWorkerDeps();
    });

    it('does nothing when the delivery was accepted', async () => {
      const delivery = await stack.db.delivery.findFirstOrThrow({ where: { status: 'accepted' } });
      const before = partner.requests.length;
      const entries = await stack.db.ledgerEntry.count({ where: { deliveryId: delivery.id } });
      expect(await deliverAttempt(direct, { deliveryId: delivery.id, attempt: 1 })).toBe('stale');
      expect(partner.requests).toHaveLength(before);
      expect(await stack.db.deliveryAttempt.count({ where: { deliveryId: delivery.id } })).toBe(1);
      // Nor is the sale written again.
      expect(await stack.db.ledgerEntry.count({ where: { deliveryId: delivery.id } })).toBe(entries);
    });

    it('does nothing when that attempt was recorded and the delivery awaits its next one', async () => {
      const retrying = await new FakePartner(() => ({ status: 503 })).start();
      try {
        const p = await stack.createPartner({ url: retrying.url, backoff: { delayMs: 3_600_000 } });
        const source = await stack.db.source.findFirstOrThrow();
        const lead = await stack.db.lead.create({
          data: { sourceId: source.id, status: 'routing', name: 'Jane', phone: '+14155550199' },
        });
        const delivery = await stack.db.delivery.create({
          data: { leadId: lead.id, partnerId: p.id, nextAttemptAt: new Date() },
        });
        expect(await deliverAttempt(direct, { deliveryId: delivery.id, attempt: 1 })).toBe('retry');
        expect(retrying.requests).toHaveLength(1);

        // The same job again, as BullMQ would run it after its worker died before completing it.
        expect(await deliverAttempt(direct, { deliveryId: delivery.id, attempt: 1 })).toBe('stale');
        expect(retrying.requests).toHaveLength(1);
        expect(await stack.db.delivery.findUniqueOrThrow({ where: { id: delivery.id } })).toMatchObject({
          status: 'pending',
          attempts: 1,
        });
      } finally {
        await retrying.stop();
      }
    });
  });
});
