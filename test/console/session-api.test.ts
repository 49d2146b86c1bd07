import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@leadrouter/config';
import { createRedis, Queues } from '@leadrouter/queue';
import { createApp } from '../../services/ingest/src/app';
import { SourceRateLimits } from '../../services/ingest/src/http/rate-limit';
import { SIGN_IN_FAILURES } from '../../services/ingest/src/http/sign-in-throttle';
import { ADMIN_TOKEN, TestStack } from '../support/stack';

/**
 * The console's session (ADR 0018): the admin token exchanged for a cookie,
 * the admin API taking that cookie, CSRF on state-changing calls, sign-out
 * that ends the session on every replica, and throttled wrong tokens.
 */

const stack = new TestStack({ worker: false });
beforeAll(() => stack.start());
afterAll(() => stack.stop());

/** `lr_console=<id>` from a Set-Cookie answer, and the whole header for its attributes. */
function cookieOf(headers: Headers): { pair: string; header: string } {
  const header = headers.getSetCookie().find((c) => c.startsWith('lr_console='));
  if (!header) throw new Error(`no session cookie in ${JSON.stringify(headers.getSetCookie())}`);
  return { pair: header.split(';')[0]!, header };
}

async function signIn(
  url = stack.url,
  headers: Record<string, string> = {},
): Promise<{ cookie: string; csrf: string; header: string }> {
  const res = await fetch(`${url}/v1/admin/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ token: ADMIN_TOKEN }),
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { csrfToken: string; expiresAt: string };
  const { pair, header } = cookieOf(res.headers);
  return { cookie: pair, csrf: body.csrfToken, header };
}

/** Another ingest app on the same database and Redis (another replica), optionally with another admin token. */
async function replica(env: Record<string, string> = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const redis = createRedis({ url: stack.env().REDIS_URL!, role: 'producer' });
  redis.on('error', () => undefined);
  const queues = new Queues(redis, stack.prefix);
  const app = createApp({
    config: { ...stack.ingestConfig, ...env },
    db: stack.db,
    log: createLogger({ name: 'replica', level: 'silent', pretty: false }),
    queues,
    rateLimits: new SourceRateLimits(redis, stack.prefix),
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queues.close();
      redis.disconnect();
    },
  };
}

describe('signing in', () => {
  it('exchanges the admin token for an HttpOnly, SameSite=Strict cookie with an expiry, and a CSRF token', async () => {
    const before = Date.now();
    const { header, csrf } = await signIn();
    expect(header).toMatch(/; HttpOnly/i);
    expect(header).toMatch(/; SameSite=Strict/i);
    expect(header).toMatch(/; Path=\/(;|$)/);
    expect(header).not.toMatch(/; Secure/i); // plain HTTP here
    const expires = Date.parse(/; Expires=([^;]+)/i.exec(header)![1]!);
    expect(expires).toBeGreaterThan(before + 11 * 3600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 12 * 3600_000 + 1000);
    expect(csrf).toMatch(/^[0-9a-f]{64}$/);
    // Only a hash of the session id is stored.
    const rows = await stack.db.$queryRaw<{ id_hash: string }[]>`SELECT id_hash FROM admin_sessions`;
    const id = /^lr_console=(.*)$/.exec(header.split(';')[0]!)![1]!;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((r) => r.id_hash.includes(id))).toBe(false);
  });

  it('marks the cookie Secure when the request came over HTTPS (as the trust proxy setting says)', async () => {
    // The same app behind a TLS-terminating proxy it trusts.
    const behindProxy = await replica();
    try {
      // With `trust proxy` off (the default), X-Forwarded-Proto is not believed.
      const plain = await signIn(behindProxy.url, { 'x-forwarded-proto': 'https' });
      expect(plain.header).not.toMatch(/; Secure/i);
    } finally {
      await behindProxy.close();
    }
    const redis = createRedis({ url: stack.env().REDIS_URL!, role: 'producer' });
    redis.on('error', () => undefined);
    const queues = new Queues(redis, stack.prefix);
    const app = createApp({
      config: stack.ingestConfig,
      db: stack.db,
      log: createLogger({ name: 'proxied', level: 'silent', pretty: false }),
      queues,
      rateLimits: new SourceRateLimits(redis, stack.prefix),
    });
    app.set('trust proxy', 'loopback');
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const secure = await signIn(url, { 'x-forwarded-proto': 'https' });
      expect(secure.header).toMatch(/; Secure/i);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queues.close();
      redis.disconnect();
    }
  });

  it('answers a wrong token 401 with a clear message, and a missing one 422', async () => {
    const wrong = await stack.request('POST', '/v1/admin/session', { body: { token: 'not-it' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.message).toMatch(/not the admin token/);
    expect(wrong.headers.getSetCookie()).toEqual([]);
    const missing = await stack.request('POST', '/v1/admin/session', { body: {} });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([{ field: '/token', message: expect.stringMatching(/admin token/) }]);
  });

  it('lets a page that reloads read its CSRF token again with the cookie, and no one without it', async () => {
    const { cookie, csrf } = await signIn();
    const again = await stack.request('GET', '/v1/admin/session', { headers: { cookie } });
    expect(again.status).toBe(200);
    expect(again.body.csrfToken).toBe(csrf);
    expect(again.headers.get('cache-control')).toBe('no-store');
    expect((await stack.request('GET', '/v1/admin/session')).status).toBe(401);
  });
});

describe('the admin API with the session cookie', () => {
  it('reads with the cookie alone', async () => {
    const { cookie } = await signIn();
    const res = await stack.request('GET', '/v1/admin/sources', { headers: { cookie } });
    expect(res.status).toBe(200);
  });

  it('refuses a state-changing call without the CSRF token (403), and takes it with the token', async () => {
    const { cookie, csrf } = await signIn();
    const body = { name: `csrf-${Date.now()}` };
    const none = await stack.request('POST', '/v1/admin/sources', { body, headers: { cookie } });
    expect(none.status).toBe(403);
    expect(none.body.message).toMatch(/X-CSRF-Token/);
    const wrong = await stack.request('POST', '/v1/admin/sources', {
      body,
      headers: { cookie, 'x-csrf-token': csrf.replace(/.$/, (c) => (c === '0' ? '1' : '0')) },
    });
    expect(wrong.status).toBe(403);
    // Another session's token is no good either.
    const other = await signIn();
    expect(
      (await stack.request('POST', '/v1/admin/sources', { body, headers: { cookie, 'x-csrf-token': other.csrf } }))
        .status,
    ).toBe(403);
    expect(await stack.db.source.count({ where: { name: body.name } })).toBe(0);
    const right = await stack.request('POST', '/v1/admin/sources', {
      body,
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(right.status).toBe(201);
  });

  it('leaves bearer-token calls as they were: no CSRF token needed', async () => {
    const res = await stack.admin('POST', '/sources', { name: `bearer-${Date.now()}` });
    expect(res.status).toBe(201);
  });

  it('refuses an expired session', async () => {
    const { cookie } = await signIn();
    await stack.db.$executeRaw`UPDATE admin_sessions SET expires_at = now() - interval '1 second'`;
    const res = await stack.request('GET', '/v1/admin/sources', { headers: { cookie } });
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/session has ended/);
  });

  it('is one session on every replica, and a changed ADMIN_TOKEN ends it', async () => {
    const { cookie, csrf } = await signIn();
    const other = await replica();
    const rotated = await replica({ ADMIN_TOKEN: 'another-admin-token-0123456789abcdef' });
    try {
      expect((await fetch(`${other.url}/v1/admin/partners`, { headers: { cookie } })).status).toBe(200);
      expect((await fetch(`${rotated.url}/v1/admin/partners`, { headers: { cookie } })).status).toBe(401);
      // Signed out on this replica: the copied cookie stops working on the other at once.
      const out = await stack.request('DELETE', '/v1/admin/session', { headers: { cookie, 'x-csrf-token': csrf } });
      expect(out.status).toBe(204);
      expect((await fetch(`${other.url}/v1/admin/partners`, { headers: { cookie } })).status).toBe(401);
    } finally {
      await other.close();
      await rotated.close();
    }
  });
});

describe('signing out', () => {
  it('needs the CSRF token, deletes the session and clears the cookie; the old cookie then gets 401', async () => {
    const { cookie, csrf } = await signIn();
    const forged = await stack.request('DELETE', '/v1/admin/session', { headers: { cookie } });
    expect(forged.status).toBe(403);
    expect((await stack.request('GET', '/v1/admin/sources', { headers: { cookie } })).status).toBe(200);

    const out = await stack.request('DELETE', '/v1/admin/session', { headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.status).toBe(204);
    const cleared = cookieOf(out.headers).header;
    expect(cleared).toMatch(/^lr_console=;/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);

    const after = await stack.request('GET', '/v1/admin/sources', { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(after.body.message).toMatch(/signed out or expired/);
    expect((await stack.request('GET', '/v1/admin/session', { headers: { cookie } })).status).toBe(401);
    // Signing out again (or without a session) is harmless.
    expect((await stack.request('DELETE', '/v1/admin/session', { headers: { cookie } })).status).toBe(204);
  });
});

describe('wrong tokens are throttled per client address', () => {
  it(`answers 429 with Retry-After after ${SIGN_IN_FAILURES} wrong tokens, even to the right one`, async () => {
    // A count of this address's own (the earlier tests' wrong tokens forgotten).
    const redis = createRedis({ url: stack.env().REDIS_URL!, role: 'worker' });
    try {
      const keys = await redis.keys(`${stack.prefix}:signin*`);
      if (keys.length) await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
    const attempt = (token: string) => stack.request('POST', '/v1/admin/session', { body: { token } });
    for (let i = 0; i < SIGN_IN_FAILURES; i++) expect((await attempt(`wrong-${i}`)).status).toBe(401);
    const blocked = await attempt('wrong-again');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(60);
    expect(blocked.body.message).toMatch(/too many wrong admin tokens/);
    const right = await attempt(ADMIN_TOKEN);
    expect(right.status).toBe(429);
  });
});
