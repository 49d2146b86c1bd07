import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * A partner's count and budget caps with three real worker processes taking a
 * burst of leads at once (one with prepared statements off): no cap is ever
 * exceeded, each is reached exactly, and the counters agree with the
 * deliveries and the ledger (docs/decisions/0030-cap-counters.md).
 */
describe('caps with three worker processes', () => {
  const stack = new TestStack({ worker: false });
  const workers: ServiceProcess[] = [];
  const fakes: FakePartner[] = [];
  let key: string;
  let posted = 0;

  beforeAll(async () => {
    await stack.start();
    key = (await stack.createSource()).apiKey;
    for (let i = 0; i < 3; i++)
      workers.push(
        new ServiceProcess('worker', {
          ...stack.env(),
          WORKER_CONCURRENCY: '16',
          LOG_LEVEL: 'info',
          DATABASE_PREPARED_STATEMENTS: i === 2 ? 'false' : 'true',
        }),
      );
    await Promise.all(workers.map((w) => w.start()));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await Promise.all(fakes.map((f) => f.stop()));
    await stack.stop();
  });
  afterEach(() => stack.db.route.updateMany({ data: { active: false } }));

  /**
   * A schedule open all week in a fixed-offset zone where it is about noon now, so no day, week or month
   * turns on the partner's clock while the burst runs.
   */
  function noonSchedule(now = new Date()) {
    let offset = 12 - now.getUTCHours();
    if (offset > 14) offset -= 24;
    if (offset < -12) offset += 24;
    const timezone = offset === 0 ? 'UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
    const all = ['00:00-24:00'];
    return { timezone, days: { mon: all, tue: all, wed: all, thu: all, fri: all, sat: all, sun: all } };
  }

  async function partner(fake: FakePartner, config: Record<string, unknown> = {}) {
    fakes.push(await fake.start());
    return { fake, ...(await stack.createPartner({ url: fake.url, ...config })) };
  }

  async function burst(count: number): Promise<string[]> {
    const ids = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const n = posted + i;
        const body = sampleLead({ phone: `+1 415 555 ${String(4000 + n)}`, email: `burst${n}@example.com` });
        const res = await stack.request('POST', '/v1/leads', { key, body });
        expect(res.status).toBe(202);
        return res.body.id as string;
      }),
    );
    posted += count;
    await waitFor(
      async () =>
        (await stack.db.lead.count({ where: { id: { in: ids }, status: { in: ['queued', 'routing'] } } })) === 0,
      { timeoutMs: 60_000, what: `${ids.length} leads to settle` },
    );
    return ids;
  }

  const accepted = (partnerId: string) => stack.db.delivery.count({ where: { partnerId, status: 'accepted' } });
  /** The partner's counters: [period, leads, amount], shortest period first. */
  const counted = async (partnerId: string) =>
    (await stack.db.capCounter.findMany({ where: { partnerId }, orderBy: { period: 'asc' } })).map((r) => [
      r.period,
      r.count,
      r.amount.toFixed(4),
    ]);
  const sales = async (partnerId: string) =>
    (
      await stack.db.ledgerEntry.aggregate({
        where: { partyId: partnerId, party: 'partner', kind: 'sale' },
        _sum: { amount: true },
      })
    )._sum.amount?.toFixed(4);

  it('never take a lead past a budget or a count cap, and reach each exactly', async () => {
    const schedule = noonSchedule();
    // 7.5 a lead against 75 a day: exactly 10 leads; slow, so reservations are pending while others check.
    const budgeted = await partner(new FakePartner(() => ({ status: 200, delayMs: 150 })), {
      price: '7.5',
      schedule,
      caps: { dailyBudget: 75, monthlyBudget: '1000' },
    });
    const weekly = await partner(new FakePartner(() => ({ status: 200, delayMs: 50 })), {
      price: 3,
      schedule,
      caps: { weekly: 6, monthly: 100 },
    });
    const overflow = await partner(new FakePartner());
    await stack.createRoute({
      partners: [{ partnerId: budgeted.id }, { partnerId: weekly.id }, { partnerId: overflow.id }],
    });

    const ids = await burst(40);
    expect(budgeted.fake.requests).toHaveLength(10);
    expect(weekly.fake.requests).toHaveLength(6);
    expect(overflow.fake.requests).toHaveLength(24);
    expect(await stack.db.lead.count({ where: { id: { in: ids }, status: 'delivered' } })).toBe(40);
    expect(await sales(budgeted.id)).toBe('75.0000');
    expect(await counted(budgeted.id)).toEqual([
      ['day', 10, '75.0000'],
      ['month', 10, '75.0000'],
    ]);
    expect(await counted(weekly.id)).toEqual([
      ['week', 6, '18.0000'],
      ['month', 6, '18.0000'],
    ]);
    // The partner's view says the same.
    const view = (await stack.admin('GET', `/partners/${budgeted.id}`)).body;
    expect(view.capsInUse.dailyBudget).toMatchObject({ limit: 75, used: 75, remaining: 0 });
    expect(view.capsInUse.monthlyBudget).toMatchObject({ limit: 1000, used: 75, remaining: 925 });
    // All three workers took part.
    for (const w of workers) expect(w.output).toContain('lead routed');

    // Full: the next leads skip them, saying why.
    const [next] = await burst(1);
    const lead = await stack.admin('GET', `/leads/${next}`);
    expect(JSON.stringify(lead.body)).toContain('daily budget of 75.0000 reached');
    expect(JSON.stringify(lead.body)).toContain('weekly cap of 6 reached');
  });

  it('pass leads between two capped partners in both directions without a deadlock', async () => {
    const schedule = noonSchedule();
    // Each rejects: a lead offered to one waterfalls to the other, giving back one slot and taking the other's,
    // in one commit; round-robin makes half the leads go each way at the same time.
    const config = { price: 2, schedule, caps: { daily: 1000, dailyBudget: 10000, monthly: 10000 } };
    const a = await partner(new FakePartner(() => ({ status: 400, delayMs: 20 })), config);
    const b = await partner(new FakePartner(() => ({ status: 400, delayMs: 20 })), config);
    await stack.createRoute({ strategy: 'round_robin', partners: [{ partnerId: a.id }, { partnerId: b.id }] });
    const ids = await burst(60);
    expect(await stack.db.lead.count({ where: { id: { in: ids }, status: 'unsold' } })).toBe(60);
    expect(a.fake.requests).toHaveLength(60);
    expect(b.fake.requests).toHaveLength(60);
    for (const w of workers) expect(w.output).not.toMatch(/deadlock detected/);
    // Every slot was given back.
    expect(await counted(a.id)).toEqual([
      ['day', 0, '0.0000'],
      ['month', 0, '0.0000'],
    ]);
  });

  it('give back the slots of the leads a partner rejects, so it still takes exactly its cap', async () => {
    const schedule = noonSchedule();
    // Rejects every other lead: each rejection frees its slot (and reservation) for the next lead.
    const choosy = await partner(
      new FakePartner((_req, i) => (i % 2 === 0 ? { status: 200, delayMs: 80 } : { status: 400, delayMs: 80 })),
      { price: 4, schedule, caps: { daily: 5, dailyBudget: 100 } },
    );
    const overflow = await partner(new FakePartner());
    await stack.createRoute({ partners: [{ partnerId: choosy.id }, { partnerId: overflow.id }] });

    // A rejected lead goes on to the next partner; the slot it gave back is for leads that come later: waves.
    const ids: string[] = [];
    for (let wave = 0; wave < 8 && (await accepted(choosy.id)) < 5; wave++) ids.push(...(await burst(10)));
    expect(await accepted(choosy.id)).toBe(5);
    expect(await stack.db.delivery.count({ where: { partnerId: choosy.id, status: 'rejected' } })).toBe(
      choosy.fake.requests.length - 5,
    );
    expect(choosy.fake.requests.length).toBeGreaterThan(5);
    expect(await stack.db.lead.count({ where: { id: { in: ids }, status: 'delivered' } })).toBe(ids.length);
    // Full now: the next wave goes elsewhere.
    const sent = choosy.fake.requests.length;
    await burst(10);
    expect(choosy.fake.requests).toHaveLength(sent);
    expect(await counted(choosy.id)).toEqual([['day', 5, '20.0000']]);
  });
});
