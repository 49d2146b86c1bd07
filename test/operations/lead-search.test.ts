import { Fixtures } from '../support/fixtures';
import { TestStack } from '../support/stack';

/** `GET /v1/admin/leads`: filters, newest-first keyset pages, and a 422 that lists every bad parameter. */
describe('lead search: admin API', () => {
  const stack = new TestStack({ worker: false });
  let fx: Fixtures;
  const at = (minute: number) => new Date(Date.UTC(2026, 2, 1, 12, minute));
  const ids: Record<string, string> = {};
  let acme: { id: string; name: string };
  let beta: { id: string; name: string };
  let buyer: { id: string; name: string };

  beforeAll(async () => {
    await stack.start();
    fx = new Fixtures(stack.db);
    acme = await fx.source('acme-affiliates');
    beta = await fx.source('beta-media');
    buyer = await fx.partner({ name: 'search-buyer' });
    const other = await fx.partner();
    const rows: [string, string, 'delivered' | 'unsold' | 'dead_lettered' | 'routing', number][] = [
      ['a0', acme.id, 'delivered', 0],
      ['a1', acme.id, 'unsold', 1],
      ['b2', beta.id, 'delivered', 2],
      ['a3', acme.id, 'dead_lettered', 3],
      ['b4', beta.id, 'routing', 4],
      ['a5', acme.id, 'delivered', 5],
    ];
    for (const [key, sourceId, status, minute] of rows) {
      ids[key] = (await fx.lead({ sourceId, status, createdAt: at(minute) })).id;
    }
    // Two leads in the same millisecond: the id orders them.
    ids.a5twin = (await fx.lead({ sourceId: acme.id, status: 'delivered', createdAt: at(5) })).id;
    await fx.delivery({ leadId: ids.a0!, partnerId: buyer.id, status: 'accepted' });
    await fx.delivery({ leadId: ids.b2!, partnerId: buyer.id, status: 'rejected' });
    await fx.delivery({ leadId: ids.b2!, partnerId: other.id, status: 'accepted' });
    await fx.delivery({ leadId: ids.a5!, partnerId: other.id, status: 'accepted' });
  });
  afterAll(() => stack.stop());

  const search = async (query: string) => {
    const res = await stack.admin('GET', `/leads?${query}`);
    expect({ query, status: res.status, body: res.status === 200 ? 'ok' : res.body }).toEqual({
      query,
      status: 200,
      body: 'ok',
    });
    return res.body as { items: { id: string }[]; nextCursor: string | null };
  };
  const idsOf = (page: { items: { id: string }[] }) => page.items.map((l) => l.id);
  const twins = () => [ids.a5!, ids.a5twin!].sort().reverse();

  it('lists newest first, light: no personal data', async () => {
    const page = await search('');
    expect(idsOf(page)).toEqual([...twins(), ids.b4, ids.a3, ids.b2, ids.a1, ids.a0]);
    expect(page.items[2]).toEqual({
      id: ids.b4,
      status: 'routing',
      sourceId: beta.id,
      sourceName: 'beta-media',
      geo: 'US',
      createdAt: at(4).toISOString(),
      updatedAt: expect.any(String),
    });
    expect(JSON.stringify(page)).not.toMatch(/Jane|@example\.com|\+1415/);
  });

  it('filters by status (one or several), source and partner (id or name), since and until', async () => {
    expect(idsOf(await search('status=delivered'))).toEqual([...twins(), ids.b2, ids.a0]);
    expect(idsOf(await search('status=unsold,dead_lettered'))).toEqual([ids.a3, ids.a1]);
    expect(idsOf(await search('source=beta-media'))).toEqual([ids.b4, ids.b2]);
    expect(idsOf(await search(`source=${beta.id}&status=delivered`))).toEqual([ids.b2]);
    // Offered to the partner, whatever it answered.
    expect(idsOf(await search('partner=search-buyer'))).toEqual([ids.b2, ids.a0]);
    expect(idsOf(await search(`partner=${buyer.id}&since=${at(1).toISOString()}`))).toEqual([ids.b2]);
    expect(idsOf(await search(`since=${at(1).toISOString()}&until=${at(4).toISOString()}`))).toEqual([
      ids.a3,
      ids.b2,
      ids.a1,
    ]);
    expect(idsOf(await search('since=2026-03-01T13:04:00%2B01:00&until=2026-03-01T12:05:00Z'))).toEqual([ids.b4]);
  });

  it('pages with a cursor that holds while new leads arrive', async () => {
    const first = await search('limit=3');
    expect(idsOf(first)).toEqual([...twins(), ids.b4]);
    // A lead arriving now is newer than every page: it never appears in a later one.
    const fresh = await fx.lead({ sourceId: acme.id, status: 'queued' });
    const seen = idsOf(first);
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await search(`limit=3&cursor=${cursor}`);
      seen.push(...idsOf(page));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([...twins(), ids.b4, ids.a3, ids.b2, ids.a1, ids.a0]);
    expect(idsOf(await search('limit=1'))).toEqual([fresh.id]);
    await stack.db.lead.delete({ where: { id: fresh.id } });
  });

  it('answers 422 listing every bad parameter', async () => {
    const res = await stack.admin(
      'GET',
      '/leads?status=delivered,sold&source=nobody&partner=nobody&since=yesterday&until=2026-13-01&limit=501&cursor=x&sort=asc',
    );
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'cursor',
      'limit',
      'partner',
      'since',
      'sort',
      'source',
      'status',
      'until',
    ]);
    const order = await stack.admin('GET', `/leads?since=${at(3).toISOString()}&until=${at(1).toISOString()}`);
    expect(order.status).toBe(422);
    expect(order.body.errors).toEqual([{ field: 'until', message: 'must be later than since' }]);
    const twice = await stack.admin('GET', '/leads?status=delivered&status=unsold');
    expect(twice.body.errors).toEqual([{ field: 'status', message: 'must be given once' }]);
  });
});
