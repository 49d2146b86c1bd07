import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/** Caps and round-robin with three real worker processes delivering at once (one with prepared statements off). */
describe('three worker processes', () => {
  const stack = new TestStack({ worker: false });
  const workers: ServiceProcess[] = [];
  const fakes: FakePartner[] = [];
  let key: string;

  beforeAll(async () => {
    await stack.start();
    key = (await stack.createSource()).apiKey;
    // The third runs its SQL inline (as behind PgBouncer in transaction mode), the others as prepared statements.
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

  async function partner(fake: FakePartner, config: Record<string, unknown> = {}) {
    fakes.push(await fake.start());
    return { fake, ...(await stack.createPartner({ url: fake.url, ...config })) };
  }

  async function postMany(count: number, tag: string): Promise<string[]> {
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const body = sampleLead({
          phone: `+1 415 555 ${3000 + i + (tag === 'rr' ? 500 : 0)}`,
          email: `${tag}${i}@example.com`,
        });
        const res = await stack.request('POST', '/v1/leads', { key, body });
        expect(res.status).toBe(202);
        return res.body.id as string;
      }),
    );
  }

  const allSettled = (ids: string[]) =>
    waitFor(
      async () =>
        (await stack.db.lead.count({ where: { id: { in: ids }, status: { in: ['queued', 'routing'] } } })) === 0,
      { timeoutMs: 45_000, what: `${ids.length} leads to settle` },
    );

  it('never send a capped partner more than its cap, even when it is slow', async () => {
    const capped = await partner(new FakePartner(() => ({ status: 200, delayMs: 300 })), { caps: { hourly: 5 } });
    const overflow = await partner(new FakePartner());
    await stack.createRoute({ partners: [{ partnerId: capped.id }, { partnerId: overflow.id }] });

    const ids = await postMany(40, 'cap');
    await allSettled(ids);
    expect(capped.fake.requests).toHaveLength(5);
    expect(overflow.fake.requests).toHaveLength(35);
    expect(await stack.db.lead.count({ where: { id: { in: ids }, status: 'delivered' } })).toBe(40);
    // All three workers took part.
    for (const w of workers) expect(w.output).toContain('lead routed');
  });

  it('keep one round-robin rotation between them', async () => {
    const ps = [await partner(new FakePartner()), await partner(new FakePartner()), await partner(new FakePartner())];
    await stack.createRoute({ strategy: 'round_robin', partners: ps.map((p) => ({ partnerId: p.id })) });
    const ids = await postMany(30, 'rr');
    await allSettled(ids);
    expect(ps.map((p) => p.fake.requests.length)).toEqual([10, 10, 10]);
  });
});
