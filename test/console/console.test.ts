import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { describeInBrowser, ensureConsoleBuilt, inspect, launchChromium } from '../support/browser';
import { FakeCrm } from '../support/crm';
import { FakePartner } from '../support/partner';
import { waitFor } from '../support/wait';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';

/**
 * The operator console in a real browser (Debian's Chromium) against a real
 * ingest and worker: what an operator does, step by step, in one session.
 * Each page is checked with axe-core and photographed at 1280×800 and 390×844
 * (test-results/console/).
 */

jest.setTimeout(120_000);

describeInBrowser('the operator console', () => {
  const stack = new TestStack();
  /** A buyer on loopback that fails until told to accept. */
  let accepting = false;
  const buyer = new FakePartner(() =>
    accepting ? { status: 200, body: { accepted: true } } : { status: 503, body: { error: 'down for maintenance' } },
  );
  /** The buyer's CRM, whose status API the console sets up a pull of. */
  const crm = new FakeCrm();
  let partnerId = '';
  let feedbackKey = '';
  let sourceKey = '';
  let routeId = '';
  let leadId = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Errors the page logged (a CSP violation is one), and requests that failed. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureConsoleBuilt();
    await Promise.all([stack.start(), buyer.start(), crm.start()]);
    const source = await stack.createSource({ name: 'Facebook ads', payout: { model: 'cpl', amount: 4.25 } });
    sourceKey = source.apiKey;
    const acme = await stack.createPartner({
      name: 'Acme Insurance',
      url: buyer.url,
      maxAttempts: 2,
      backoff: { delayMs: 10, maxDelayMs: 20 },
      price: 12.5,
      returns: { windowDays: 30, autoApprove: false },
      caps: { daily: 100, monthlyBudget: 1000 },
    });
    partnerId = acme.id;
    feedbackKey = acme.feedbackKey;
    routeId = (await stack.createRoute({ name: 'US leads', partners: [{ partnerId }] })).id;
    const posted = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ phone: '+1 415 555 0177', email: 'jane@example.com', name: 'Jane Roe' }),
    });
    leadId = posted.body.id;
    expect(await stack.finalStatus(leadId)).toBe('dead_lettered');
    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      timezoneId: 'America/New_York',
      locale: 'en-US',
    });
    page = await context.newPage();
    page.on('console', (msg) => {
      // The API's own 4xx answers (shown by the page) are logged by Chromium as failed loads: not errors here.
      if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) pageErrors.push(msg.text());
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.setDefaultTimeout(20_000);
  });
  afterAll(async () => {
    await browser?.close();
    await stack.stop();
    await buyer.stop();
    await crm.stop();
  });
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  const heading = (name: string) => page.getByRole('heading', { level: 1, name });
  /** The API's error shown beside its control: the control marked invalid, the message tied to it for a screen reader. */
  const fieldError = async (control: Locator, message: RegExp) => {
    const id = (await control.getAttribute('id'))!;
    await page.locator(`[id="${id}-error"]`).getByText(message).waitFor();
    expect(await control.getAttribute('aria-invalid')).toBe('true');
    expect((await control.getAttribute('aria-describedby'))?.split(' ')).toContain(`${id}-error`);
  };

  it('is served with a strict Content-Security-Policy and no inline script', async () => {
    const res = await stack.request('GET', '/console/leads/whatever');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = String(res.body);
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, inline] of scripts) {
      expect(inline!.trim()).toBe('');
      const src = /\bsrc="([^"]+)"/.exec(attrs!)![1]!;
      expect(src).toMatch(/^\/console\/assets\/[\w-]+\.js$/);
      const asset = await stack.request('GET', src);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
    }
    expect((await stack.request('GET', '/console/assets/missing.js')).status).toBe(404);
    expect([...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1])).not.toContainEqual(
      expect.stringMatching(/^(https?:)?\/\//),
    );
  });

  it('signs in with the admin token (a wrong one is refused beside the field)', async () => {
    await page.goto(`${stack.url}/console/`);
    const token = page.getByLabel('Admin token');
    await token.fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(/not the admin token/).waitFor();
    expect(await token.getAttribute('aria-invalid')).toBe('true');
    expect(await inspect(page, 'sign-in')).toEqual([]);

    await token.fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Overview').waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'lr_console')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
  });

  it('shows the overview: today’s statuses, leads per minute, deliveries, queues, what needs attention', async () => {
    await page.getByRole('img', { name: /Leads received per minute/ }).waitFor();
    await page.getByRole('region', { name: 'Queue depths' }).waitFor();
    await page
      .getByText(/dead letters/)
      .first()
      .waitFor();
    expect(await inspect(page, 'overview')).toEqual([]);
  });

  const nav = async (name: string) => {
    const link = page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name });
    if (!(await link.isVisible())) await page.getByRole('button', { name: 'Menu' }).click();
    await link.click();
  };

  it('finds a lead by its phone, written another way', async () => {
    await nav('Leads');
    await heading('Leads').waitFor();
    await page.getByLabel('Phone').fill('(415) 555-0177'.replace('(', '1 ('));
    await page.getByRole('button', { name: 'Search' }).click();
    const row = page.getByRole('region', { name: 'Leads found' }).getByRole('row');
    await row.nth(1).waitFor();
    expect(await row.count()).toBe(2);
    expect(await inspect(page, 'leads')).toEqual([]);
    await row.nth(1).getByRole('link').click();
    await heading(`Lead ${leadId.slice(-8)}`).waitFor();
  });

  it('reads the lead’s timeline, routing decision and attempts with the partner’s answer', async () => {
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    const timeline = page.locator('ol.timeline li');
    expect(await timeline.count()).toBeGreaterThanOrEqual(3);
    await page.getByText('Jane Roe').waitFor();
    // Times in the operator's zone (the browser's: New York here), the instant itself kept in `datetime`.
    const first = page.locator('ol.timeline time').first();
    const at = (await first.getAttribute('datetime'))!;
    expect(await first.getAttribute('title')).toBe(`${at} (shown in America/New_York)`);
    expect(await first.textContent()).toBe(
      new Intl.DateTimeFormat('en-US', {
        dateStyle: 'medium',
        timeStyle: 'medium',
        timeZone: 'America/New_York',
      }).format(new Date(at)),
    );
    await page
      .getByRole('region', { name: 'Every partner the route named' })
      .getByRole('link', { name: 'Acme Insurance' })
      .waitFor();
    const attempts = page.getByRole('region', { name: 'Attempts to deliver to Acme Insurance' });
    expect(await attempts.getByText('down for maintenance').count()).toBe(2);
    expect(await inspect(page, 'lead')).toEqual([]);
  });

  it('retries the dead letter once the partner accepts, and sees the lead delivered', async () => {
    accepting = true;
    await page.getByRole('button', { name: 'Retry delivery to Acme Insurance' }).click();
    await page.getByText(/Requeued 1 delivery/).waitFor();
    await page
      .locator('p')
      .filter({ hasText: /Received/ })
      .getByText('delivered')
      .waitFor({ timeout: 30_000 });
    expect(await stack.leadStatus(leadId)).toBe('delivered');
  });

  it('shows the lead’s money: the sale, the payout and their ledger entries', async () => {
    const ledger = page.getByRole('region', { name: 'Ledger of the lead' });
    await ledger.waitFor();
    await ledger.getByRole('cell', { name: '12.50', exact: true }).waitFor();
    await ledger.getByRole('cell', { name: '4.25', exact: true }).waitFor();
    await page
      .getByRole('definition')
      .filter({ hasText: /^8\.25$/ })
      .waitFor();
  });

  it('files a return for the buyer from the lead page, approved at once, and sees the credit in the ledger', async () => {
    const form = page.getByRole('form', { name: 'File a return' });
    await form.getByRole('button', { name: 'File and approve the return' }).click();
    // An empty reason is refused by the browser before it is sent: nothing filed.
    expect((await stack.admin('GET', '/returns?status=pending,approved,rejected')).body.items).toEqual([]);
    await form.getByLabel('Reason').fill('disconnected number, said by e-mail');
    await form.getByRole('button', { name: 'File and approve the return' }).click();
    await page.getByText(/Return for Acme Insurance filed and approved: 12\.5 credited/).waitFor();
    await page.getByRole('region', { name: 'Ledger of the lead' }).getByRole('cell', { name: '-12.50' }).waitFor();
    const returns = (await stack.admin('GET', '/returns?status=approved')).body.items;
    expect(returns).toMatchObject([
      { leadId, status: 'approved', filedVia: 'operator', reason: 'disconnected number, said by e-mail' },
    ]);
    expect(await inspect(page, 'lead-money')).toEqual([]);
  });

  it('approves a return in the queue, and rejects another with its reason', async () => {
    const returned: string[] = [];
    for (const phone of ['+1 415 555 0181', '+1 415 555 0182']) {
      const posted = await stack.request('POST', '/v1/leads', { key: sourceKey, body: sampleLead({ phone }) });
      expect(await stack.finalStatus(posted.body.id)).toBe('delivered');
      const fed = await stack.request('POST', '/v1/feedback', {
        key: feedbackKey,
        body: { leadId: posted.body.id, event: 'returned', reason: 'wrong number' },
      });
      expect(fed.body).toEqual({ status: 'recorded', outcome: 'return_pending' });
      returned.push(posted.body.id);
    }
    await nav('Returns');
    await heading('Returns').waitFor();
    const table = page.getByRole('region', { name: 'Returns' });
    const [approveId, rejectId] = returned as [string, string];
    await table.getByRole('link', { name: approveId.slice(-8) }).waitFor();
    expect(await inspect(page, 'returns')).toEqual([]);
    await page
      .getByRole('button', { name: `Approve the return of lead ${approveId.slice(-8)} by Acme Insurance` })
      .click();
    await page.getByText(`Return of lead ${approveId.slice(-8)} by Acme Insurance approved.`).waitFor();
    await page
      .getByRole('button', { name: `Reject the return of lead ${rejectId.slice(-8)} by Acme Insurance` })
      .click();
    const form = page.getByRole('form', {
      name: `Reject the return of lead ${rejectId.slice(-8)} by Acme Insurance`,
    });
    await form.getByLabel('Why it is rejected').fill('reached on the second call');
    await form.getByRole('button', { name: 'Reject the return' }).click();
    await page.getByText(`Return of lead ${rejectId.slice(-8)} by Acme Insurance rejected.`).waitFor();
    await page.getByText('No return is waiting for a decision.').waitFor();
    const all = (await stack.admin('GET', '/returns?status=approved,rejected')).body.items as {
      leadId: string;
      status: string;
      decisionReason: string | null;
    }[];
    expect(all.find((r) => r.leadId === approveId)).toMatchObject({ status: 'approved' });
    expect(all.find((r) => r.leadId === rejectId)).toMatchObject({
      status: 'rejected',
      decisionReason: 'reached on the second call',
    });
    expect(await stack.leadStatus(approveId)).toBe('returned');
    expect(await stack.leadStatus(rejectId)).toBe('delivered');
  });

  it('shows a report by day and partner and downloads it as CSV', async () => {
    await nav('Reports');
    await heading('Reports').waitFor();
    // Days in the operator's zone (tz), but for geo and channel, which are kept per UTC day.
    await page.getByText(/Days are days in America\/New_York/).waitFor();
    await page.getByLabel('Then by').selectOption('geo');
    await page.getByLabel('From (day in UTC)').waitFor();
    await page.getByText(/geo and channel are kept per UTC day/).waitFor();
    await page.getByLabel('Then by').selectOption('partner');
    await page.getByLabel('From (day in America/New_York)').waitFor();
    expect(await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href')).toContain(
      'tz=America%2FNew_York',
    );
    const table = page.getByRole('region', { name: 'Report table' });
    const row = table.getByRole('row', { name: /Acme Insurance/ });
    await row.waitFor();
    // Three sales (12.50 each), two returns approved: 12.50 of revenue today.
    expect(await row.getByRole('cell').nth(2).textContent()).toBe('3');
    await row.getByRole('cell', { name: '12.50', exact: true }).first().waitFor();
    await page.getByRole('img', { name: /Leads by day and partner/ }).waitFor();
    expect(await inspect(page, 'reports')).toEqual([]);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const csv = readFileSync(await download.path(), 'utf8');
    const [header, ...rows] = csv.trim().split('\r\n');
    expect(header).toMatch(/^day,partner\.id,partner\.name,leads,/);
    const acmeRow = rows.find((r) => r.includes(`,${partnerId},Acme Insurance,`));
    expect(acmeRow).toBeDefined();
    expect(acmeRow).toContain(',12.5000,');
  });

  it('shows today’s revenue, cost and margin on the overview', async () => {
    await nav('Overview');
    const money = page.getByRole('region', { name: 'Money today' });
    // Three sales of 12.50 and two of them returned; 4.25 paid for each, taken back with each return.
    await money.getByText('8.25').waitFor();
    expect(await money.getByRole('definition').first().textContent()).toBe('12.50');
    expect(await money.getByRole('definition').nth(1).textContent()).toBe('4.25');
  });

  it('pauses and resumes a partner', async () => {
    await nav('Partners');
    await heading('Partners').waitFor();
    expect(await inspect(page, 'partners')).toEqual([]);
    await page.getByRole('link', { name: 'Acme Insurance' }).click();
    await heading('Acme Insurance').waitFor();
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText(/is paused: new leads skip it/).waitFor();
    expect((await stack.admin('GET', `/partners/${partnerId}`)).body.status).toBe('paused');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByText(/is active again/).waitFor();
    expect((await stack.admin('GET', `/partners/${partnerId}`)).body.status).toBe('active');
    await page.getByRole('button', { name: 'Send a test lead' }).click();
    await page.getByRole('heading', { name: 'Test send' }).waitFor();
    expect(await inspect(page, 'partner')).toEqual([]);
  });

  it('shows the caps in use of each limit, and edits every kind of cap with a wrong one shown by its field', async () => {
    const caps = page.getByRole('region', { name: 'Caps in use' });
    const { capsInUse } = (await stack.admin('GET', `/partners/${partnerId}`)).body;
    await caps.getByRole('row', { name: new RegExp(`^Daily cap.* ${capsInUse.daily.used} of 100 `) }).waitFor();
    await caps.getByRole('row', { name: /^Monthly budget .* of 1,000\.00 / }).waitFor();
    const settings = page.getByRole('form', { name: 'Edit Acme Insurance' });
    // A lead cap is a number field (a spin button), a budget an exact amount typed as text.
    const weekly = settings.getByRole('spinbutton', { name: 'Weekly cap', exact: true });
    const budget = settings.getByRole('textbox', { name: 'Monthly budget', exact: true });
    await weekly.fill('-1');
    await budget.fill('2500.75');
    await settings.getByRole('button', { name: 'Save changes' }).click();
    await fieldError(weekly, /must be >= 0/);
    expect(await budget.getAttribute('aria-invalid')).toBeNull();
    expect((await stack.admin('GET', `/partners/${partnerId}`)).body.caps.weekly).toBeNull();
    await weekly.fill('500');
    await settings.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor();
    const stored = (await stack.admin('GET', `/partners/${partnerId}`)).body;
    expect(stored.caps).toEqual({
      hourly: null,
      daily: 100,
      weekly: 500,
      monthly: null,
      dailyBudget: null,
      monthlyBudget: 2500.75,
    });
    await caps.getByRole('row', { name: /^Weekly cap.* \d+ of 500 / }).waitFor();
    await caps.getByRole('row', { name: /^Monthly budget .* of 2,500\.75 / }).waitFor();
  });

  it('sets up a partner’s status pull (a wrong interval shown by its field), sees its first pull, and pulls now', async () => {
    // The CRM fails until told otherwise: the first pull, which starts by itself as soon as the settings are
    // saved, is a failure the page must show; the pull asked for afterwards reads its answer.
    crm.override = () => ({ status: 500, body: { error: 'maintenance' } });
    const section = page.getByRole('region', { name: 'Status pull' });
    const form = section.getByRole('form', { name: 'Status pull settings' });
    // By keyboard: the box ticked with the space bar, the form sent with Enter.
    await form.getByRole('checkbox', { name: 'Pull its statuses from its API' }).focus();
    await page.keyboard.press('Space');
    await form.getByRole('textbox', { name: 'Status API URL', exact: true }).fill(crm.url);
    const every = form.getByRole('spinbutton', { name: 'Every (seconds)', exact: true });
    await every.fill('5');
    await form.getByRole('textbox', { name: 'Items path', exact: true }).fill('data');
    await form.getByRole('textbox', { name: 'Reference path', exact: true }).fill('lead_id');
    await form.getByRole('textbox', { name: 'Status path', exact: true }).fill('status');
    await form.getByRole('textbox', { name: 'Status map', exact: true }).fill('{"Deposit": "converted"}');
    await form.getByRole('button', { name: 'Save status pull' }).click();
    await fieldError(every, /must be >= 10/);
    expect((await stack.admin('GET', `/partners/${partnerId}`)).body.statusPull).toBeNull();
    await every.fill('3600');
    await every.press('Enter');
    await section.getByText('Status pull saved.').waitFor();
    expect((await stack.admin('GET', `/partners/${partnerId}`)).body).toMatchObject({
      statusPull: { url: crm.url, intervalSeconds: 3600, itemsPath: 'data', method: 'GET' },
      statusMap: { Deposit: 'converted' },
    });
    // The first pull: the page follows it by itself until it has ended.
    const last = section.getByRole('definition').filter({ hasText: /failed|read,|running|none yet/ });
    await last.getByText(/failed — .*500/).waitFor({ timeout: 30_000 });
    expect(crm.requests.length).toBeGreaterThan(0);
    crm.override = undefined;
    await section.getByRole('button', { name: 'Pull statuses now' }).click();
    await section.getByText(/The pull is due now/).waitFor();
    await last.getByText('read, 0 sales changed').waitFor({ timeout: 30_000 });
    expect((await stack.admin('GET', `/partners/${partnerId}`)).body.statusPull).toMatchObject({ ok: true });
    expect(await inspect(page, 'partner-status-pull')).toEqual([]);
  });

  it('edits a route with an invalid filter and sees the error by the field', async () => {
    await nav('Routes');
    await heading('Routes').waitFor();
    expect(await inspect(page, 'routes')).toEqual([]);
    await page.getByRole('link', { name: 'US leads' }).click();
    await heading('Route US leads').waitFor();
    const filters = page.getByLabel('Filters');
    await filters.fill('{"fields": [{"field": "fields.zip", "op": "like", "value": "94%"}]}');
    await page.getByRole('button', { name: 'Save route' }).click();
    await page
      .locator('.field.invalid')
      .getByText(/fields\/0\/op/)
      .waitFor();
    expect(await filters.getAttribute('aria-invalid')).toBe('true');
    const described = (await filters.getAttribute('aria-describedby')) ?? '';
    expect(await page.locator(`[id="${described.split(' ').pop()}"]`).textContent()).toMatch(/op/);
    const stored = (await stack.admin('GET', `/routes/${routeId}`)).body;
    expect(stored.filters).toBeNull();
    expect(await inspect(page, 'route-invalid')).toEqual([]);
  });

  it('runs a dry run of a draft and sees what it would change, per partner', async () => {
    await page.getByLabel('Filters').fill('{"geo": ["CA"]}');
    await page.getByRole('button', { name: 'Run a dry run' }).click();
    const table = page.getByRole('region', { name: 'Dry run by partner' });
    await table.waitFor();
    const row = table.getByRole('row', { name: /Acme Insurance/ });
    // The three leads delivered to Acme so far (the first, and the two returned): the draft's CA filter takes none.
    expect((await row.getByRole('cell').allTextContents()).map((t) => t.trim())).toEqual(['0', '3', '3']);
    await page.getByRole('region', { name: 'Leads the draft changes' }).getByText(leadId.slice(-8)).waitFor();
    expect((await stack.admin('GET', `/routes/${routeId}`)).body.filters).toBeNull();
    expect(await inspect(page, 'route-dry-run')).toEqual([]);
  });

  it('creates a source and sees its key once, with its integration page', async () => {
    await nav('Sources');
    await heading('Sources').waitFor();
    await page.getByLabel('Name').fill('Google ads');
    await page.getByRole('button', { name: 'Create source' }).click();
    const key = page.locator('.secret code').first();
    await key.waitFor();
    expect(await key.textContent()).toMatch(/^lr_/);
    expect(await inspect(page, 'sources')).toEqual([]);
    await page.getByRole('link', { name: 'Google ads' }).first().click();
    await heading('Google ads').waitFor();
    const sourceId = page.url().split('/').pop()!;
    await page.getByLabel('Paid').selectOption('cpl');
    await page.getByLabel('Amount', { exact: true }).fill('3.5');
    await page.getByLabel('Amount by geo').fill('{"CA": 2}');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await waitFor(
      async () => ((await stack.admin('GET', `/sources/${sourceId}`)).body.payout?.model === 'cpl' ? true : undefined),
      { what: 'the payout saved' },
    );
    expect((await stack.admin('GET', `/sources/${sourceId}`)).body).toMatchObject({
      payout: { model: 'cpl', amount: 3.5, geo: { CA: 2 } },
      clawback: true,
    });
    await page.getByRole('tab', { name: 'Python' }).click();
    await page
      .getByRole('tabpanel')
      .getByText(/requests.post/)
      .waitFor();
    expect(await inspect(page, 'source')).toEqual([]);
  });

  it('shows the dead letters page, empty now that the lead is delivered', async () => {
    await nav('Dead letters');
    await heading('Dead letters').waitFor();
    await page.getByText(/No dead letters/).waitFor();
    expect(await inspect(page, 'dead-letters')).toEqual([]);
  });

  it('retries every dead letter, and says how many could not be', async () => {
    // A dead letter of a paused partner: a bulk retry leaves it where it is, and the page counts it.
    const paused = await stack.createPartner({ name: 'Paused Buyer', url: buyer.url });
    await stack.db.partner.update({ where: { id: paused.id }, data: { pausedAt: new Date(), pauseReason: 'test' } });
    const { sourceId } = await stack.db.lead.findUniqueOrThrow({ where: { id: leadId } });
    const createdAt = new Date();
    const lead = await stack.db.lead.create({
      data: {
        sourceId,
        name: 'Dead Letter',
        phone: '+14155550199',
        status: 'dead_lettered',
        createdAt,
        events: {
          create: [
            { status: 'queued', leadCreatedAt: createdAt },
            { status: 'dead_lettered', partnerId: paused.id, leadCreatedAt: createdAt },
          ],
        },
      },
    });
    await stack.db.delivery.create({
      data: { leadId: lead.id, partnerId: paused.id, status: 'dead_lettered', attempts: 2, deadLetteredAt: new Date() },
    });
    await nav('Overview');
    await nav('Dead letters');
    await page.getByRole('cell', { name: 'Paused Buyer', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Retry all' }).click();
    await page.getByText('Requeued 0. 1 could not be.').waitFor();
  });

  it('shows an auction on the lead’s page: who was pinged, each bid and how long it took, who won and why', async () => {
    // Buyers on loopback that bid on their pings (path /ping): the highest refuses the post, the next takes it,
    // the lowest bids under the floor; one more has no ping and bids its fixed price. A generous deadline: the
    // outcome must not depend on the machine's speed.
    const bidder = (bid: number | string, post: { status: number; body?: unknown }) =>
      new FakePartner((req) => (req.path.endsWith('/ping') ? { status: 200, body: { bid, ref: `R-${bid}` } } : post));
    const high = bidder(20, { status: 422, body: { error: 'duplicate' } });
    const mid = bidder('12.5', { status: 200, body: { accepted: true } });
    const low = bidder(3, { status: 200, body: { accepted: true } });
    await Promise.all([high.start(), mid.start(), low.start()]);
    try {
      const ping = (b: FakePartner) => ({ url: `${b.url}/ping`, referencePath: 'ref', timeoutMs: 5000 });
      const partners = [
        await stack.createPartner({ name: 'High Bidder', url: high.url, ping: ping(high) }),
        await stack.createPartner({ name: 'Mid Bidder', url: mid.url, ping: ping(mid) }),
        await stack.createPartner({ name: 'Low Bidder', url: low.url, ping: ping(low) }),
        await stack.createPartner({ name: 'Fixed Price Buyer', url: buyer.url, price: 8 }),
      ];
      const source = await stack.createSource({ name: 'Auction traffic' });
      // The auction route, made in the console: a floor with too many decimals is shown by its field.
      await page.goto(`${stack.url}/console/routes/new`);
      await heading('New route').waitFor();
      const form = page.getByRole('form', { name: 'New route' });
      await form.getByRole('textbox', { name: 'Name', exact: true }).fill('Auction');
      await form.getByRole('spinbutton', { name: 'Priority', exact: true }).fill('100');
      await form.getByRole('combobox', { name: 'Strategy', exact: true }).selectOption('auction');
      await form.getByRole('spinbutton', { name: 'Auction deadline (ms)', exact: true }).fill('5000');
      const floor = form.getByRole('textbox', { name: 'Floor', exact: true });
      await floor.fill('5.12345');
      await form.getByRole('textbox', { name: 'Filters', exact: true }).fill(`{"sourceIds": ["${source.id}"]}`);
      for (const p of partners) await form.getByRole('checkbox', { name: p.name, exact: true }).check();
      await form.getByRole('button', { name: 'Create route' }).click();
      await fieldError(floor, /./);
      await floor.fill('5');
      await form.getByRole('button', { name: 'Create route' }).click();
      await heading('Route Auction').waitFor();
      const routeId = page.url().split('/').pop()!;
      expect((await stack.admin('GET', `/routes/${routeId}`)).body).toMatchObject({
        strategy: 'auction',
        auction: { timeoutMs: 5000, floor: 5 },
      });
      expect(
        ((await stack.admin('GET', `/routes/${routeId}`)).body.partners as { partnerId: string }[])
          .map((p) => p.partnerId)
          .sort(),
      ).toEqual(partners.map((p) => p.id).sort());
      const posted = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() });
      expect(await stack.finalStatus(posted.body.id)).toBe('delivered');
      await stack.admin('DELETE', `/routes/${routeId}`);

      await page.goto(`${stack.url}/console/leads/${posted.body.id}`);
      const auction = page.getByRole('region', { name: 'Auction' });
      await auction
        .getByText('Mid Bidder won at 12.50, the second highest bid: High Bidder bid 20.00 and refused the post')
        .waitFor();
      const table = auction.getByRole('region', { name: 'Pings and bids' });
      const cells = async (name: string) =>
        (
          await table
            .getByRole('row', { name: new RegExp(`^${name}`) })
            .getByRole('cell')
            .allTextContents()
        ).map((t) => t.trim());
      // Partner, ping, bid, how long it took, rank, outcome.
      expect(await cells('High Bidder')).toEqual([
        'High Bidder',
        'bidreference R-20',
        '20.00',
        expect.stringMatching(/^\d+ ms$/),
        '1',
        expect.stringMatching(/^rejected/),
      ]);
      expect(await cells('Mid Bidder')).toEqual([
        'Mid Bidder',
        'bidreference R-12.5',
        '12.50',
        expect.stringMatching(/^\d+ ms$/),
        '2',
        'accepted',
      ]);
      expect(await cells('Low Bidder')).toEqual([
        'Low Bidder',
        'bidreference R-3',
        '3.00',
        expect.stringMatching(/^\d+ ms$/),
        '—',
        expect.stringMatching(/^skipped auction: bid below the auction’s floor/),
      ]);
      expect(await cells('Fixed Price Buyer')).toEqual([
        'Fixed Price Buyer',
        'not pinged: its fixed price',
        '8.00',
        '—',
        '3',
        'not offered: sold before its turn',
      ]);
      expect(await inspect(page, 'lead-auction')).toEqual([]);
    } finally {
      await Promise.all([high.stop(), mid.stop(), low.stop()]);
    }
  });

  it('shows a lead whose personal data was erased: a note, no data, the erasure on its timeline', async () => {
    const erased = await stack.admin('DELETE', `/leads/${leadId}/personal-data`, { reason: 'ticket 4711' });
    expect(erased.status).toBe(200);
    await page.goto(`${stack.url}/console/leads/${leadId}`);
    await heading(`Lead ${leadId.slice(-8)}`).waitFor();
    await page
      .getByRole('note')
      .getByText(/Personal data erased/)
      .waitFor();
    await page.getByText('personal data erased by an operator: ticket 4711').waitFor();
    expect(await page.getByText('Jane Roe').count()).toBe(0);
    expect(await page.getByText('jane@example.com').count()).toBe(0);
    expect(await inspect(page, 'lead-erased')).toEqual([]);
  });

  it('passes the same checks on the pages not visited above: a new partner, a new route, one that does not exist', async () => {
    for (const [path, title, name] of [
      ['partners/new', 'New partner', 'partner-new'],
      ['routes/new', 'New route', 'route-new'],
      ['no-such-page', 'Page not found', 'not-found'],
    ] as const) {
      await page.goto(`${stack.url}/console/${path}`);
      await heading(title).waitFor();
      expect(await inspect(page, name)).toEqual([]);
    }
  });

  it('signs out, and the old cookie is refused by the admin API', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'lr_console')!;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    await page.getByText('You have signed out.').waitFor();
    expect((await context.cookies()).find((c) => c.name === 'lr_console')).toBeUndefined();
    const res = await stack.request('GET', '/v1/admin/partners', { headers: { cookie: `lr_console=${cookie.value}` } });
    expect(res.status).toBe(401);
    // A reload stays signed out.
    await page.reload();
    await page.getByLabel('Admin token').waitFor();
  });
});
