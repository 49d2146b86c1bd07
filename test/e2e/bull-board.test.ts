import { QUEUES, subQueueNames } from '@leadrouter/queue';
import { freePort } from '../support/process';
import { ADMIN_TOKEN, TestStack } from '../support/stack';

/** README "Operating it (runbook)": Bull Board at /admin/queues over every queue, behind the admin token. */
describe('Bull Board at /admin/queues', () => {
  // Split in two: the board shows every sub-queue (ADR 0024).
  const stack = new TestStack({ worker: false, env: { QUEUE_PARTITIONS: '2' } });
  beforeAll(() => stack.start());
  afterAll(() => stack.stop());

  const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const get = (path: string, authorization?: string) =>
    fetch(`${stack.url}${path}`, { headers: authorization ? { authorization } : {} });

  it('asks a browser for credentials (401 with WWW-Authenticate: Basic) without the admin token', async () => {
    for (const authorization of [undefined, basic('ops', 'wrong-password'), 'Bearer wrong-token', basic('', '')]) {
      const res = await get('/admin/queues', authorization);
      expect({ authorization, status: res.status }).toEqual({ authorization, status: 401 });
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="leadrouter"/);
      expect(await res.json()).toMatchObject({ status: 'rejected' });
    }
    expect((await get('/admin/queues/api/queues')).status).toBe(401);
  });

  it('serves the board with the admin token as the Basic password (any user name) or as a bearer token', async () => {
    for (const authorization of [basic('operator', ADMIN_TOKEN), basic('', ADMIN_TOKEN), `Bearer ${ADMIN_TOKEN}`]) {
      const res = await get('/admin/queues', authorization);
      expect({ authorization, status: res.status }).toEqual({ authorization, status: 200 });
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      const html = await res.text();
      expect(html).toContain('<base href="/admin/queues/" />');
      expect(html).toContain('<title>leadrouter</title>');
    }
    // Its assets, which a browser fetches with the same Basic credentials.
    const asset = await get('/admin/queues/static/favicon-32x32.png', basic('operator', ADMIN_TOKEN));
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('image/png');
    expect((await get('/admin/queues/static/favicon-32x32.png')).status).toBe(401);
  });

  it('loads nothing from elsewhere: its fonts are served here, and its CSP allows this origin only', async () => {
    const auth = basic('operator', ADMIN_TOKEN);
    const page = await get('/admin/queues', auth);
    const html = await page.text();
    // Every URL the page names (href, src, CSS url()) is relative to the board or this origin.
    const urls = [...html.matchAll(/\b(?:href|src)="([^"]*)"|url\(\s*['"]?([^'")]*)/g)].map((m) => m[1] ?? m[2]!);
    expect(urls.length).toBeGreaterThan(3);
    expect(urls.filter((u) => /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i.test(u) && !u.startsWith('data:'))).toEqual([]);
    expect(html).not.toMatch(/googleapis|gstatic/);
    expect(urls).toContain('fonts/fonts.css');

    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/(^|; )default-src 'none'(;|$)/);
    expect(csp).toMatch(/(^|; )font-src 'self'(;|$)/);
    expect(csp).toMatch(/(^|; )script-src 'self'(;|$)/);
    expect(csp).not.toMatch(/https?:|\*/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');

    // The stylesheet: IBM Plex Sans 400–600 and Mono 400–500, as the page asked Google for.
    const sheet = await get('/admin/queues/fonts/fonts.css', auth);
    expect(sheet.status).toBe(200);
    expect(sheet.headers.get('content-type')).toMatch(/^text\/css/);
    const css = await sheet.text();
    const faces = new Set(
      [...css.matchAll(/font-family: '([^']+)';[^}]*?font-weight: (\d+);/g)].map((m) => `${m[1]} ${m[2]}`),
    );
    expect([...faces].sort()).toEqual([
      'IBM Plex Mono 400',
      'IBM Plex Mono 500',
      'IBM Plex Sans 400',
      'IBM Plex Sans 500',
      'IBM Plex Sans 600',
    ]);
    const files = [...new Set([...css.matchAll(/url\(([^)]+)\)/g)].map((m) => m[1]!))];
    expect(files.length).toBeGreaterThan(5);
    expect(files.every((f) => /^files\/[\w.-]+\.woff2?$/.test(f))).toBe(true);
    // Each font it names, for the browser that asks (latin is the one a page in English loads).
    for (const file of files.filter((f) => /latin-\d+-normal\.woff2$/.test(f))) {
      const font = await get(`/admin/queues/fonts/${file}`, auth);
      expect({ file, status: font.status, type: font.headers.get('content-type') }).toEqual({
        file,
        status: 200,
        type: 'font/woff2',
      });
      expect((await font.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    expect((await get('/admin/queues/fonts/files/nothing.woff2', auth)).status).toBe(404);
    expect((await get('/admin/queues/fonts/files/..%2F400.css', auth)).status).toBe(404);
    expect((await get('/admin/queues/fonts/fonts.css')).status).toBe(401);
  });

  it('lists every sub-queue of every queue of the job catalog in its API, named after its queue', async () => {
    const res = await get('/admin/queues/api/queues', `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: { name: string; displayName: string; readOnlyMode: boolean }[] };
    expect(Object.fromEntries(body.queues.map((q) => [q.name, q.displayName]))).toEqual(
      Object.fromEntries(
        Object.values(QUEUES).flatMap((queue) =>
          subQueueNames(queue, 2).map((name, i) => [name, `${queue} ${i + 1}/2`]),
        ),
      ),
    );
    expect(body.queues.every((q) => q.readOnlyMode)).toBe(true);
  });
});

describe('the queues in the admin API and Bull Board, when Redis has never been reachable', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await new TestStack({ worker: false, redisUrl: `redis://127.0.0.1:${await freePort()}` }).start();
  });
  afterAll(() => stack.stop());

  it('are answered 503 with Retry-After at once, instead of waiting for Redis', async () => {
    for (const path of ['/admin/queues/api/queues', '/v1/admin/queues']) {
      const started = Date.now();
      const res = await fetch(`${stack.url}${path}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        signal: AbortSignal.timeout(15_000),
      });
      expect({ path, status: res.status, retryAfter: res.headers.get('retry-after') }).toEqual({
        path,
        status: 503,
        retryAfter: '5',
      });
      expect(Date.now() - started).toBeLessThan(5_000);
    }
    // The page itself needs no Redis.
    expect(
      (await fetch(`${stack.url}/admin/queues`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status,
    ).toBe(200);
  });
});
