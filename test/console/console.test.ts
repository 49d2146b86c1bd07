import type { Browser, BrowserContext, Page } from 'playwright-core';
import { describeInBrowser, ensureConsoleBuilt, inspect, launchChromium } from '../support/browser';
import { ADMIN_TOKEN, TestStack } from '../support/stack';

/**
 * The operator console in a real browser (Debian's Chromium) against a real
 * ingest and worker: what an operator does, step by step, in one session.
 * Each page is checked with axe-core and photographed at 1280×800 and 390×844
 * (test-results/console/).
 */

jest.setTimeout(120_000);

describeInBrowser('the operator console', () => {
  const stack = new TestStack();
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Errors the page logged (a CSP violation is one), and requests that failed. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ensureConsoleBuilt();
    await stack.start();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: 'America/New_York' });
    page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/status of 40[134]/.test(msg.text())) pageErrors.push(msg.text());
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.setDefaultTimeout(20_000);
  });
  afterAll(async () => {
    await browser?.close();
    await stack.stop();
  });
  afterEach(() => {
    expect(pageErrors).toEqual([]);
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
