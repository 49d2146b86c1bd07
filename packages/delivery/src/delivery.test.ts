import { backoffDelay, classify, parseRetryAfter, readJsonPath, type AttemptResult } from './classify';
import { buildPayload, type PublicLead } from './payload';
import { buildRequest } from './request';
import { excerpt } from './answer';
import { readPartnerAnswer } from './answer';

const response = (status: number, body = '', headers: Record<string, string> = {}): AttemptResult => ({
  kind: 'response',
  status,
  body,
  headers,
  durationMs: 5,
});

describe('classify', () => {
  it.each([
    [200, 'accepted'],
    [201, 'accepted'],
    [204, 'accepted'],
    [400, 'rejected'],
    [401, 'rejected'],
    [404, 'rejected'],
    [409, 'rejected'],
    [422, 'rejected'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [301, 'retry'],
    [302, 'retry'],
  ])('HTTP %i is %s', (status, outcome) => {
    expect(classify(response(status)).outcome).toBe(outcome);
  });

  it('pauses the partner on 410 Gone', () => {
    expect(classify(response(410))).toEqual({
      outcome: 'rejected',
      reason: expect.stringContaining('410'),
      pausePartner: true,
    });
  });

  it('retries timeouts and connection errors', () => {
    expect(classify({ kind: 'error', code: 'ETIMEDOUT', message: 'Timeout', durationMs: 1000 })).toMatchObject({
      outcome: 'retry',
      reason: expect.stringContaining('ETIMEDOUT'),
    });
    expect(classify({ kind: 'error', code: 'ECONNREFUSED', message: 'refused', durationMs: 1 }).outcome).toBe('retry');
  });

  it('honours Retry-After on 429 and 408, in seconds or as a date', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(classify(response(429, '', { 'retry-after': '120' }), null, now)).toMatchObject({
      outcome: 'retry',
      retryAfterMs: 120000,
    });
    expect(classify(response(408, '', { 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), null, now)).toMatchObject({
      retryAfterMs: 30000,
    });
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('applies acceptWhen to a 2xx JSON answer', () => {
    const when = { path: 'result.status', equals: 'sold' };
    expect(classify(response(200, '{"result":{"status":"sold"}}'), when).outcome).toBe('accepted');
    expect(classify(response(200, '{"result":{"status":"dup"}}'), when)).toEqual({
      outcome: 'rejected',
      reason: expect.stringContaining('"dup"'),
    });
    expect(classify(response(200, 'not json'), when).outcome).toBe('rejected');
  });
});

describe('readJsonPath', () => {
  it('walks objects and arrays', () => {
    expect(readJsonPath('{"a":[{"b":true}]}', 'a.0.b')).toBe(true);
    expect(readJsonPath('{"a":1}', 'a.b')).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('doubles from delayMs, capped at maxDelayMs, with jitter in the upper half', () => {
    expect(backoffDelay(1, 1000, 3600000, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, 3600000, () => 0.999999)).toBe(1000);
    expect(backoffDelay(4, 1000, 3600000, () => 0.999999)).toBe(8000);
    expect(backoffDelay(30, 1000, 60000, () => 0.999999)).toBe(60000);
    for (let attempt = 1; attempt < 10; attempt++) {
      const d = backoffDelay(attempt, 1000, 3600000);
      const exp = 1000 * 2 ** (attempt - 1);
      expect(d).toBeGreaterThanOrEqual(exp / 2);
      expect(d).toBeLessThanOrEqual(exp);
    }
  });
});

describe('payload and request', () => {
  const lead: PublicLead = {
    id: 'L1',
    name: 'John',
    phone: '+14155550100',
    email: null,
    geo: 'US',
    source: 'FB',
    fields: { zip: '94107' },
  };

  it('maps fields by fieldMap, leaving out missing values', () => {
    expect(
      buildPayload(lead, { first_name: 'name', tel: 'phone', zip: 'fields.zip', mail: 'email', x: 'fields.nope' }),
    ).toEqual({ first_name: 'John', tel: '+14155550100', zip: '94107' });
  });

  it('sends the public fields without a fieldMap', () => {
    expect(buildPayload(lead, null)).toEqual({
      id: 'L1',
      name: 'John',
      phone: '+14155550100',
      email: null,
      geo: 'US',
      source: 'FB',
      fields: { zip: '94107' },
    });
  });

  it('carries X-Lead-Id and an Idempotency-Key stable per delivery; partner headers cannot override them', () => {
    const req = buildRequest(
      {
        id: 'P',
        url: 'https://p.example/leads',
        method: 'POST',
        headers: { 'X-Key': 'k', 'Idempotency-Key': 'spoof', 'X-Lead-Id': 'spoof' },
        fieldMap: null,
        timeoutMs: 1000,
      },
      lead,
      'D1',
    );
    expect(req.headers).toEqual({
      'x-key': 'k',
      'user-agent': 'leadrouter',
      'content-type': 'application/json',
      'x-lead-id': 'L1',
      'idempotency-key': 'D1',
    });
    expect(JSON.parse(req.body)).toMatchObject({ id: 'L1' });
  });

  it('drops framing and signing headers a partner saved before they were refused', () => {
    const req = buildRequest(
      {
        id: 'P',
        url: 'https://p.example/leads',
        method: 'POST',
        headers: {
          'X-Key': 'k',
          'Content-Length': '2',
          'Transfer-Encoding': 'chunked',
          Host: 'elsewhere.example',
          Connection: 'close',
          'webhook-signature': 'v1,spoof',
        },
        fieldMap: null,
        timeoutMs: 1000,
      },
      lead,
      'D1',
    );
    expect(Object.keys(req.headers).sort()).toEqual([
      'content-type',
      'idempotency-key',
      'user-agent',
      'x-key',
      'x-lead-id',
    ]);
  });

  it('keeps at most 2 KiB of a response, on a character boundary', () => {
    expect(Buffer.byteLength(excerpt('é'.repeat(5000)))).toBeLessThanOrEqual(2048);
    expect(excerpt('short')).toBe('short');
    // An emoji across the 2 KiB boundary is left out whole, not cut into a lone surrogate.
    expect(excerpt('a'.repeat(2046) + '😀')).toBe('a'.repeat(2046));
  });

  it('keeps a response excerpt and the answer’s texts storable: no NUL, no lone surrogate', () => {
    expect(excerpt('ok\u0000bad')).toBe('okbad');
    expect(excerpt('lone \ud800 high, lone \udc00 low')).toBe('lone \ufffd high, lone \ufffd low');
    // 499 ASCII characters and an emoji are 500 characters (501 UTF-16 units): kept whole, the rest cut off.
    const body = JSON.stringify({ reason: 'x'.repeat(499) + '😀tail', ref: 'a\u0000\ud83d', price: 1e9 });
    expect(readPartnerAnswer(body, { reason: 'reason', reference: 'ref', price: 'price' })).toEqual({
      reason: 'x'.repeat(499) + '😀',
      reference: 'a\ufffd',
    });
    expect(readPartnerAnswer('{"price":"99999999.9999"}', { price: 'price' }).price?.toString()).toBe('99999999.9999');
    // Exact, rounded to 4 places (half to even): never a float's approximation.
    expect(readPartnerAnswer('{"price":"0.00005"}', { price: 'price' }).price?.toString()).toBe('0');
    expect(readPartnerAnswer('{"price":12.34565}', { price: 'price' }).price?.toString()).toBe('12.3456');
    expect(readPartnerAnswer('{"price":"-1"}', { price: 'price' })).toEqual({});
  });
});
