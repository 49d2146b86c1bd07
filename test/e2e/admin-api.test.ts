import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';

describe('admin API', () => {
  const stack = new TestStack({ worker: false });
  beforeAll(() => stack.start());
  afterAll(() => stack.stop());

  it('requires the admin token', async () => {
    expect((await stack.request('GET', '/v1/admin/sources')).status).toBe(401);
    expect((await stack.request('GET', '/v1/admin/sources', { key: 'wrong-token' })).status).toBe(401);
    const source = await stack.createSource();
    // A source key is not an admin token.
    expect((await stack.request('GET', '/v1/admin/sources', { key: source.apiKey })).status).toBe(401);
  });

  describe('sources', () => {
    it('creates a source, showing apiKey and postbackSecret once', async () => {
      const res = await stack.admin('POST', '/sources', {
        name: 'Acme Affiliates',
        postbackUrl: 'https://acme.example/postback',
        rateLimitPerMinute: 600,
        duplicateWindowHours: 24,
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        id: expect.any(String),
        name: 'Acme Affiliates',
        postbackUrl: 'https://acme.example/postback',
        rateLimitPerMinute: 600,
        duplicateWindowHours: 24,
        active: true,
        apiKey: expect.stringMatching(/^lr_/),
        postbackSecret: expect.stringMatching(/^whsec_/),
      });
      const stored = await stack.db.source.findUniqueOrThrow({ where: { id: res.body.id } });
      expect(stored.apiKeyHash).not.toContain(res.body.apiKey);
      expect(JSON.stringify(stored)).not.toContain(res.body.apiKey);

      const read = await stack.admin('GET', `/sources/${res.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body.apiKey).toBeUndefined();
      expect(read.body.postbackSecret).toBeUndefined();
      expect(read.body.apiKeyPrefix).toBe(res.body.apiKey.slice(0, 8));
    });

    it('refuses a second source with the same name (409) and invalid input (422, all errors)', async () => {
      await stack.createSource({ name: 'unique-name' });
      const dup = await stack.admin('POST', '/sources', { name: 'unique-name' });
      expect(dup.status).toBe(409);
      const bad = await stack.admin('POST', '/sources', {
        postbackUrl: 'ftp://x',
        rateLimitPerMinute: -1,
        extra: true,
      });
      expect(bad.status).toBe(422);
      expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
        '/extra',
        '/name',
        '/postbackUrl',
        '/rateLimitPerMinute',
      ]);
    });

    it('updates, rotates the key (old key stops working at once) and deletes', async () => {
      const source = await stack.createSource();
      const patched = await stack.admin('PATCH', `/sources/${source.id}`, { duplicateWindowHours: 12 });
      expect(patched.status).toBe(200);
      expect(patched.body.duplicateWindowHours).toBe(12);

      const rotated = await stack.admin('POST', `/sources/${source.id}/rotate-key`);
      expect(rotated.status).toBe(200);
      expect(rotated.body.apiKey).not.toBe(source.apiKey);
      expect((await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() })).status).toBe(401);
      expect((await stack.request('POST', '/v1/leads', { key: rotated.body.apiKey, body: sampleLead() })).status).toBe(
        202,
      );

      expect((await stack.admin('DELETE', `/sources/${source.id}`)).status).toBe(204);
      expect((await stack.request('POST', '/v1/leads', { key: rotated.body.apiKey, body: sampleLead() })).status).toBe(
        401,
      );

      const empty = await stack.createSource();
      expect((await stack.admin('DELETE', `/sources/${empty.id}`)).status).toBe(204);
      expect((await stack.admin('GET', `/sources/${empty.id}`)).status).toBe(404);
    });

    it('lists with cursor pagination', async () => {
      for (let i = 0; i < 3; i++) await stack.createSource();
      const seen = new Set<string>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await stack.admin('GET', `/sources?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        for (const s of res.body.items) seen.add(s.id);
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      expect(seen.size).toBe(await stack.db.source.count());
      expect(pages).toBeGreaterThan(1);
      expect((await stack.admin('GET', '/sources?limit=0')).status).toBe(422);
    });
  });

  describe('lists', () => {
    it.each(['sources', 'partners', 'routes'])(
      '%s: an unknown query parameter is a 422, listed with every other problem',
      async (list) => {
        const res = await stack.admin('GET', `/${list}?limit=0&colour=red&cursor=nope`);
        expect(res.status).toBe(422);
        expect(res.body.errors).toEqual([
          { field: 'colour', message: 'is not a parameter here (use limit, cursor)' },
          { field: 'limit', message: 'must be an integer from 1 to 500' },
          { field: 'cursor', message: 'must be the nextCursor of a previous page' },
        ]);
        expect((await stack.admin('GET', `/${list}?limit=1`)).status).toBe(200);
      },
    );
  });

  describe('partners', () => {
    it('creates a partner with the documented defaults and never shows its secret', async () => {
      const res = await stack.admin('POST', '/partners', {
        name: 'acme',
        url: 'https://acme.example/leads',
        secret: 'whsec_abcdefghijklmnopqrstuvwxyz',
        caps: { daily: 100 },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        name: 'acme',
        method: 'POST',
        headers: {},
        hasSecret: true,
        timeoutMs: 10000,
        maxAttempts: 8,
        backoff: { delayMs: 1000, maxDelayMs: 3600000 },
        caps: { hourly: null, daily: 100, weekly: null, monthly: null, dailyBudget: null, monthlyBudget: null },
        capsInUse: { daily: { limit: 100, used: 0, remaining: 100, periodStart: expect.any(String) } },
        pauseAfterFailures: 20,
        active: true,
        status: 'active',
      });
      expect(JSON.stringify(res.body)).not.toContain('whsec_abc');
      const read = await stack.admin('GET', `/partners/${res.body.id}`);
      expect(JSON.stringify(read.body)).not.toContain('whsec_abc');
      expect((await stack.admin('POST', '/partners', { name: 'acme', url: 'https://x.example' })).status).toBe(409);
    });

    it('validates every part and lists every error', async () => {
      const res = await stack.admin('POST', '/partners', {
        name: 'bad',
        url: 'not a url',
        method: 'GET',
        timeoutMs: 5,
        schedule: { timezone: 'UTC', days: { mon: ['9-5'] } },
        filters: { fields: [{ field: 'fields.age', op: 'between' }] },
      });
      expect(res.status).toBe(422);
      const fields = new Set(res.body.errors.map((e: { field: string }) => e.field));
      for (const f of ['/url', '/method', '/timeoutMs', '/schedule/days/mon/0', '/filters/fields/0/op'])
        expect(fields).toContain(f);
    });

    it('takes lead caps per hour, day, week and month and budgets per day and month, exact', async () => {
      const caps = { hourly: 5, daily: 50, weekly: 200, monthly: 700, dailyBudget: '1250.5', monthlyBudget: 30000 };
      const res = await stack.admin('POST', '/partners', { name: 'capped', url: 'https://c.example/leads', caps });
      expect(res.status).toBe(201);
      expect(res.body.caps).toEqual({ ...caps, dailyBudget: 1250.5 });
      expect(Object.keys(res.body.capsInUse)).toEqual(Object.keys(caps));
      expect(res.body.capsInUse.dailyBudget).toEqual({
        limit: 1250.5,
        used: 0,
        remaining: 1250.5,
        periodStart: expect.stringMatching(/T00:00:00\.000Z$/), // no schedule: UTC days
      });
      // Unset one, change another: the rest stay as they were.
      const patched = await stack.admin('PATCH', `/partners/${res.body.id}`, { caps: { weekly: null, monthly: 10 } });
      expect(patched.body.caps).toEqual({ ...caps, weekly: null, monthly: 10, dailyBudget: 1250.5 });
      expect(patched.body.capsInUse.weekly).toBeUndefined();
      expect(patched.body.capsInUse.monthly).toMatchObject({ limit: 10, used: 0, remaining: 10 });
      const stored = await stack.db.partner.findUniqueOrThrow({ where: { id: res.body.id } });
      expect(stored.capDailyBudget?.toFixed(4)).toBe('1250.5000');
    });

    it('refuses bad caps with every problem in one 422', async () => {
      const res = await stack.admin('POST', '/partners', {
        name: 'bad-caps',
        url: 'https://c.example/leads',
        caps: { hourly: -1, weekly: 1.5, monthly: '9', dailyBudget: '12.34567', monthlyBudget: -5, yearly: 3 },
      });
      expect(res.status).toBe(422);
      const fields = res.body.errors.map((e: { field: string }) => e.field);
      for (const f of ['/caps/hourly', '/caps/weekly', '/caps/monthly', '/caps/dailyBudget', '/caps/monthlyBudget'])
        expect(fields).toContain(f);
      expect(JSON.stringify(res.body.errors)).toContain('yearly');
      const patch = await stack.admin(
        'PATCH',
        `/partners/${(await stack.createPartner({ url: 'https://d.example' })).id}`,
        {
          caps: { dailyBudget: 100000000 },
        },
      );
      expect(patch.status).toBe(422);
      expect(patch.body.errors).toEqual([expect.objectContaining({ field: '/caps/dailyBudget' })]);
    });

    it('shows what the current periods have used of each limit, on the partner’s clock', async () => {
      const p = await stack.createPartner({
        url: 'https://e.example/leads',
        price: 10,
        caps: { daily: 3, weekly: 10, dailyBudget: 25 },
        schedule: { timezone: 'America/New_York', days: {} },
      });
      const source = await stack.createSource();
      const delivered = async (status: 'pending' | 'accepted' | 'rejected', price: string | null, reserved: string) => {
        const lead = await stack.db.lead.create({
          data: {
            sourceId: source.id,
            status: 'routing',
            name: 'N',
            phone: `+1415555${String(Math.random()).slice(2, 6)}`,
          },
        });
        await stack.db.delivery.create({
          data: { leadId: lead.id, partnerId: p.id, status, price, capAmount: reserved },
        });
      };
      await delivered('accepted', '12.5', '10');
      await delivered('pending', null, '10');
      await delivered('rejected', null, '10');
      const { body } = await stack.admin('GET', `/partners/${p.id}`);
      expect(body.capsInUse).toMatchObject({
        daily: { limit: 3, used: 2, remaining: 1 },
        weekly: { limit: 10, used: 2, remaining: 8 },
        dailyBudget: { limit: 25, used: 22.5, remaining: 2.5 },
      });
      // New York's midnight, in UTC: 04:00 or 05:00.
      expect(body.capsInUse.daily.periodStart).toMatch(/T0[45]:00:00\.000Z$/);
      const list = await stack.admin('GET', '/partners?limit=500');
      expect(list.body.items.find((x: { id: string }) => x.id === p.id).capsInUse).toEqual(body.capsInUse);
    });

    it('updates, pauses/resumes and deletes', async () => {
      const p = await stack.createPartner({ url: 'https://p.example/leads' });
      const patched = await stack.admin('PATCH', `/partners/${p.id}`, { timeoutMs: 2000, active: false });
      expect(patched.body).toMatchObject({ timeoutMs: 2000, active: false, status: 'inactive' });
      await stack.db.partner.update({
        where: { id: p.id },
        data: { active: true, pausedAt: new Date(), pauseReason: 'test' },
      });
      expect((await stack.admin('GET', `/partners/${p.id}`)).body.status).toBe('paused');
      expect((await stack.admin('POST', `/partners/${p.id}/resume`)).body.status).toBe('active');
      expect((await stack.admin('DELETE', `/partners/${p.id}`)).status).toBe(204);
      expect((await stack.admin('GET', `/partners/${p.id}`)).status).toBe(404);
      expect((await stack.admin('GET', '/partners/not-an-id')).status).toBe(404);
    });
  });

  describe('routes', () => {
    it('creates a route over existing partners, in list order', async () => {
      const a = await stack.createPartner({ url: 'https://a.example' });
      const b = await stack.createPartner({ url: 'https://b.example' });
      const res = await stack.admin('POST', '/routes', {
        name: 'US traffic',
        priority: 5,
        filters: { geo: ['US'] },
        partners: [{ partnerId: b.id, weight: 3 }, { partnerId: a.id }],
        strategy: 'weighted',
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        name: 'US traffic',
        priority: 5,
        strategy: 'weighted',
        maxDeliveries: 1,
        active: true,
        partners: [
          { partnerId: b.id, weight: 3 },
          { partnerId: a.id, weight: 1 },
        ],
      });
      const patched = await stack.admin('PATCH', `/routes/${res.body.id}`, { partners: [{ partnerId: a.id }] });
      expect(patched.body.partners).toEqual([{ partnerId: a.id, weight: 1 }]);
      expect((await stack.admin('DELETE', `/routes/${res.body.id}`)).status).toBe(204);
      expect((await stack.admin('GET', `/routes/${res.body.id}`)).status).toBe(404);
    });

    it('refuses unknown partners and bad strategies', async () => {
      const res = await stack.admin('POST', '/routes', {
        name: 'r',
        priority: 1,
        strategy: 'priority',
        partners: [{ partnerId: '00000000-0000-4000-8000-000000000000' }],
      });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([{ field: '/partners/0/partnerId', message: 'is not a known partner id' }]);
      const bad = await stack.admin('POST', '/routes', { name: 'r', partners: [], strategy: 'random' });
      expect(bad.status).toBe(422);
      expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
        '/partners',
        '/priority',
        '/strategy',
      ]);
    });
  });

  describe('regex filters', () => {
    const regex = (value: unknown, field = 'fields.zip') => ({ field, op: 'regex', value });

    it('refuses patterns RE2 cannot compile, pointing at each, with the other errors', async () => {
      const p = await stack.createPartner({ url: 'https://regex.example' });
      const res = await stack.admin('POST', '/routes', {
        name: 'regex',
        priority: 1,
        strategy: 'random',
        partners: [{ partnerId: p.id }],
        filters: {
          fields: [
            regex('('),
            regex('(a)\\1'),
            regex('^9(?=4)'),
            regex('(?<!x)y'),
            regex('^9[0-9]{4}$'),
            { field: 'fields.zip', op: 'eq', value: '(' },
          ],
        },
      });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual(
        expect.arrayContaining([
          { field: '/strategy', message: expect.any(String) },
          { field: '/filters/fields/0/value', message: 'is not a valid RE2 pattern: missing closing ): `(`' },
          {
            field: '/filters/fields/1/value',
            message: expect.stringMatching(/^is not a valid RE2 pattern: invalid escape sequence/),
          },
          { field: '/filters/fields/2/value', message: expect.stringMatching(/^is not a valid RE2 pattern: .*\(\?=/) },
          { field: '/filters/fields/3/value', message: expect.stringMatching(/^is not a valid RE2 pattern/) },
        ]),
      );
      expect(res.body.errors).toHaveLength(5);
      expect(await stack.db.route.count({ where: { name: 'regex' } })).toBe(0);
    });

    it('refuses them on partners, on create and update', async () => {
      const created = await stack.admin('POST', '/partners', {
        name: 'regex-partner',
        url: 'https://regex.example',
        filters: { fields: [regex('(')] },
      });
      expect(created.status).toBe(422);
      expect(created.body.errors).toEqual([
        { field: '/filters/fields/0/value', message: 'is not a valid RE2 pattern: missing closing ): `(`' },
      ]);
      const p = await stack.createPartner({ url: 'https://regex.example' });
      const patched = await stack.admin('PATCH', `/partners/${p.id}`, { filters: { fields: [regex('(a)\\1')] } });
      expect(patched.status).toBe(422);
      expect(patched.body.errors).toEqual([
        { field: '/filters/fields/0/value', message: expect.stringContaining('invalid escape sequence') },
      ]);
      expect((await stack.admin('GET', `/partners/${p.id}`)).body.filters).toBeNull();
    });

    it('refuses a regex without a pattern, and patterns too long or too complex', async () => {
      const res = await stack.admin('POST', '/partners', {
        name: 'regex-limits',
        url: 'https://regex.example',
        filters: {
          fields: [
            regex(94107),
            { field: 'fields.zip', op: 'regex' },
            regex('a'.repeat(501)),
            regex('(a|aa|aaa|aaaa|b){1000}c'),
          ],
        },
      });
      expect(res.status).toBe(422);
      expect(res.body.errors).toEqual([
        { field: '/filters/fields/0/value', message: 'must be string' },
        { field: '/filters/fields/1/value', message: 'is required' },
        { field: '/filters/fields/2/value', message: 'is longer than 500 characters' },
        { field: '/filters/fields/3/value', message: expect.stringMatching(/^is too complex: it compiles to \d+ RE2/) },
      ]);
    });

    it('saves RE2 patterns, inline flags included', async () => {
      const p = await stack.createPartner({ url: 'https://regex.example' });
      const filters = { fields: [regex('(?i)^[a-z]+@example\\.com$', 'email'), regex('^([a-zA-Z0-9]+)+$')] };
      const res = await stack.admin('POST', '/routes', {
        name: 'regex-ok',
        priority: 1,
        strategy: 'priority',
        partners: [{ partnerId: p.id }],
        filters,
      });
      expect(res.status).toBe(201);
      expect(res.body.filters).toEqual(filters);
    });
  });

  it('answers unknown endpoints with a JSON 404', async () => {
    const res = await stack.request('GET', '/v1/nope', { key: ADMIN_TOKEN });
    expect(res.status).toBe(404);
    expect(res.body.status).toBe('rejected');
  });
});
