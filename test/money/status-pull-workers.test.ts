import { FakeCrm } from '../support/crm';
import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

// One status pull per partner at a time across every worker (ADR 0029): two worker processes, each looking for
// due pulls every second, a CRM slow enough that a pull takes several ticks, "pull now" asked again and again.
// The CRM never sees two requests at once, and however many pulls run, and on whichever worker, each
// conversion and reversal is in the ledger once.

describe('status pulls with two worker processes', () => {
  const stack = new TestStack({ worker: false });
  const crm = new FakeCrm();
  let buyer: FakePartner;
  const workers: ServiceProcess[] = [];

  beforeAll(async () => {
    await stack.start();
    await crm.start();
    let refs = 0;
    buyer = await new FakePartner(() => ({ status: 200, body: { ref: `W-${++refs}` } })).start();
    const env = { ...stack.env(), LOG_LEVEL: 'info' };
    workers.push(new ServiceProcess('worker', env), new ServiceProcess('worker', env));
    await Promise.all(workers.map((w) => w.start()));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await crm.stop();
    await buyer.stop();
    await stack.stop();
  });

  it('never overlap, and write each money event once', async () => {
    const source = await stack.createSource({ payout: { model: 'cpa', amount: 15 } });
    const settings = {
      url: crm.url,
      intervalSeconds: 3600,
      itemsPath: 'data',
      referencePath: 'lead_id',
      statusPath: 'status',
      page: { param: 'page', sizeParam: 'per_page', size: 3 },
    };
    const partner = await stack.createPartner({
      name: 'two-workers-crm',
      url: buyer.url,
      responseMap: { reference: 'ref' },
      price: 5,
      conversionPrice: 40,
      statusMap: { FTD: 'converted', Chargeback: 'reversed' },
      statusPull: settings,
    });
    await stack.createRoute({ partners: [{ partnerId: partner.id }] });
    const leads: { id: string; reference: string }[] = [];
    for (let i = 0; i < 8; i++) {
      const { body } = await stack.request('POST', '/v1/leads', {
        key: source.apiKey,
        body: sampleLead({ phone: `+1 415 555 ${3000 + i}`, email: `workers${i}@example.com` }),
      });
      const id = body.id as string;
      await waitFor(async () => (await stack.leadStatus(id)) === 'delivered', { what: `lead ${id} delivered` });
      leads.push({ id, reference: (await stack.db.delivery.findFirstOrThrow({ where: { leadId: id } })).reference! });
    }
    for (const lead of leads) crm.set(lead.reference, 'New');
    // Each page takes 300 ms: a pull of 4 pages spans several ticks of both workers.
    crm.delayMs = 300;

    const pullState = async () => {
      const p = await stack.db.partner.findUniqueOrThrow({ where: { id: partner.id } });
      const running = p.statusPullCursor !== null && p.statusPullDueAt !== null && p.statusPullDueAt > new Date();
      return { last: p.statusPullLastRunAt?.getTime(), running, due: p.statusPullDueAt };
    };
    let asked = 0;
    let refused = 0;
    // Round after round, statuses changing between some of them: every lead converts, half are charged back.
    const phases: (() => void)[] = [
      () => undefined,
      () => leads.forEach((l) => crm.set(l.reference, 'FTD')),
      () => undefined,
      () => leads.slice(0, 4).forEach((l) => crm.set(l.reference, 'Chargeback')),
      () => undefined,
      () => undefined,
    ];
    for (const phase of phases) {
      // No pull running nor due: the next one starts after this phase's changes.
      await waitFor(
        async () => {
          const s = await pullState();
          return !s.running && s.due !== null && s.due > new Date();
        },
        { timeoutMs: 30_000, what: 'no pull running or due' },
      );
      phase();
      const { last: before } = await pullState();
      // Asked again and again until a pull has run: each ask while it runs is a 409.
      await waitFor(
        async () => {
          if ((await pullState()).last !== before) return true;
          const answer = await stack.admin('POST', `/partners/${partner.id}/status-pull`);
          asked++;
          if (answer.status === 409) refused++;
          else expect(answer.status).toBe(202);
          return false;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: 'a pull to run' },
      );
    }

    expect(crm.maxInFlight).toBe(1);
    expect(refused).toBeGreaterThan(0);
    expect(asked).toBeGreaterThan(phases.length);
    const view = (await stack.admin('GET', `/partners/${partner.id}`)).body.statusPull;
    expect(view).toMatchObject({ ok: true });

    // The ledger: one sale, one conversion per lead; one reversal for each lead charged back, whatever ran twice.
    const lines = await stack.db.ledgerEntry.groupBy({
      by: ['leadId', 'kind', 'party'],
      where: { leadId: { in: leads.map((l) => l.id) } },
      _count: true,
    });
    for (const line of lines) expect(line._count).toBe(1);
    const count = (kind: string, party: string) => lines.filter((l) => l.kind === kind && l.party === party).length;
    expect([count('sale', 'partner'), count('conversion', 'partner'), count('conversion', 'source')]).toEqual([
      8, 8, 8,
    ]);
    expect([count('reversal', 'partner'), count('reversal', 'source')]).toEqual([4, 4]);
    // Each change of status recorded once: New, FTD, and Chargeback for half.
    expect(await stack.db.feedbackEvent.count({ where: { partnerId: partner.id } })).toBe(8 + 8 + 4);

    // Both workers count what they ran, by partner.
    const ran = await Promise.all(
      workers.map(async (w) => {
        const text = await (await fetch(`${w.url}/metrics`)).text();
        const line = text
          .split('\n')
          .find((l) => l.startsWith('leadrouter_status_pull_runs_total{partner="two-workers-crm",outcome="ok"}'));
        return Number(line?.split(' ')[1] ?? 0);
      }),
    );
    expect(ran[0]! + ran[1]!).toBeGreaterThanOrEqual(phases.length);
    // …and say so in their logs, without a phone number or an e-mail address.
    const output = workers.map((w) => w.output).join('');
    expect(output).toContain('status pull done');
    expect(output).not.toMatch(/workers\d@example\.com|415 555 3/);

    // Left alone, it is pulled every intervalSeconds: a shorter interval counts from the last pull.
    crm.delayMs = 0;
    const { last } = await pullState();
    expect(
      (await stack.admin('PATCH', `/partners/${partner.id}`, { statusPull: { ...settings, intervalSeconds: 10 } }))
        .status,
    ).toBe(200);
    await waitFor(async () => (await pullState()).last !== last, { timeoutMs: 20_000, what: 'a pull on its own' });
  }, 120_000);
});
