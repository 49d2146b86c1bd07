import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describeInBrowser, ensureConsoleBuilt, inspect, launchChromium } from '../support/browser';
import { FakePartner } from '../support/partner';
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
  let partnerId = '';
  let routeId = '';
  let leadId = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Errors the page logged (a CSP violation is one), and requests that failed. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureConsoleBuilt();
    await Promise.all([stack.start(), buyer.start()]);
    const source = await stack.createSource({ name: 'Facebook ads' });
    partnerId = (
      await stack.createPartner({
        name: 'Acme Insurance',
        url: buyer.url,
        maxAttempts: 2,
        backoff: { delayMs: 10, maxDelayMs: 20 },
      })
    ).id;
    routeId = (await stack.createRoute({ name: 'US leads', partners: [{ partnerId }] })).id;
    const posted = await stack.request('POST', '/v1/leads', {
      key: source.apiKey,
      body: sampleLead({ phone: '+1 415 555 0177', email: 'jane@example.com', name: 'Jane Roe' }),
    });
    leadId = posted.body.id;
    expect(await stack.finalStatus(leadId)).toBe('dead_lettered');
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'America/New_York' });
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
  });
  afterEach(() => {
    expect(pageErrors.splice(0)).toEqual([]);
  });

  const heading = (name: string) => page.getByRole('heading', { level: 1, name });

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
    await heading(`Lead ${leadId.slice(0, 8)}`).waitFor();
  });

  it('reads the lead’s timeline, routing decision and attempts with the partner’s answer', async () => {
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    const timeline = page.locator('ol.timeline li');
    expect(await timeline.count()).toBeGreaterThanOrEqual(3);
    await page.getByText('Jane Roe').waitFor();
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
    expect((await row.getByRole('cell').allTextContents()).map((t) => t.trim())).toEqual(['0', '1', '1']);
    await page.getByRole('region', { name: 'Leads the draft changes' }).getByText(leadId.slice(0, 8)).waitFor();
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
    const lead = await stack.db.lead.create({
      data: {
        sourceId,
        name: 'Dead Letter',
        phone: '+14155550199',
        status: 'dead_lettered',
        events: { create: [{ status: 'queued' }, { status: 'dead_lettered', partnerId: paused.id }] },
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

  it('shows a lead whose personal data was erased: a note, no data, the erasure on its timeline', async () => {
    const erased = await stack.admin('DELETE', `/leads/${leadId}/personal-data`, { reason: 'ticket 4711' });
    expect(erased.status).toBe(200);
    await page.goto(`${stack.url}/console/leads/${leadId}`);
    await heading(`Lead ${leadId.slice(0, 8)}`).waitFor();
    await page
      .getByRole('note')
      .getByText(/Personal data erased/)
      .waitFor();
    await page.getByText('personal data erased by an operator: ticket 4711').waitFor();
    expect(await page.getByText('Jane Roe').count()).toBe(0);
    expect(await page.getByText('jane@example.com').count()).toBe(0);
    expect(await inspect(page, 'lead-erased')).toEqual([]);
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
