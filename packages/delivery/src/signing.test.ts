import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { PublicLead } from './payload';
import { buildRequest } from './request';
import { signatureHeaders, signingSecretProblem } from './signing';

/**
 * The Standard Webhooks test vector, from the reference JavaScript library's
 * own suite: github.com/standard-webhooks/standard-webhooks,
 * libraries/javascript/src/webhook.test.ts, test "sign function works".
 */
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const lead: PublicLead = {
  id: 'L1',
  name: 'John',
  phone: '+14155550100',
  email: null,
  geo: 'US',
  source: null,
  fields: {},
};

const partner = (secret: string | null) => ({
  id: 'P',
  url: 'https://p.example/leads',
  method: 'POST',
  headers: { 'webhook-signature': 'spoof' },
  fieldMap: null,
  timeoutMs: 1000,
  secret,
});

/** The spec's scheme written out with node:crypto, independently of the package. */
const hmac = (key: Buffer, text: string) => `v1,${createHmac('sha256', key).update(text).digest('base64')}`;

describe('Standard Webhooks signing', () => {
  it('reproduces the published test vector', () => {
    const headers = signatureHeaders(VECTOR.secret, VECTOR.id, new Date(VECTOR.timestamp * 1000), VECTOR.body);
    expect(headers).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': VECTOR.signature,
    });
    const key = Buffer.from(VECTOR.secret.slice('whsec_'.length), 'base64');
    expect(hmac(key, `${VECTOR.id}.${VECTOR.timestamp}.${VECTOR.body}`)).toBe(VECTOR.signature);
  });

  it('uses whole seconds for the timestamp, and signs what it states', () => {
    const h = signatureHeaders(VECTOR.secret, VECTOR.id, new Date(VECTOR.timestamp * 1000 + 999), VECTOR.body);
    expect(h['webhook-timestamp']).toBe('1614265330');
    expect(h['webhook-signature']).toBe(VECTOR.signature);
  });

  it('uses a secret without the whsec_ prefix as its UTF-8 bytes, never base64-decoded', () => {
    // Valid base64, so a base64 reading would be possible: it is not taken.
    const raw = 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const unicode = 'pässwörd-secret-✓-0123';
    for (const secret of [raw, unicode]) {
      const h = signatureHeaders(secret, 'D1', new Date(VECTOR.timestamp * 1000), VECTOR.body);
      expect(h['webhook-signature']).toBe(hmac(Buffer.from(secret, 'utf8'), `D1.${VECTOR.timestamp}.${VECTOR.body}`));
    }
    expect(
      signatureHeaders(raw, VECTOR.id, new Date(VECTOR.timestamp * 1000), VECTOR.body)['webhook-signature'],
    ).not.toBe(VECTOR.signature);
  });

  it('uses a whsec_ secret that is not base64 byte for byte, and reports it as a problem', () => {
    const secret = 'whsec_not-base64-at-all!';
    const h = signatureHeaders(secret, 'D1', new Date(0), '{}');
    expect(h['webhook-signature']).toBe(hmac(Buffer.from(secret), 'D1.0.{}'));
    expect(signingSecretProblem(secret)).toMatch(/base64/);
  });

  it('says which secrets do not follow the documented formats', () => {
    expect(signingSecretProblem(VECTOR.secret)).toBeUndefined();
    expect(signingSecretProblem(`whsec_${Buffer.alloc(32, 7).toString('base64')}`)).toBeUndefined();
    expect(signingSecretProblem(`whsec_${Buffer.alloc(16, 7).toString('base64')}`)).toMatch(/24 bytes/);
    expect(signingSecretProblem('whsec_YWJj')).toMatch(/24 bytes/);
    expect(signingSecretProblem('a-plain-secret-of-enough-length')).toBeUndefined();
    expect(signingSecretProblem('short')).toMatch(/16 bytes/);
  });

  it('refuses a message id with a "." (it is part of the signed text)', () => {
    expect(() => signatureHeaders(VECTOR.secret, 'a.b', new Date(), '{}')).toThrow(/"\."/);
  });
});

describe('buildRequest with a secret', () => {
  it('signs the exact body with the delivery id as webhook-id; the partner verifies it with the reference library', () => {
    const now = new Date();
    const req = buildRequest(partner(VECTOR.secret), lead, 'D-1', now);
    expect(req.headers).toMatchObject({
      'idempotency-key': 'D-1',
      'webhook-id': 'D-1',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    });
    expect(new Webhook(VECTOR.secret).verify(req.body, req.headers)).toEqual(JSON.parse(req.body));
  });

  it('keeps the webhook-id and refreshes the timestamp on a retry', () => {
    const first = buildRequest(partner(VECTOR.secret), lead, 'D-1', new Date(1_700_000_000_000));
    const retry = buildRequest(partner(VECTOR.secret), lead, 'D-1', new Date(1_700_000_060_000));
    expect(retry.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(retry.headers['webhook-timestamp']).toBe('1700000060');
    expect(retry.headers['webhook-signature']).not.toBe(first.headers['webhook-signature']);
  });

  it('verifies with a raw secret passed as bytes to the reference library', () => {
    const secret = 'a-plain-partner-secret-0123456789';
    const req = buildRequest(partner(secret), lead, 'D-2');
    expect(() =>
      new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' }).verify(req.body, req.headers),
    ).not.toThrow();
  });

  it('adds no signing headers without a secret, and a partner header cannot pose as one with it', () => {
    expect(buildRequest(partner(null), lead, 'D-3').headers).not.toHaveProperty('webhook-id');
    expect(buildRequest(partner(VECTOR.secret), lead, 'D-3').headers['webhook-signature']).not.toBe('spoof');
  });

  it('never puts the secret itself in the request', () => {
    const req = buildRequest(partner(VECTOR.secret), lead, 'D-4');
    expect(JSON.stringify(req)).not.toContain('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  });
});
