// README "Pausing and resuming partners", ADR 0012: an inactive (deactivated or deleted) partner gets nothing
// more — its pending retries wait as for a paused partner — and reactivating
// it requeues them. The periodic sweeper is kept out of the way (it runs once,
// at start); the test runs it itself, at a moment past every grace period.
import type { WorkerDeps } from '../../services/worker/src/deps';
import { sweep } from '@leadrouter/lifecycle';
import { FakePartner } from '../support/partner';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

describe('an inactive partner', () => {
  const stack = new TestStack({ env: { SWEEP_INTERVAL_MS: '600000' } });
  const fakes: FakePartner[] = [];
  let key: string;
  let later: WorkerDeps;

  beforeAll(async () => {
    await stack.start();
    key = (await stack.createSource()).apiKey;
    // The sweeper an hour from now: every parked or overdue row is past its grace period.
    later = stack.directWorkerDeps({ now: () => new Date(Date.now() + 3_600_000) });
  });
  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.stop()));
    await stack.stop();
  });
  afterEach(() => stack.db.route.updateMany({ data: { active: false } }));

  /** A partner failing every request (until `healthy`), retried every 100 ms, with a lead retrying against it. */
  async function retryingLead() {
    const state = { healthy: false };
    const fake = await new FakePartner(() =>
      state.healthy ? { status: 200, body: { ok: true } } : { status: 503 },
    ).start();
    fakes.push(fake);
    const partner = await stack.createPartner({
      url: fake.url,
      maxAttempts: 50,
      pauseAfterFailures: 1000,
      backoff: { delayMs: 100, maxDelayMs: 100 },
    });
    await stack.createRoute({ partners: [{ partnerId: partner.id }] });
    const res = await stack.request('POST', '/v1/leads', { key, body: sampleLead() });
    expect(res.status).toBe(202);
    const leadId = res.body.id as string;
    await waitFor(() => fake.requests.length >= 2, { what: 'the partner to be retried' });
    return { state, fake, partner, leadId };
  }

  /** Waits until the lead's delivery waits with no due time (parked), and nothing is left on the deliver queue. */
  async function parked(leadId: string) {
    const delivery = await waitFor(
      () => stack.db.delivery.findFirst({ where: { leadId, status: 'pending', nextAttemptAt: null } }),
      { what: 'the retry to be parked' },
    );
    await queueIdle();
    return delivery;
  }

  async function queueIdle() {
    await waitFor(
      async () => {
        const counts = await later.queues.deliver.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0);
      },
      { what: 'the deliver queue to be idle' },
    );
  }

  /** A sweeper pass finds nothing to requeue for the parked delivery, and the partner hears nothing. */
  async function staysParked(fake: FakePartner, deliveryId: string) {
    const sent = fake.requests.length;
    const swept = await sweep(later);
    expect(swept.deliveries).toBe(0);
    await queueIdle();
    expect(fake.requests).toHaveLength(sent);
    expect(await stack.db.delivery.findUniqueOrThrow({ where: { id: deliveryId } })).toMatchObject({
      status: 'pending',
      nextAttemptAt: null,
    });
  }

  it('deactivated: its retries are parked, and requeued when it is reactivated', async () => {
    const { state, fake, partner, leadId } = await retryingLead();

    expect((await stack.admin('PATCH', `/partners/${partner.id}`, { active: false })).status).toBe(200);
    const delivery = await parked(leadId);
    await staysParked(fake, delivery.id);
    expect(await stack.leadStatus(leadId)).toBe('routing');

    state.healthy = true;
    const sent = fake.requests.length;
    const reactivated = await stack.admin('PATCH', `/partners/${partner.id}`, { active: true });
    expect(reactivated.body).toMatchObject({ active: true, status: 'active' });
    expect(await stack.finalStatus(leadId)).toBe('delivered');
    expect(fake.requests).toHaveLength(sent + 1);
  });

  it('deleted: its retries are parked, and nothing more is sent', async () => {
    const { fake, partner, leadId } = await retryingLead();

    // A partner with deliveries is kept for their history, inactive.
    expect((await stack.admin('DELETE', `/partners/${partner.id}`)).status).toBe(204);
    expect((await stack.admin('GET', `/partners/${partner.id}`)).body).toMatchObject({ status: 'inactive' });
    const delivery = await parked(leadId);
    await staysParked(fake, delivery.id);
    expect(await stack.leadStatus(leadId)).toBe('routing');
  });

  it('paused and inactive: resuming it does not send its retries; reactivating it does', async () => {
    const { state, fake, partner, leadId } = await retryingLead();

    await stack.db.partner.update({ where: { id: partner.id }, data: { pausedAt: new Date(), pauseReason: 'test' } });
    expect((await stack.admin('PATCH', `/partners/${partner.id}`, { active: false })).status).toBe(200);
    const delivery = await parked(leadId);

    const resumed = await stack.admin('POST', `/partners/${partner.id}/resume`);
    expect(resumed.body).toMatchObject({ status: 'inactive', requeued: 0 });
    await staysParked(fake, delivery.id);

    state.healthy = true;
    expect((await stack.admin('PATCH', `/partners/${partner.id}`, { active: true })).status).toBe(200);
    expect(await stack.finalStatus(leadId)).toBe('delivered');
  });
});
