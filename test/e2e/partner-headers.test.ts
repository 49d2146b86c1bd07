// README "How routing decides" (partner options), ADR 0012: partner `headers` may not hold control characters nor set
// Host, Content-Length, Transfer-Encoding, Connection or the signing headers
// (422, with every error listed). A CR or LF made every delivery fail until
// dead-lettered; `Content-Length: 2` cut the body in two, the rest reaching
// the partner as a second request on the kept-alive connection.
import { FakePartner } from '../support/partner';
import { sampleLead, TestStack } from '../support/stack';

const CLIENT = /^is set by the HTTP client for each request; a partner may not set it$/;
const SIGNING = /^is a signing header, sent when the partner has a `secret`; set the secret instead$/;
const OURS = /^is set by leadrouter on every delivery \(the same on every retry\); a partner may not set it$/;
const VALUE = /^must be printable ASCII: no control characters \(CR, LF, tab, NUL…\) and nothing beyond ASCII$/;

describe('partner headers', () => {
  const stack = new TestStack();
  const fake = new FakePartner();

  beforeAll(async () => {
    await stack.start();
    await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
    await stack.stop();
  });

  it('refuses framing, signing and leadrouter’s own headers, and control characters, listing every error', async () => {
    const res = await stack.admin('POST', '/partners', {
      name: 'smuggler',
      url: 'https://buyer.example/leads',
      timeoutMs: 5,
      schedule: { timezone: 'Mars/Olympus_Mons', days: {} },
      headers: {
        Host: 'elsewhere.example',
        'Content-Length': '2',
        'transfer-encoding': 'chunked',
        CONNECTION: 'keep-alive',
        'Keep-Alive': 'timeout=5',
        'Proxy-Connection': 'close',
        TE: 'trailers',
        Trailer: 'X-Sig',
        Upgrade: 'h2c',
        Expect: '100-continue',
        'webhook-id': 'msg_1',
        'Webhook-Timestamp': '0',
        'WEBHOOK-SIGNATURE': 'v1,spoof',
        'X-Lead-Id': 'spoof',
        'idempotency-key': 'spoof',
        'X-Crlf': 'token\r\nX-Injected: 1',
        'X-Lf': 'a\nb',
        'X-Tab': 'a\tb',
        'X-Del': 'a\u007fb',
        'X-C1': 'a\u0085b',
        'X-Euro': '10 €',
        'X-Api-Key': 'one',
        'x-api-key': 'two',
        'bad name': 'x',
        Authorization: 'Bearer fine: printable ASCII, spaces included',
      },
    });
    expect(res.status).toBe(422);
    const at = (header: string, message: RegExp | string) => ({
      field: `/headers/${header}`,
      message: typeof message === 'string' ? message : expect.stringMatching(message),
    });
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { field: '/timeoutMs', message: 'must be >= 100' },
        {
          field: '/schedule/timezone',
          message: 'is not an IANA timezone (e.g. America/New_York, Europe/Paris, UTC)',
        },
        ...['Host', 'Content-Length', 'transfer-encoding', 'CONNECTION', 'Keep-Alive', 'Proxy-Connection'].map((h) =>
          at(h, CLIENT),
        ),
        ...['TE', 'Trailer', 'Upgrade', 'Expect'].map((h) => at(h, CLIENT)),
        ...['webhook-id', 'Webhook-Timestamp', 'WEBHOOK-SIGNATURE'].map((h) => at(h, SIGNING)),
        at('X-Lead-Id', OURS),
        at('idempotency-key', OURS),
        ...['X-Crlf', 'X-Lf', 'X-Tab', 'X-Del', 'X-C1', 'X-Euro'].map((h) => at(h, VALUE)),
        at('x-api-key', 'names the same header as X-Api-Key (header names are case-insensitive)'),
        at('bad name', /^has an invalid name \(must match pattern /),
      ]),
    );
    // Every one of them, and nothing about the header that is fine.
    expect(res.body.errors).toHaveLength(2 + 10 + 3 + 2 + 6 + 1 + 1);
    expect(res.body.errors.map((e: { field: string }) => e.field)).not.toContain('/headers/Authorization');
    expect(await stack.db.partner.count({ where: { name: 'smuggler' } })).toBe(0);
  });

  it('refuses them on update too, leaving the partner as it was', async () => {
    const partner = await stack.createPartner({ url: fake.url, headers: { 'X-Api-Key': 'k' } });
    const res = await stack.admin('PATCH', `/partners/${partner.id}`, {
      headers: { 'X-Api-Key': 'k\r\n', 'content-length': '2' },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      { field: '/headers/X-Api-Key', message: expect.stringMatching(VALUE) },
      { field: '/headers/content-length', message: expect.stringMatching(CLIENT) },
    ]);
    expect((await stack.admin('GET', `/partners/${partner.id}`)).body.headers).toEqual({ 'X-Api-Key': 'k' });
  });

  it('a framing header saved before it was refused is not sent: one request, the whole body', async () => {
    const partner = await stack.createPartner({ url: fake.url, headers: { 'X-Api-Key': 'k' } });
    await stack.db.partner.update({
      where: { id: partner.id },
      data: { headers: { 'X-Api-Key': 'k', 'Content-Length': '2', Connection: 'keep-alive' } },
    });
    await stack.createRoute({ partners: [{ partnerId: partner.id }] });
    const { apiKey } = await stack.createSource();
    const res = await stack.request('POST', '/v1/leads', { key: apiKey, body: sampleLead() });
    expect(await stack.finalStatus(res.body.id)).toBe('delivered');
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.json).toMatchObject({ id: res.body.id, name: 'John Doe' });
    expect(fake.requests[0]!.headers['x-api-key']).toBe('k');
  });
});
