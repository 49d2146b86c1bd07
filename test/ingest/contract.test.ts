import type { Server } from 'node:http';
import net from 'node:net';
import pino from 'pino';
import { loadIngestConfig } from '@leadrouter/config';
import { createDb } from '@leadrouter/db';
import { createRedis, Queues } from '@leadrouter/queue';
import { createApp } from '../../services/ingest/src/app';
import { SourceRateLimits } from '../../services/ingest/src/http/rate-limit';
import { deleteKeys, testKeyPrefix } from '../support/redis-keys';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

const phone = (n: number) => `+1 415 555 ${String(1000 + n).padStart(4, '0')}`;
let seq = 0;
const nextPhone = () => phone(seq++);
/** A lead with a phone and email no other test uses (duplicate checks look at both). */
const fresh = (overrides: Record<string, unknown> = {}) => {
  const n = seq++;
  return sampleLead({ phone: phone(n), email: `person${n}@example.com`, ...overrides });
};

describe('POST /v1/leads: the source-facing contract', () => {
  const stack = new TestStack({ worker: false });
  let key: string;
  let sourceId: string;

  beforeAll(async () => {
    await stack.start();
    const s = await stack.createSource();
    key = s.apiKey;
    sourceId = s.id;
  });
  afterAll(() => stack.stop());

  const post = (body: unknown, headers: Record<string, string> = {}, k = key) =>
    stack.request('POST', '/v1/leads', { key: k, body, headers });

  describe('every failure is JSON with a status', () => {
    it('400 for malformed JSON', async () => {
      const res = await stack.request('POST', '/v1/leads', {
        key,
        rawBody: '{"name": "x",',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        status: 'rejected',
        errors: [{ message: expect.stringContaining('malformed JSON') }],
      });
    });

    it('415 for a body that is not JSON', async () => {
      const res = await stack.request('POST', '/v1/leads', {
        key,
        rawBody: 'name=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(415);
      expect(res.body.status).toBe('rejected');
      const none = await stack.request('POST', '/v1/leads', { key, rawBody: '{}' });
      expect(none.status).toBe(415);
    });

    it('413 for a body over 64 KiB', async () => {
      const res = await post(sampleLead({ fields: { blob: 'x'.repeat(1000) }, name: 'y'.repeat(70 * 1024) }));
      expect(res.status).toBe(413);
      expect(res.body.status).toBe('rejected');
    });

    it('401 for a missing or unknown key, via either header', async () => {
      for (const headers of [
        {},
        { authorization: 'Bearer lr_unknown' },
        { 'x-api-key': 'lr_unknown' },
        { authorization: 'Basic abc' },
      ] as Record<string, string>[]) {
        const res = await stack.request('POST', '/v1/leads', { body: sampleLead(), headers });
        expect(res.status).toBe(401);
        expect(res.body.status).toBe('rejected');
      }
      // The admin token is not a source key.
      expect((await post(fresh(), {}, ADMIN_TOKEN)).status).toBe(401);
    });

    it('422 for hostile input, never a 5xx', async () => {
      const deep = JSON.parse('{"a":'.repeat(500) + '1' + '}'.repeat(500));
      const cases: unknown[] = [
        { ...fresh(), fields: deep },
        JSON.parse(`{"name":"x","phone":"${nextPhone()}","__proto__":{"admin":true}}`),
        { ...fresh(), fields: JSON.parse('{"__proto__": "x", "constructor": 1}') },
        fresh({ fields: { big: 1e400 } }),
        fresh({ name: 'nul\u0000byte' }),
        fresh({ name: 'lone \ud800 surrogate' }),
        sampleLead({ phone: '9'.repeat(10000) }),
        fresh({ email: 'a'.repeat(5000) + '@example.com' }),
        [sampleLead()],
        'just a string',
        null,
        42,
      ];
      for (const body of cases) {
        const res = await post(body);
        expect([400, 422]).toContain(res.status);
        expect(res.body.status).toBe('rejected');
        expect(res.body.errors.length).toBeGreaterThan(0);
      }
    });

    it('accepts odd but valid Unicode', async () => {
      const res = await post(fresh({ name: 'Zoë 👩🏽‍💻 Ñandú محمد', fields: { clé: 'välue' } }));
      expect(res.status).toBe(202);
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the first answer and creates no second lead', async () => {
      const body = fresh();
      const first = await post(body, { 'idempotency-key': 'order-1' });
      const again = await post(body, { 'idempotency-key': 'order-1' });
      expect(first.status).toBe(202);
      expect(again.status).toBe(202);
      expect(again.body).toEqual(first.body);
      expect(await stack.db.lead.count({ where: { sourceId, email: body.email } })).toBe(1);
      expect(await stack.db.idempotencyKey.findMany({ where: { key: 'order-1' } })).toEqual([
        expect.objectContaining({ sourceId, leadId: first.body.id }),
      ]);
    });

    it('creates exactly one lead for concurrent requests with one key', async () => {
      const body = fresh();
      const answers = await Promise.all(Array.from({ length: 10 }, () => post(body, { 'idempotency-key': 'race-1' })));
      expect(answers.map((a) => a.status)).toEqual(Array(10).fill(202));
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect(await stack.db.lead.count({ where: { sourceId, email: body.email } })).toBe(1);
      expect(await stack.db.idempotencyKey.count({ where: { sourceId, key: 'race-1' } })).toBe(1);
    });

    it('refuses a key reused for a different lead, and frees keys after 24 h', async () => {
      const first = await post(fresh(), { 'idempotency-key': 'order-2' });
      const other = await post(fresh(), { 'idempotency-key': 'order-2' });
      expect(other.status).toBe(422);
      expect(other.body.errors[0].field).toBe('Idempotency-Key');

      const dayAgo = new Date(Date.now() - 25 * 3600_000);
      await stack.db.lead.update({ where: { id: first.body.id }, data: { createdAt: dayAgo } });
      await stack.db.idempotencyKey.update({
        where: { sourceId_key: { sourceId, key: 'order-2' } },
        data: { leadCreatedAt: dayAgo },
      });
      const later = await post(fresh(), { 'idempotency-key': 'order-2' });
      expect(later.status).toBe(202);
      expect(later.body.id).not.toBe(first.body.id);
    });

    it('keeps keys apart per source', async () => {
      const other = await stack.createSource();
      const a = await post(fresh(), { 'idempotency-key': 'shared' });
      const b = await post(fresh(), { 'idempotency-key': 'shared' }, other.apiKey);
      expect(b.status).toBe(202);
      expect(b.body.id).not.toBe(a.body.id);
    });

    it('bounds the key length', async () => {
      const res = await post(fresh(), { 'idempotency-key': 'k'.repeat(201) });
      expect(res.status).toBe(422);
    });
  });

  describe('duplicates', () => {
    let dupKey: string;
    beforeAll(async () => {
      dupKey = (await stack.createSource({ duplicateWindowHours: 24 })).apiKey;
    });

    it('answers 409 with the first lead for the same phone or email within the window', async () => {
      const p = nextPhone();
      const first = await post(sampleLead({ phone: p, email: 'dup1@example.com' }), {}, dupKey);
      expect(first.status).toBe(202);
      const samePhone = await post(sampleLead({ phone: p, email: 'other@example.com' }), {}, dupKey);
      expect(samePhone.status).toBe(409);
      expect(samePhone.body).toEqual({ status: 'duplicate', id: first.body.id });
      const sameEmail = await post(fresh({ email: 'DUP1@example.com' }), {}, dupKey);
      expect(sameEmail.body).toEqual({ status: 'duplicate', id: first.body.id });
    });

    it('counts leads from any source, without showing their ids, but only within the window', async () => {
      const p = nextPhone();
      const fromOther = await post({ ...fresh({ phone: p }), email: undefined }, {}, key);
      expect(fromOther.status).toBe(202);
      const duplicate = await post({ ...fresh({ phone: p }), email: undefined }, {}, dupKey);
      expect({ status: duplicate.status, body: duplicate.body }).toEqual({
        status: 409,
        body: { status: 'duplicate' },
      });
      await stack.db.lead.update({
        where: { id: fromOther.body.id },
        data: { createdAt: new Date(Date.now() - 25 * 3600_000) },
      });
      expect((await post(fresh({ phone: p }), {}, dupKey)).status).toBe(202);
    });

    it('is off for a source with duplicateWindowHours 0', async () => {
      const p = nextPhone();
      expect((await post(fresh({ phone: p }))).status).toBe(202);
      expect((await post(fresh({ phone: p }))).status).toBe(202);
    });

    it('accepts exactly one of ten simultaneous posts of one new phone', async () => {
      const p = nextPhone();
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) => post(sampleLead({ phone: p, email: `race${i}@example.com` }), {}, dupKey)),
      );
      const accepted = answers.filter((a) => a.status === 202);
      expect(accepted).toHaveLength(1);
      const dups = answers.filter((a) => a.status === 409);
      expect(dups).toHaveLength(9);
      for (const d of dups) expect(d.body.id).toBe(accepted[0]!.body.id);
    });
  });

  describe('batch', () => {
    it('answers each lead in request order', async () => {
      const p = nextPhone();
      const dupSource = await stack.createSource({ duplicateWindowHours: 1 });
      const res = await stack.request('POST', '/v1/leads/batch', {
        key: dupSource.apiKey,
        body: { leads: [fresh({ phone: p }), { name: 'no phone' }, fresh(), fresh({ phone: p }), 'junk'] },
      });
      expect(res.status).toBe(207);
      const r = res.body.results;
      expect(r.map((x: { status: string }) => x.status)).toEqual([
        'accepted',
        'rejected',
        'accepted',
        'duplicate',
        'rejected',
      ]);
      expect(r[1].errors).toEqual([{ field: '/phone', message: 'is required' }]);
      expect(r[3].id).toBe(r[0].id);
      expect(await stack.db.lead.count({ where: { id: { in: [r[0].id, r[2].id] } } })).toBe(2);
    });

    it('accepts the first of leads sharing a phone or email, whatever the concurrency', async () => {
      const dupSource = await stack.createSource({ duplicateWindowHours: 1 });
      const [p1, p2] = [nextPhone(), nextPhone()];
      const leads = [
        fresh({ phone: p1 }),
        fresh({ phone: p2 }),
        fresh({ phone: p1 }),
        fresh({ email: 'shared-in-batch@example.com' }),
        fresh({ phone: p2 }),
        fresh({ email: 'shared-in-batch@example.com' }),
      ];
      const res = await stack.request('POST', '/v1/leads/batch', { key: dupSource.apiKey, body: { leads } });
      const r = res.body.results as { status: string; id: string }[];
      expect(r.map((x) => x.status)).toEqual([
        'accepted',
        'accepted',
        'duplicate',
        'accepted',
        'duplicate',
        'duplicate',
      ]);
      expect([r[2]!.id, r[4]!.id, r[5]!.id]).toEqual([r[0]!.id, r[1]!.id, r[3]!.id]);
    });

    it('replays a retried batch with the same Idempotency-Key', async () => {
      const body = { leads: [fresh(), fresh()] };
      const a = await stack.request('POST', '/v1/leads/batch', {
        key,
        body,
        headers: { 'idempotency-key': 'batch-1' },
      });
      const b = await stack.request('POST', '/v1/leads/batch', {
        key,
        body,
        headers: { 'idempotency-key': 'batch-1' },
      });
      expect(b.body).toEqual(a.body);
    });

    it('refuses an empty batch, more than 500 leads, or a bad shape', async () => {
      expect((await stack.request('POST', '/v1/leads/batch', { key, body: { leads: [] } })).status).toBe(422);
      const many = Array.from({ length: 501 }, () => ({ name: 'x', phone: '+14155550100' }));
      const res = await stack.request('POST', '/v1/leads/batch', { key, body: { leads: many } });
      expect(res.status).toBe(422);
      expect(res.body.errors[0]).toMatchObject({ field: '/leads' });
      expect((await stack.request('POST', '/v1/leads/batch', { key, body: [sampleLead()] })).status).toBe(422);
    });

    it('lists every problem of the batch itself, and refuses a key too long for its leads’ `#<index>`', async () => {
      const bad = await stack.request('POST', '/v1/leads/batch', { key, body: { leads: [], extra: 1, more: 2 } });
      expect({ status: bad.status, errors: bad.body.errors }).toEqual({
        status: 422,
        errors: [
          { field: '/extra', message: 'is not an allowed property' },
          { field: '/more', message: 'is not an allowed property' },
          { field: '/leads', message: 'must NOT have fewer than 1 items' },
        ],
      });
      const long = await stack.request('POST', '/v1/leads/batch', {
        key,
        body: { leads: [fresh()] },
        headers: { 'idempotency-key': 'k'.repeat(197) },
      });
      expect({ status: long.status, errors: long.body.errors }).toEqual({
        status: 422,
        errors: [{ field: 'Idempotency-Key', message: 'header must be 1–196 characters' }],
      });
    });
  });

  describe('rate limits', () => {
    it('answers 429 with Retry-After past rateLimitPerMinute', async () => {
      const limited = await stack.createSource({ rateLimitPerMinute: 3 });
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await post(fresh(), {}, limited.apiKey));
      expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 429]);
      expect(answers[3]!.body.status).toBe('rejected');
      const retryAfter = Number(answers[3]!.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // Another source is not affected.
      expect((await post(fresh())).status).toBe(202);
    });

    it('refuses a source over its limit before reading its body', async () => {
      const limited = await stack.createSource({ rateLimitPerMinute: 1 });
      expect((await post(fresh(), {}, limited.apiKey)).status).toBe(202);
      const malformed = await stack.request('POST', '/v1/leads', {
        key: limited.apiKey,
        rawBody: '{"name":',
        headers: { 'content-type': 'application/json' },
      });
      expect(malformed.status).toBe(429);
    });

    it('counts every lead of a batch', async () => {
      const limited = await stack.createSource({ rateLimitPerMinute: 5 });
      const batch = (n: number) => ({ leads: Array.from({ length: n }, () => fresh()) });
      expect((await stack.request('POST', '/v1/leads/batch', { key: limited.apiKey, body: batch(4) })).status).toBe(
        207,
      );
      const over = await stack.request('POST', '/v1/leads/batch', { key: limited.apiKey, body: batch(2) });
      expect(over.status).toBe(429);
      expect(over.headers.get('retry-after')).toBeTruthy();
    });
  });

  describe('GET /v1/leads/:id', () => {
    it('masks phone and email for the owning source, hides the lead from others, shows all to the admin', async () => {
      const created = await post(fresh({ phone: '+1 415 555 0199', email: 'jane.doe@example.com' }));
      const own = await stack.request('GET', `/v1/leads/${created.body.id}`, { key });
      expect(own.status).toBe(200);
      expect(own.body.lead.phone).toBe('+1415*****99');
      expect(own.body.lead.email).toBe('j*******@example.com');
      const other = await stack.createSource();
      const foreign = await stack.request('GET', `/v1/leads/${created.body.id}`, { key: other.apiKey });
      expect(foreign.status).toBe(404);
      expect(foreign.body.status).toBe('rejected');
      const admin = await stack.request('GET', `/v1/leads/${created.body.id}`, { key: ADMIN_TOKEN });
      expect(admin.body.lead).toMatchObject({ phone: '+14155550199', email: 'jane.doe@example.com' });
      expect((await stack.request('GET', '/v1/leads/nope', { key })).status).toBe(404);
    });
  });

  describe('every request leaves a trace', () => {
    it('records rejections without personal data, counted by reason in stats', async () => {
      const traced = await stack.createSource({ duplicateWindowHours: 1 });
      const p = '+1 415 555 0142';
      await post(fresh({ phone: p }), {}, traced.apiKey);
      await post(fresh({ phone: p }), {}, traced.apiKey); // duplicate
      await post({ name: 'x', phone: '12', email: 'secret-person(at)example.com' }, {}, traced.apiKey); // invalid
      await stack.request('POST', '/v1/leads', {
        key: traced.apiKey,
        rawBody: '{oops',
        headers: { 'content-type': 'application/json' },
      });

      const rows = await waitFor(async () => {
        const r = await stack.db.ingestRejection.findMany({ where: { sourceId: traced.id }, orderBy: { id: 'asc' } });
        return r.length === 3 ? r : undefined;
      });
      // Written after each answer, off its path: in any order.
      expect(
        rows.map((r) => [r.httpStatus, r.reason]).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      ).toEqual([
        [409, 'duplicate'],
        [422, 'invalid'],
        [400, 'malformed'],
      ]);
      expect(JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toMatch(
        /secret-person|4155550142|\+1 415/,
      );
      expect(rows.find((r) => r.reason === 'invalid')!.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ field: '/phone' }),
          expect.objectContaining({ field: '/email' }),
        ]),
      );

      const stats = await stack.admin('GET', '/stats');
      expect(stats.status).toBe(200);
      const mine = stats.body.sources.find((s: { sourceId: string }) => s.sourceId === traced.id);
      expect(mine).toMatchObject({
        received: 1,
        leads: { queued: 1 },
        rejections: { duplicate: 1, invalid: 1, malformed: 1 },
      });
      expect(stats.body.rejections.byReason.invalid).toBeGreaterThanOrEqual(1);
      expect((await stack.admin('GET', '/stats?since=yesterday')).status).toBe(422);
    });
  });
});

