import { FakePartner } from '../support/partner';
import { sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * The rows that grow with traffic get time-ordered ids (RFC 9562 version 7, ADR 0035): a new row lands at the
 * right end of its primary key's index, and the id tells its creation time — the bound a monthly partition
 * of the table by id would use. A lead's, its delivery's (made by the worker) and its ledger entries' (made
 * by PostgreSQL) alike.
 */
describe('time-ordered ids', () => {
  const stack = new TestStack();
  let buyer: FakePartner;
  let apiKey: string;

  /** The Unix milliseconds of a version-7 id, or null when it is not one. */
  const v7At = (id: string): number | null =>
    /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)
      ? parseInt(id.replaceAll('-', '').slice(0, 12), 16)
      : null;

  beforeAll(async () => {
    await stack.start();
    buyer = await new FakePartner(() => ({ status: 200, body: { ok: true } })).start();
    const partner = await stack.createPartner({ url: buyer.url, name: 'v7-buyer', price: '3.5' });
    await stack.createRoute({ name: 'v7', priority: 1, partners: [{ partnerId: partner.id }] });
    apiKey = (await stack.createSource({ payout: { model: 'cpl', amount: '1.25' } })).apiKey;
  });
  afterAll(async () => {
    await buyer.stop();
    await stack.stop();
  });

  it('are version 7, of the time they were made, and sort as the rows were made', async () => {
    const ids: string[] = [];
    const before = Date.now();
    for (let i = 0; i < 2; i++) {
      const { status, body } = await stack.request('POST', '/v1/leads', {
        key: apiKey,
        body: sampleLead({ phone: `+1 415 555 ${7000 + i}`, email: `v7-${i}@example.com` }),
      });
      expect(status).toBe(202);
      ids.push(body.id);
      await waitFor(async () => (await stack.leadStatus(body.id)) === 'delivered', { what: `lead ${i} delivered` });
    }
    const after = Date.now();
    const deliveries = await stack.db.delivery.findMany({
      where: { leadId: { in: ids } },
      orderBy: { createdAt: 'asc' },
    });
    const entries = await stack.db.ledgerEntry.findMany({
      where: { leadId: { in: ids } },
      orderBy: { recordedAt: 'asc' },
    });
    expect(deliveries).toHaveLength(2);
    expect(entries.length).toBeGreaterThanOrEqual(4); // each lead: the partner's sale and the source's payout
    for (const id of [...ids, ...deliveries.map((d) => d.id), ...entries.map((e) => e.id)]) {
      const at = v7At(id);
      expect({ id, version7: at !== null }).toEqual({ id, version7: true });
      expect(at).toBeGreaterThanOrEqual(before - 1);
      expect(at).toBeLessThanOrEqual(after + 1);
    }
    // Made one after the other (the second lead posted once the first was delivered): in id order too.
    expect(ids[0]! < ids[1]!).toBe(true);
    expect(deliveries[0]!.id < deliveries[1]!.id).toBe(true);
    expect(deliveries[0]!.leadId).toBe(ids[0]);
    expect(entries[0]!.id < entries[entries.length - 1]!.id).toBe(true);
  });
});
