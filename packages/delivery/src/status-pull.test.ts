import { statusPullSettings } from '@leadrouter/core';
import { serve } from '../../../test/support/http-server.js';
import { createAgents, destroyAgents } from './agents';
import { exchange, type ExchangeResult } from './send';
import { readStatusPullPage, statusPullRequest, STATUS_PULL_MAX_BYTES, STATUS_PULL_MAX_ITEMS } from './status-pull';

const settings = statusPullSettings({
  url: 'https://crm.example/leads?from={{from}}&to={{to}}&page=7',
  headers: { 'X-Api-Key': 'k1', Host: 'evil', 'Content-Length': '1' },
  itemsPath: 'result.items',
  referencePath: 'lead.ref',
  statusPath: 'state',
  amountPath: 'payout',
  page: { param: 'page', sizeParam: 'limit', size: 50 },
});
const window = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-04T00:00:00Z') };

const response = (body: string | Buffer, status = 200, overLimit = false): ExchangeResult => ({
  kind: 'response',
  status,
  headers: {},
  bytes: Buffer.isBuffer(body) ? body : Buffer.from(body),
  overLimit,
  durationMs: 5,
});
const read = (result: ExchangeResult) => readStatusPullPage(result, settings);

describe('statusPullRequest', () => {
  it('GET: the window in the URL, the page parameters set in its query (over the URL’s own), the partner’s headers', () => {
    const req = statusPullRequest(settings, window, 3, 2500);
    const url = new URL(req.url);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-04T00:00:00.000Z',
      page: '3',
      limit: '50',
    });
    expect(req).toMatchObject({ method: 'GET', timeoutMs: 2500 });
    expect(req.body).toBeUndefined();
    // Lower-cased; the ones the HTTP client sets are dropped, as for deliveries.
    expect(req.headers).toEqual({ 'x-api-key': 'k1', accept: 'application/json', 'user-agent': 'leadrouter' });
  });

  it('POST: a JSON body with the window and the page; no paging without `page`', () => {
    const req = statusPullRequest({ ...settings, method: 'POST' }, window, 2, 1000);
    expect(req.method).toBe('POST');
    expect(JSON.parse(req.body!)).toEqual({
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-04T00:00:00.000Z',
      page: 2,
      limit: 50,
    });
    expect(req.headers['content-type']).toBe('application/json');
    const { page: _page, ...unpaged } = settings;
    expect(new URL(statusPullRequest(unpaged, window, null, 1000).url).searchParams.get('page')).toBe('7');
  });
});

describe('readStatusPullPage', () => {
  it('reads the items at itemsPath, each through the partner’s paths', () => {
    const page = read(
      response(
        JSON.stringify({
          result: {
            items: [
              { lead: { ref: 'A-1' }, state: 'Deposit', payout: '40.5' },
              { lead: {}, state: 'x' },
            ],
          },
        }),
      ),
    );
    expect(page.ok && page.items).toEqual([
      { ok: true, item: { reference: 'A-1', status: 'Deposit', amount: expect.anything(), at: null } },
      { ok: false, error: 'lead.ref: no reference of 1 to 200 characters' },
    ]);
  });

  it.each<[string, ExchangeResult, RegExp]>([
    [
      'no answer',
      { kind: 'error', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED', durationMs: 1 },
      /no answer: ECONNREFUSED/,
    ],
    [
      'a timeout',
      { kind: 'error', code: 'ETIMEDOUT', message: 'Timeout awaiting', durationMs: 1000 },
      /within 1000 ms/,
    ],
    ['a redirect', response('', 301), /HTTP 301, a redirect \(redirects are not followed\)/],
    ['an error status', response('{"error":"bad key"}', 401), /^the answer was HTTP 401$/],
    ['too large', response('{"result":', 200, true), /larger than 8192 KiB/],
    ['bad bytes', response(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])), /not UTF-8/],
    ['not JSON', response('<html>Service Unavailable</html>'), /not JSON/],
    ['empty', response(''), /empty, not JSON/],
    ['no array', response('{"result":{"items":{"0":1}}}'), /no array at `result.items`/],
    ['an array at the top', response('[1,2]'), /no array at `result.items`/],
    ['too many items', response(`{"result":{"items":[${'0,'.repeat(STATUS_PULL_MAX_ITEMS)}0]}}`), /more than 50000/],
  ])('%s', (_what, result, error) => {
    expect(read(result)).toEqual({ ok: false, error: expect.stringMatching(error) });
  });

  it('keeps of an item’s texts what PostgreSQL can store: no NUL, no lone surrogate', () => {
    const item = (ref: string, state: string) => ({ lead: { ref }, state });
    const page = read(
      response(
        JSON.stringify({
          result: { items: [item('A\u0000-1', 'Dep\u0000osit'), item('B-\ud800', 'New'), item('C', '\u0000')] },
        }),
      ),
    );
    expect(page.ok && page.items.map((i) => (i.ok ? [i.item.reference, i.item.status] : i.error))).toEqual([
      ['A-1', 'Deposit'],
      ['B-\ufffd', 'New'],
      'state: no status of 1 to 200 characters',
    ]);
  });

  it('never quotes the answer in its error (it may hold people’s data)', () => {
    const page = read(response('jane@example.com +1 415 555 0100', 500));
    expect(JSON.stringify(page)).not.toMatch(/jane|415/);
    expect(JSON.stringify(read(response('jane@example.com')))).not.toMatch(/jane/);
  });

  it('a body of exactly the limit is read; one byte more is too large', () => {
    const limit = 64;
    const body = `{"result":{"items":[]},"pad":"${'x'.repeat(limit - 32)}"}`;
    expect(body.length).toBe(limit);
    expect(readStatusPullPage(response(body), settings, limit).ok).toBe(true);
    expect(readStatusPullPage(response(`${body} `), settings, limit).ok).toBe(false);
  });
});

describe('a pull’s exchange with the partner', () => {
  it('is refused on a private address unless private destinations are allowed (the SSRF rules of deliveries)', async () => {
    const crm = await serve((_req, res) => res.writeHead(200).end('{"result":{"items":[]}}'));
    const strict = createAgents({ allowPrivate: false });
    const open = createAgents({ allowPrivate: true });
    try {
      const req = statusPullRequest({ ...settings, url: crm.url }, window, 1, 1000);
      const refused = read(await exchange(req, STATUS_PULL_MAX_BYTES + 1, strict));
      expect(refused).toEqual({ ok: false, error: expect.stringMatching(/loopback/) });
      expect(crm.requests).toBe(0);
      expect(read(await exchange(req, STATUS_PULL_MAX_BYTES + 1, open))).toEqual({ ok: true, items: [] });
    } finally {
      destroyAgents(strict);
      destroyAgents(open);
      await crm.close();
    }
  });

  it('stops reading at the limit and says the answer went on', async () => {
    const huge = Buffer.alloc(5 * 1024 * 1024, 'x');
    const crm = await serve((_req, res) => res.writeHead(200).end(huge));
    const agents = createAgents({ allowPrivate: true });
    try {
      const result = await exchange(
        { url: crm.url, method: 'GET', headers: {}, timeoutMs: 2000 },
        1024 * 1024 + 1,
        agents,
      );
      expect(result).toMatchObject({ kind: 'response', status: 200, overLimit: true });
      expect(result.kind === 'response' && result.bytes.length).toBe(1024 * 1024 + 1);
      expect(readStatusPullPage(result, settings, 1024 * 1024)).toEqual({
        ok: false,
        error: 'the answer is larger than 1024 KiB',
      });
    } finally {
      destroyAgents(agents);
      await crm.close();
    }
  });
});
