import { pingSettings } from '@leadrouter/core';
import { serve } from '../../../test/support/http-server.js';
import { createAgents, destroyAgents } from './agents';
import { pingPayload, pingRequest, PING_READ_LIMIT_BYTES, readPingAnswer } from './ping';
import { exchange, type ExchangeResult } from './send';

const settings = pingSettings({
  url: 'https://buyer.example/ping',
  headers: { 'X-Api-Key': 'k1', Host: 'evil', 'Idempotency-Key': 'x' },
  referencePath: 'ping.ref',
});
// A lead object that still holds contact data, as a careless caller might pass it.
const fullLead = {
  id: '0b8d3c8e-0000-4000-8000-000000000001',
  name: 'John',
  phone: '+14155550100',
  email: 'john@example.com',
  geo: 'US',
  source: 'Facebook',
  fields: { zip: '94107', age: 42 },
};

const response = (body: string, status = 200, overLimit = false): ExchangeResult => ({
  kind: 'response',
  status,
  headers: {},
  bytes: Buffer.from(body),
  overLimit,
  durationMs: 7,
});

describe('the ping request', () => {
  it('carries no contact data without a field map, whatever the lead object holds', () => {
    const req = pingRequest(settings, fullLead, 'ping-1', 800);
    expect(JSON.parse(req.body)).toEqual({ id: fullLead.id, geo: 'US', source: 'Facebook', fields: fullLead.fields });
    expect(req.body).not.toMatch(/John|4155550100|example\.com/);
  });

  it('maps fields, and a stored map naming contact data maps nothing of it (enforced at send)', () => {
    expect(
      pingPayload(fullLead, { zip: 'fields.zip', country: 'geo', who: 'name', tel: 'phone', mail: 'email' }),
    ).toEqual({ zip: '94107', country: 'US' });
  });

  it('has the partner’s headers (reserved ones dropped), X-Ping-Id, and the sooner of its timeout and the auction’s', () => {
    const req = pingRequest(settings, fullLead, 'ping-1', 300);
    expect(req).toMatchObject({ url: 'https://buyer.example/ping', method: 'POST', timeoutMs: 300 });
    expect(req.headers).toEqual({
      'x-api-key': 'k1',
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': 'leadrouter',
      'x-ping-id': 'ping-1',
    });
    expect(pingRequest(settings, fullLead, 'p', 5000).timeoutMs).toBe(500);
  });
});

const read = (r: ExchangeResult, s = settings) => readPingAnswer(r, s);

describe('readPingAnswer', () => {
  it('a number at bidPath is a bid (exact, rounded to 4 places), with the reference', () => {
    const answer = read(response('{"bid":"12.34567","ping":{"ref":"R-9"}}'));
    expect(answer).toMatchObject({ outcome: 'bid', reference: 'R-9', durationMs: 7, httpStatus: 200 });
    expect(answer.outcome === 'bid' && answer.bid.toFixed()).toBe('12.3457');
  });

  it('no bid: no number, zero, negative, 204, or acceptWhen not met', () => {
    for (const body of ['{}', '{"bid":0}', '{"bid":-3}', '{"bid":"abc"}', 'not json'])
      expect(read(response(body)).outcome).toBe('no_bid');
    expect(read(response('', 204)).outcome).toBe('no_bid');
    const gated = pingSettings({ url: 'https://b.example', acceptWhen: { path: 'ok', equals: true } });
    expect(read(response('{"ok":false,"bid":5}'), gated).outcome).toBe('no_bid');
    expect(read(response('{"ok":true,"bid":5}'), gated).outcome).toBe('bid');
  });

  it('errors: non-2xx, a cut answer, a connection error; a timeout is its own outcome', () => {
    expect(read(response('{"bid":5}', 500))).toMatchObject({ outcome: 'error', reason: 'HTTP 500' });
    expect(read(response('{"bid":5}', 302))).toMatchObject({ outcome: 'error', reason: 'HTTP 302' });
    expect(read(response('{"bid":5', 200, true))).toMatchObject({ outcome: 'error' });
    expect(read({ kind: 'error', code: 'ECONNREFUSED', message: 'refused', durationMs: 1 })).toMatchObject({
      outcome: 'error',
      reason: 'ECONNREFUSED: refused',
    });
    expect(read({ kind: 'error', code: 'ETIMEDOUT', message: 'Timeout', durationMs: 500 })).toEqual({
      outcome: 'timeout',
      durationMs: 500,
    });
  });
});

describe('a ping’s exchange with the partner', () => {
  it('is refused on a private address unless private destinations are allowed (the SSRF rules of deliveries)', async () => {
    const buyer = await serve((_req, res) => res.writeHead(200).end('{"bid":3}'));
    const strict = createAgents({ allowPrivate: false });
    const open = createAgents({ allowPrivate: true });
    try {
      const req = pingRequest({ ...settings, url: buyer.url }, fullLead, 'p1', 1000);
      const refused = read(await exchange(req, PING_READ_LIMIT_BYTES, strict));
      expect(refused).toMatchObject({ outcome: 'error', reason: expect.stringMatching(/loopback/) });
      expect(buyer.requests).toBe(0);
      expect(read(await exchange(req, PING_READ_LIMIT_BYTES, open))).toMatchObject({ outcome: 'bid' });
    } finally {
      destroyAgents(strict);
      destroyAgents(open);
      await buyer.close();
    }
  });

  it('a buyer that hangs is a timeout within the ping’s timeout', async () => {
    const buyer = await serve(() => undefined);
    const agents = createAgents({ allowPrivate: true });
    try {
      const started = Date.now();
      const answer = read(
        await exchange(
          pingRequest({ ...settings, url: buyer.url }, fullLead, 'p1', 150),
          PING_READ_LIMIT_BYTES,
          agents,
        ),
      );
      expect(answer.outcome).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      destroyAgents(agents);
      await buyer.close();
    }
  });
});
