import { Webhook } from 'standardwebhooks';
import { FakeCrm } from '../support/crm';
import { FakePartner, type PartnerReply } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

// A worker process killed between a feedback event and its postback (issue 13; ADR 0026: the postback row is
// the outbox, written in the event's commit). The worker pulls the partner's statuses (ADR 0029), records a
// conversion — its event, its ledger lines and the source's postback row in one commit — and sends the
// postback; the source's receiver holds that request open, and the worker is SIGKILLed while it waits: after
// the commit, before the send is recorded. A new worker sends the postback again (BullMQ hands it the dead
// worker's job, or its sweeper finds the row overdue), and the source acknowledges it once, with the same
// body and message id, in its own terms. Nothing is sleep-and-hoped: each step waits on what it can observe.

describe('a worker killed between a feedback event and its postback', () => {
  const stack = new TestStack({ worker: false });
  const crm = new FakeCrm();
  const workers: ServiceProcess[] = [];
  let buyer: FakePartner;
  let receiver: FakePartner;
  let releaseHeld: (reply: PartnerReply) => void = () => undefined;
  /** What the receiver acknowledged (answered 2xx), by index of its request. */
  const acknowledged = new Set<number>();

  beforeAll(async () => {
    await stack.start();
    await crm.start();
    buyer = await new FakePartner(() => ({ status: 200, body: { ref: 'CRASH-1' } })).start();
    // The source's postback receiver: the first conversion it is told of is held open (its sender is killed
    // while it waits); everything else is acknowledged at once.
    const held = new Promise<PartnerReply>((resolve) => (releaseHeld = resolve));
    let heldOne = false;
    receiver = await new FakePartner((req, i) => {
      if ((req.json as { status?: string } | undefined)?.status === 'converted' && !heldOne) {
        heldOne = true;
        return held;
      }
      acknowledged.add(i);
      return { status: 204 };
    }).start();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    releaseHeld({ status: 204 });
    await Promise.all([receiver.stop(), buyer.stop(), crm.stop()]);
    await stack.stop();
  });

  it('has its postback sent by another worker, acknowledged once, with the same body', async () => {
    const source = (await stack.createSource({
      postbackUrl: receiver.url,
      payout: { model: 'cpa', amount: 15 },
    })) as unknown as { id: string; apiKey: string; postbackSecret: string };
    const partner = await stack.createPartner({
      name: 'crash-crm',
      url: buyer.url,
      responseMap: { reference: 'ref' },
      price: 5,
      conversionPrice: 40,
      statusMap: { FTD: 'converted' },
      statusPull: {
        url: crm.url,
        intervalSeconds: 3600,
        itemsPath: 'data',
        referencePath: 'lead_id',
        statusPath: 'status',
      },
    });
    await stack.createRoute({ partners: [{ partnerId: partner.id }] });

    const env = { ...stack.env(), LOG_LEVEL: 'info' };
    const first = new ServiceProcess('worker', env);
    workers.push(first);
    await first.start();

    const { body } = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() });
    const id = body.id as string;
    await waitFor(async () => (await stack.leadStatus(id)) === 'delivered', { what: 'the lead delivered' });
    const toSource = () => receiver.requests.filter((r) => (r.json as { id?: string } | undefined)?.id === id);
    await waitFor(() => toSource().length === 1 && acknowledged.size === 1, { what: 'the delivered postback' });

    // The CRM says FTD; the worker pulls it now (a pull may be running already: asked again until one starts).
    crm.set('CRASH-1', 'FTD');
    await waitFor(
      async () => {
        const answer = await stack.admin('POST', `/partners/${partner.id}/status-pull`);
        if (answer.status !== 409) expect(answer.status).toBe(202);
        return answer.status === 202;
      },
      { what: 'a pull asked for' },
    );

    // The worker committed the conversion and is sending its postback: the receiver holds it. Kill the worker.
    const converted = () => toSource().filter((r) => (r.json as { status: string }).status === 'converted');
    await waitFor(() => converted().length === 1, { timeoutMs: 30_000, what: 'the conversion’s postback to be sent' });
    expect(await first.stop('SIGKILL')).toBeNull(); // no exit code: killed by the signal

    // What the dead worker committed stays: the event, its lines, the postback — pending, no attempt recorded.
    const events = await stack.db.feedbackEvent.findMany({ where: { leadId: id } });
    expect(events.map((e) => [e.status, e.outcome, e.via])).toEqual([['FTD', 'converted', 'pull']]);
    const lines = async () =>
      (await stack.db.ledgerEntry.findMany({ where: { leadId: id, kind: 'conversion' } }))
        .map((e) => [e.party, e.amount.toString()])
        .sort();
    expect(await lines()).toEqual([
      ['partner', '40'],
      ['source', '15'],
    ]);
    const row = () => stack.db.postback.findFirstOrThrow({ where: { leadId: id, event: 'converted' } });
    expect(await row()).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await stack.leadStatus(id)).toBe('converted');

    // Another worker sends it; the receiver acknowledges it.
    const second = new ServiceProcess('worker', env);
    workers.push(second);
    await second.start();
    await waitFor(async () => (await row()).status === 'delivered', {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: 'another worker to send the postback',
    });
    expect(await row()).toMatchObject({ status: 'delivered', attempts: 1, httpStatus: 204 });

    // Sent twice over the wire (the dead worker's, never answered, and the new one's), acknowledged once.
    const [held, resent] = converted() as [(typeof receiver.requests)[number], (typeof receiver.requests)[number]];
    expect(converted()).toHaveLength(2);
    const indexOf = (r: typeof held) => receiver.requests.indexOf(r);
    expect([acknowledged.has(indexOf(held)), acknowledged.has(indexOf(resent))]).toEqual([false, true]);
    // The same postback: same body, same message id; in the source's terms, signed with its secret.
    expect(resent.body).toBe(held.body);
    expect(resent.headers['webhook-id']).toBe(held.headers['webhook-id']);
    expect(resent.json).toEqual({ id, status: 'converted', payout: 15, at: expect.any(String) });
    expect(resent.body).not.toContain('crash-crm');
    expect(() =>
      new Webhook(source.postbackSecret).verify(resent.body, resent.headers as Record<string, string>),
    ).not.toThrow();

    // Nothing was written twice by the new worker (it may pull again: the status is unchanged).
    expect(await lines()).toEqual([
      ['partner', '40'],
      ['source', '15'],
    ]);
    expect(await stack.db.feedbackEvent.count({ where: { leadId: id } })).toBe(1);
    expect(await stack.db.postback.count({ where: { leadId: id } })).toBe(2);
  }, 120_000);
});