describe('when PostgreSQL cannot be reached', () => {
  async function appWith(databaseUrl: string) {
    const config = loadIngestConfig({ NODE_ENV: 'test', ADMIN_TOKEN, DATABASE_URL: databaseUrl });
    const db = createDb({ databaseUrl, connectionTimeoutMs: 1000, queryTimeoutMs: 2000 });
    const redis = createRedis({ url: config.REDIS_URL, role: 'producer' });
    redis.on('error', () => undefined);
    const prefix = testKeyPrefix();
    const app = createApp({
      config,
      db,
      queues: new Queues(redis, prefix),
      log: pino({ level: 'silent' }),
      rateLimits: new SourceRateLimits(redis, prefix),
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    return {
      url,
      close: async () => {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
        redis.disconnect();
        await db.$disconnect();
        await deleteKeys(config.REDIS_URL, `${prefix}:*`);
      },
    };
  }

  const postLead = (url: string) =>
    fetch(`${url}/v1/leads`, {
      method: 'POST',
      headers: { authorization: 'Bearer lr_anything', 'content-type': 'application/json' },
      body: JSON.stringify(sampleLead()),
    });

  it('answers 503 with Retry-After when the server refuses connections', async () => {
    const app = await appWith('postgresql://postgres@127.0.0.1:1/leadrouter');
    try {
      const started = Date.now();
      const res = await postLead(app.url);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toMatchObject({ status: 'error' });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await app.close();
    }
  });

  it('answers 503 quickly, not hanging, when the server accepts but never answers', async () => {
    const sockets: net.Socket[] = [];
    const blackhole = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    const port = (blackhole.address() as net.AddressInfo).port;
    const app = await appWith(`postgresql://postgres@127.0.0.1:${port}/leadrouter`);
    try {
      const started = Date.now();
      const res = await postLead(app.url);
      expect(res.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      await app.close();
      sockets.forEach((s) => s.destroy());
      blackhole.close();
    }
  });
});
