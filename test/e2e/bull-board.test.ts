import { QUEUES } from '@leadrouter/queue';
import { freePort } from '../support/process';
import { ADMIN_TOKEN, TestStack } from '../support/stack';

/** SPEC "Operations": Bull Board at /admin/queues over every queue, behind the admin token. */
describe('Bull Board at /admin/queues', () => {
  const stack = new TestStack({ worker: false });
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

  it('lists every queue of the job catalog in its API', async () => {
    const res = await get('/admin/queues/api/queues', `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(Object.values(QUEUES).sort());
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
