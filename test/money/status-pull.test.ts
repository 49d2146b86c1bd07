import { FakeCrm } from '../support/crm';
import { FakePartner } from '../support/partner';
import { RawPartner } from '../support/raw-partner';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

// Status pulls (README "Feedback from partners", ADR 0029) against a fake partner CRM on loopback, paged, whose
// statuses change over time: conversions, returns and a reversal arriving by pull alone, each written once
// however often the same statuses are pulled; hostile answers failing a run with a clear error, never the
// worker; "pull now"; the partner's view of its last run; pausing stopping a pull.

interface Entry {
  party: 'partner' | 'source';
  kind: string;
  amount: number;
}

interface PullView {
  lastRunAt: string | null;
  ok: boolean | null;
  error?: string;
  updated: number;
  running: boolean;
  nextRunAt: string | null;
}

describe('status pull', () => {
  const stack = new TestStack({ captureLogs: true });
  const crm = new FakeCrm();
  let buyer: FakePartner;
  let affiliate: FakePartner;
  let partner: { id: string; name: string };
  let source: { id: string; apiKey: string };
  let phones = 0;
  let refs = 0;

  const pullSettings = (overrides: Record<string, unknown> = {}) => ({
    url: crm.url,
    headers: { 'X-Api-Key': 'crm-key-123' },
    intervalSeconds: 3600,
    itemsPath: 'data',
    referencePath: 'lead_id',
    statusPath: 'status',
    amountPath: 'payout',
    atPath: 'updated_at',
    page: { param: 'page', sizeParam: 'per_page', size: 2 },
    ...overrides,
  });
  const view = async (id: string): Promise<PullView> => (await stack.admin('GET', `/partners/${id}`)).body.statusPull;
  /** Asks for a pull now (once the one running has finished) and waits for it to finish. */
  const pull = async (id: string): Promise<PullView> => {
    const before = await waitFor(
      async () => {
        const v = await view(id);
        return !v.running && v.nextRunAt !== null ? v : undefined;
      },
      { what: 'no pull running' },
    );
    const asked = await stack.admin('POST', `/partners/${id}/status-pull`);
    expect(asked.status).toBe(202);
    return waitFor(
      async () => {
        const v = await view(id);
        return v.lastRunAt !== before.lastRunAt && !v.running ? v : undefined;
      },
      { what: `a new pull of ${id}` },
    );
  };
  const entries = async (id: string): Promise<Entry[]> =>
    (await stack.request('GET', `/v1/leads/${id}`, { key: ADMIN_TOKEN })).body.money.entries;
  const kinds = async (id: string) => (await entries(id)).map((e) => `${e.party} ${e.kind} ${e.amount}`);
  const postLead = async () => {
    const { body } = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({
        phone: `+1 415 555 ${String(2000 + ++phones).padStart(4, '0')}`,
        email: `pull${phones}@example.com`,
      }),
    });
    const id = body.id as string;
    await waitFor(async () => (await stack.leadStatus(id)) === 'delivered', { what: `lead ${id} delivered` });
    const { reference } = await stack.db.delivery.findFirstOrThrow({ where: { leadId: id } });
    return { id, reference: reference! };
  };

  beforeAll(async () => {
    await stack.start();
    await crm.start();
    buyer = await new FakePartner(() => ({ status: 200, body: { ok: true, ref: `C-${++refs}` } })).start();
    affiliate = await new FakePartner(() => ({ status: 204 })).start();
    source = await stack.createSource({ postbackUrl: affiliate.url, payout: { model: 'cpa', amount: 20 } });
    partner = await stack.createPartner({
      url: buyer.url,
      responseMap: { reference: 'ref' },
      price: 10,
      conversionPrice: 50,
      returns: { windowDays: 30, autoApprove: true },
      statusMap: { Deposit: 'converted', 'Invalid Number': 'returned', Chargeback: 'reversed' },
      statusPull: pullSettings(),
    });
    await stack.createRoute({ name: 'pulled', priority: 10, partners: [{ partnerId: partner.id }] });
    // A new statusPull is due at once.
    await waitFor(async () => (await view(partner.id)).lastRunAt !== null, { what: 'the first pull' });
  });
  afterAll(async () => {
    await crm.stop();
    await buyer.stop();
    await affiliate.stop();
    await stack.stop();
  });

  it('the admin API takes a statusPull, shows it with its defaults and last run, and refuses every problem at once', async () => {
    const bad = await stack.admin('POST', '/partners', {
      name: 'bad-pull',
      url: buyer.url,
      statusPull: {
        url: 'http://crm.example/statuses?since={{since}}',
        method: 'PUT',
        headers: { Host: 'x', 'X-Token': 'a\r\nb' },
        intervalSeconds: 5,
        itemsPath: 'data',
        referencePath: 'lead_id',
        page: { param: 'page', sizeParam: 'page', size: 0 },
        extra: true,
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      '/statusPull/extra',
      '/statusPull/headers/Host',
      '/statusPull/headers/X-Token',
      '/statusPull/intervalSeconds',
      '/statusPull/method',
      '/statusPull/page/size',
      '/statusPull/page/sizeParam',
      '/statusPull/statusPath',
      '/statusPull/url',
    ]);
    expect(JSON.stringify(bad.body.errors)).toContain('{{since}}');
    const notUrl = await stack.admin('POST', '/partners', {
      name: 'bad-pull-2',
      url: buyer.url,
      statusPull: { url: 'http://{{from}}/x', itemsPath: 'd', referencePath: 'r', statusPath: 's' },
    });
    expect(notUrl.status).toBe(422);
    expect(notUrl.body.errors).toEqual([
      { field: '/statusPull/url', message: 'is not an http(s) URL (with its placeholders filled in)' },
    ]);

    const created = await stack.admin('POST', '/partners', {
      name: 'pull-defaults',
      url: buyer.url,
      active: false,
      statusPull: { url: 'https://crm.example/s?from={{from}}', itemsPath: 'd', referencePath: 'r', statusPath: 's' },
    });
    expect(created.status).toBe(201);
    expect(created.body.statusPull).toEqual({
      url: 'https://crm.example/s?from={{from}}',
      method: 'GET',
      headers: {},
      intervalSeconds: 300,
      lookbackHours: 72,
      itemsPath: 'd',
      referencePath: 'r',
      statusPath: 's',
      lastRunAt: null,
      ok: null,
      updated: 0,
      running: false,
      nextRunAt: null,
    });
    // An inactive partner is not pulled: asking is a 409, and so is asking for a partner without a statusPull.
    expect(await stack.admin('POST', `/partners/${created.body.id}/status-pull`)).toMatchObject({
      status: 409,
      body: { message: expect.stringContaining('inactive') },
    });
    const removed = await stack.admin('PATCH', `/partners/${created.body.id}`, { statusPull: null });
    expect(removed.body.statusPull).toBeNull();
    expect((await stack.admin('POST', `/partners/${created.body.id}/status-pull`)).body.message).toContain(
      'no statusPull',
    );
    expect((await stack.admin('POST', '/partners/00000000-0000-4000-8000-000000000000/status-pull')).status).toBe(404);
  });

  it('conversions, returns and a reversal arrive by pull alone, each written once however often they are pulled', async () => {
    const leads = [await postLead(), await postLead(), await postLead(), await postLead(), await postLead()];
    const [a, b, c, d, e] = leads as [
      (typeof leads)[0],
      (typeof leads)[0],
      (typeof leads)[0],
      (typeof leads)[0],
      (typeof leads)[0],
    ];
    // The CRM knows them by its own references, except one it names by our lead id.
    for (const lead of [a, b, c, d]) crm.set(lead.reference, 'New');
    crm.set(e.id, 'New');
    crm.set('C-not-ours', 'Deposit');

    const first = await pull(partner.id);
    expect(first).toMatchObject({ ok: true, updated: 5, running: false });
    expect(first.error).toBeUndefined();
    for (const lead of leads) expect(await kinds(lead.id)).toEqual(['partner sale 10']);

    // The statuses change: a deposit with its amount, another without (the conversionPrice), an invalid number.
    crm.set(a.reference, { status: 'Deposit', amount: '75.5' });
    crm.set(b.reference, 'invalid number');
    crm.set(c.reference, 'DEPOSIT');
    crm.set(e.id, 'Deposit');
    const second = await pull(partner.id);
    expect(second).toMatchObject({ ok: true, updated: 4 });
    expect(await kinds(a.id)).toEqual(['partner sale 10', 'partner conversion 75.5', 'source conversion 20']);
    expect(await kinds(b.id)).toEqual(['partner sale 10', 'partner return -10']);
    expect(await kinds(c.id)).toEqual(['partner sale 10', 'partner conversion 50', 'source conversion 20']);
    expect(await kinds(e.id)).toEqual(['partner sale 10', 'partner conversion 50', 'source conversion 20']);
    expect(await stack.leadStatus(a.id)).toBe('converted');
    expect(await stack.leadStatus(b.id)).toBe('returned');

    // A chargeback reverses c; a status the map does not name after a deposit reverses nothing.
    crm.set(c.reference, 'Chargeback');
    crm.set(a.reference, { status: 'Active trader', amount: '75.5' });
    const third = await pull(partner.id);
    expect(third).toMatchObject({ ok: true, updated: 2 });
    expect(await kinds(c.id)).toEqual([
      'partner sale 10',
      'partner conversion 50',
      'source conversion 20',
      'partner reversal -50',
      'source reversal -20',
    ]);
    expect(await stack.leadStatus(c.id)).toBe('delivered');
    expect(await kinds(a.id)).toEqual(['partner sale 10', 'partner conversion 75.5', 'source conversion 20']);

    // Pulled again and again, unchanged: nothing more is written, not even the events as received.
    const events = await stack.db.feedbackEvent.count({ where: { partnerId: partner.id } });
    const ledger = await stack.db.ledgerEntry.count();
    expect(await pull(partner.id)).toMatchObject({ ok: true, updated: 0 });
    expect(await pull(partner.id)).toMatchObject({ ok: true, updated: 0 });
    expect(await stack.db.feedbackEvent.count({ where: { partnerId: partner.id } })).toBe(events);
    expect(await stack.db.ledgerEntry.count()).toBe(ledger);
    const pulled = await stack.db.feedbackEvent.findMany({
      where: { leadId: c.id },
      orderBy: { receivedAt: 'asc' },
      select: { via: true, event: true, status: true, outcome: true },
    });
    expect(pulled).toEqual([
      { via: 'pull', event: 'status', status: 'New', outcome: 'unmapped' },
      { via: 'pull', event: 'status', status: 'DEPOSIT', outcome: 'converted' },
      { via: 'pull', event: 'status', status: 'Chargeback', outcome: 'reversed' },
    ]);

    // The requests: the look-back window (72 h by default) in the URL, paged by 2 until a short page, the headers.
    const last = crm.requests.slice(-4);
    expect(last.map((r) => new URL(r.path, 'http://crm').searchParams.get('page'))).toEqual(['1', '2', '3', '4']);
    const query = new URL(last[0]!.path, 'http://crm').searchParams;
    expect(query.get('per_page')).toBe('2');
    const window = Date.parse(query.get('to')!) - Date.parse(query.get('from')!);
    expect(window).toBe(72 * 3600_000);
    expect(last[0]!.headers['x-api-key']).toBe('crm-key-123');
    expect(last[0]!.method).toBe('GET');

    // The source heard of each event in its own terms.
    await waitFor(
      () =>
        affiliate.requests.filter((r) =>
          ['converted', 'returned', 'reversed'].includes((r.json as { status: string }).status),
        ).length === 5,
      { what: 'five event postbacks' },
    );
    // The logs say how pulls went, and never whom they were about.
    const logs = stack.logLines.join('');
    expect(logs).toContain('status pull done');
    expect(logs).not.toMatch(/@example\.com|415 555/);
  });

  it('a hostile CRM fails a run with a clear error — never the worker — and the next good answer works', async () => {
    const hostile: [string, (raw: RawPartner) => void, RegExp][] = [
      ['html', (r) => (r.answer = answer(200, '<html>oops</html>')), /not JSON/],
      ['server error', (r) => (r.answer = answer(503, '{}')), /HTTP 503/],
      ['redirect', (r) => (r.answer = answer(302, '', [['location', 'http://169.254.169.254/']])), /redirect/],
      [
        'bad bytes',
        (r) => (r.answer = { ...answer(200, ''), body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }),
        /not UTF-8/,
      ],
      ['wrong shape', (r) => (r.answer = answer(200, '{"data":{"lead_id":"x"}}')), /no array at `data`/],
      [
        'NUL statuses',
        (r) => (r.answer = answer(200, '{"data":[{"lead_id":"zz","status":"\\u0000"}]}')),
        /no item could be read/,
      ],
      ['unreadable items', (r) => (r.answer = answer(200, '{"data":[{"id":1}]}')), /no item could be read/],
      ['huge', (r) => (r.answer = answer(200, `{"data":[${'"x",'.repeat(2_300_000)}"x"]}`)), /larger than 8192 KiB/],
      [
        'cut short',
        (r) => (r.answer = { ...answer(200, '{"data":[{"lead_id":'), framing: 'long' }),
        /not JSON|no answer/,
      ],
      [
        'endless pages',
        (r) => (r.answer = answer(200, '{"data":[{"lead_id":"zz","status":"New"},{"lead_id":"zy","status":"New"}]}')),
        /same as page 1/,
      ],
    ];
    const raw = await new RawPartner().start();
    try {
      const target = await stack.createPartner({
        url: buyer.url,
        // Room for the 9 MB answer on a busy machine; the timeout case below shortens it.
        timeoutMs: 15_000,
        statusPull: pullSettings({ url: raw.url }),
      });
      for (const [what, arrange, error] of hostile) {
        arrange(raw);
        const run = await pull(target.id);
        expect({ what, ok: run.ok, error: run.error }).toEqual({
          what,
          ok: false,
          error: expect.stringMatching(error),
        });
      }
      // A CRM that does not answer in time: the partner's timeoutMs.
      crm.delayMs = 1500;
      await stack.admin('PATCH', `/partners/${target.id}`, { timeoutMs: 1000, statusPull: pullSettings() });
      expect(await pull(target.id)).toMatchObject({ ok: false, error: expect.stringMatching(/timeout/) });
      crm.delayMs = 0;
      expect(await pull(target.id)).toMatchObject({ ok: true });
      expect((await fetch(`${stack.url}/healthz`)).ok).toBe(true);
    } finally {
      crm.delayMs = 0;
      await raw.stop();
    }
  });

  it('pull now: 202, 409 while a pull runs; pausing the partner stops its pull between two pages', async () => {
    const target = await stack.createPartner({ url: buyer.url, statusPull: pullSettings() });
    await waitFor(async () => (await view(target.id)).lastRunAt !== null, { what: 'the first pull, at once' });
    const release = crm.hold();
    const before = crm.requests.length;
    const asked = await stack.admin('POST', `/partners/${target.id}/status-pull`);
    expect(asked.status).toBe(202);
    expect(asked.body).toMatchObject({ running: false, intervalSeconds: 3600 });
    await waitFor(async () => (await view(target.id)).running, { what: 'the pull to start' });
    // Page 1 is asked for (and held): counted from there, not from the moment the pull shows as running.
    await waitFor(() => crm.requests.length > before, { what: 'page 1 to be asked for' });
    const requests = crm.requests.length;
    const again = await stack.admin('POST', `/partners/${target.id}/status-pull`);
    expect(again).toMatchObject({ status: 409, body: { message: expect.stringContaining('running') } });

    // Paused while page 1 is on its way: page 2 is never asked for.
    expect((await stack.admin('POST', `/partners/${target.id}/pause`)).status).toBe(200);
    release();
    const stopped = await waitFor(
      async () => {
        const v = await view(target.id);
        return !v.running && v.ok === false ? v : undefined;
      },
      { what: 'the pull to stop' },
    );
    expect(stopped.error).toMatch(/paused/);
    expect(crm.requests.length).toBe(requests);
    expect((await stack.admin('POST', `/partners/${target.id}/status-pull`)).body.message).toContain('paused');
    // Due now, but paused: no worker claims it.
    await stack.db.$executeRaw`UPDATE partners SET status_pull_due_at = now() WHERE id = ${target.id}::uuid`;
    const { claimStatusPulls } = await import('@leadrouter/lifecycle');
    expect((await claimStatusPulls({ db: stack.db }, 100)).map((p) => p.id)).not.toContain(target.id);
    await stack.admin('POST', `/partners/${target.id}/resume`);
    expect(await pull(target.id)).toMatchObject({ ok: true });
  });
});

function answer(status: number, body: string, headers: [string, string][] = []) {
  return {
    status,
    headers: [['content-type', 'application/json'], ...headers] as [string, string][],
    body: Buffer.from(body),
    framing: 'length' as const,
  };
}
