import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * Regex filters in a real worker process (README "How routing decides": no pattern and no
 * input can stall routing; ADR 0013): a stored pattern that does not compile
 * passes its route or partner over and routing goes on; the catastrophic
 * backtracking pattern answers at once and the worker stays responsive.
 */
describe('regex filters in a worker process', () => {
  const stack = new TestStack({ worker: false });
  const fakes: FakePartner[] = [];
  let worker: ServiceProcess;
  let key: string;
  let n = 0;

  beforeAll(async () => {
    await stack.start();
    key = (await stack.createSource()).apiKey;
    worker = await new ServiceProcess('worker', { ...stack.env(), LOG_LEVEL: 'info' }).start();
  }, 60_000);
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await Promise.all(fakes.map((f) => f.stop()));
    await stack.stop();
  });
  afterEach(() => stack.db.route.updateMany({ data: { active: false } }));

  async function partner() {
    const fake = await new FakePartner().start();
    fakes.push(fake);
    return { fake, ...(await stack.createPartner({ url: fake.url })) };
  }

  async function post(overrides: Record<string, unknown>): Promise<string> {
    n++;
    const body = sampleLead({ phone: `+1 415 555 ${4000 + n}`, email: `regex${n}@example.com`, ...overrides });
    const res = await stack.request('POST', '/v1/leads', { key, body });
    expect(res.status).toBe(202);
    return res.body.id as string;
  }

  const view = async (id: string) => (await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN })).body;

  it('passes over a route or partner whose stored pattern does not compile, and routes on', async () => {
    const [a, b, c] = [await partner(), await partner(), await partner()];
    // Patterns saved before they were checked: written to the database directly, as the admin API now refuses them.
    await stack.db.route.create({
      data: {
        name: 'broken-route',
        priority: 30,
        filters: { fields: [{ field: 'fields.zip', op: 'regex', value: '(' }] },
        partners: { create: [{ partnerId: a.id, position: 0 }] },
      },
    });
    // JavaScript's RegExp takes a lookahead; RE2 does not.
    await stack.db.partner.update({
      where: { id: c.id },
      data: { filters: { fields: [{ field: 'name', op: 'regex', value: '^J(?=o)' }] } },
    });
    await stack.createRoute({ name: 'ca', priority: 20, filters: { geo: ['CA'] }, partners: [{ partnerId: c.id }] });
    // Created last, through the admin API: every worker drops its cached rules before it answers.
    await stack.createRoute({ name: 'everyone', priority: 10, partners: [{ partnerId: b.id }] });

    const us = await post({ geo: 'US' });
    const ca = await post({ geo: 'CA' });

    // The lead passed over the broken route and was delivered on the next.
    expect(await stack.finalStatus(us)).toBe('delivered');
    expect(b.fake.requests).toHaveLength(1);
    expect(a.fake.requests).toHaveLength(0);
    const usView = await view(us);
    expect(usView.routing).toMatchObject({
      route: 'everyone',
      filterErrors: [
        'route broken-route: fields.zip regex "(" is not a valid RE2 pattern: missing closing ): `(`, so it does not match',
      ],
    });

    // The partner whose filter cannot be used is skipped, saying why: nothing else is eligible there.
    expect(await stack.finalStatus(ca)).toBe('unmatched');
    expect(c.fake.requests).toHaveLength(0);
    expect((await view(ca)).routing).toMatchObject({
      route: 'ca',
      partners: [
        {
          partner: c.name,
          decision: 'skipped',
          reason: expect.stringMatching(/^partner filters do not match: name regex "\^J\(\?=o\)" is not a valid RE2/),
        },
      ],
    });

    // The worker said so in its log, once per pattern.
    const warnings = worker.output.split('\n').filter((l) => l.includes('a stored regex filter cannot be used'));
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).toContain('/filters/fields/0/value');
  });

  it('answers the catastrophic backtracking pattern at once: leads are routed and /healthz keeps answering', async () => {
    const [strict, rest] = [await partner(), await partner()];
    await stack.createRoute({
      name: 'alphanumeric-codes',
      priority: 40,
      filters: { fields: [{ field: 'fields.code', op: 'regex', value: '^([a-zA-Z0-9]+)+$' }] },
      partners: [{ partnerId: strict.id }],
    });
    await stack.createRoute({ name: 'the-rest', priority: 0, partners: [{ partnerId: rest.id }] });

    // Health is asked for all along: a stalled event loop would leave it unanswered.
    let polling = true;
    const unanswered: string[] = [];
    let answered = 0;
    const poller = (async () => {
      while (polling) {
        try {
          const res = await fetch(`${worker.url}/healthz`, { signal: AbortSignal.timeout(5000) });
          if (res.ok) answered++;
          else unanswered.push(`HTTP ${res.status}`);
        } catch (err) {
          unanswered.push(String(err));
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    // 40 characters and a mismatch at the end: a backtracking engine tries 2^40 ways first.
    const mismatch = await post({ fields: { code: `${'a'.repeat(40)}!` } });
    const match = await post({ fields: { code: 'a'.repeat(40) } });
    let statuses: string[];
    try {
      statuses = await Promise.all([stack.finalStatus(mismatch), stack.finalStatus(match)]);
      await waitFor(() => answered >= 3, { what: 'a few health answers' });
    } finally {
      polling = false;
      await poller;
    }

    expect(statuses).toEqual(['delivered', 'delivered']);
    expect((await view(mismatch)).routing.route).toBe('the-rest');
    expect((await view(match)).routing.route).toBe('alphanumeric-codes');
    expect(strict.fake.requests).toHaveLength(1);
    expect(rest.fake.requests).toHaveLength(1);
    expect(unanswered).toEqual([]);
  });
});
