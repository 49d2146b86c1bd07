import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com, "Signature
 * scheme"): `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
 * Secrets are decoded and the HMAC computed by the `standardwebhooks`
 * package, the reference implementation partners verify with.
 *
 * Secret formats (docs/decisions/0006-outbound-requests.md):
 * - `whsec_<base64>`: the Standard Webhooks form (what `generateSigningSecret()`
 *   hands out); the key is the base64-decoded bytes, exactly as
 *   `new Webhook(secret)` decodes them on the partner's side.
 * - anything else: the key is the secret's UTF-8 bytes, as given (the usual
 *   `createHmac('sha256', secret)` of hand-made receivers). It is never
 *   base64-decoded, even when it looks like base64; a partner verifying with
 *   a Standard Webhooks library passes it as raw bytes
 *   (`new Webhook(Buffer.from(secret), { format: 'raw' })`).
 *
 * The secret never leaves this module other than as the HMAC key.
 */
function webhookFor(secret: string): Webhook {
  if (secret.startsWith(WHSEC)) {
    try {
      return new Webhook(secret);
    } catch {
      // A `whsec_` secret that does not decode is used byte for byte like any
      // other; `signingSecretProblem` lets the admin API refuse one up front.
    }
  }
  return new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
}

/**
 * Why a partner or postback secret would not work as documented, or undefined
 * when it is fine: a `whsec_` secret must be standard base64 (with padding) of
 * at least 24 bytes, the spec's minimum; any other secret needs 16 bytes.
 */
export function signingSecretProblem(secret: string): string | undefined {
  if (secret.startsWith(WHSEC)) {
    try {
      new Webhook(secret);
    } catch {
      return 'a whsec_ secret must continue in standard base64, with padding';
    }
    return Buffer.from(secret.slice(WHSEC.length), 'base64').length < 24
      ? 'a whsec_ secret must encode at least 24 bytes'
      : undefined;
  }
  return Buffer.byteLength(secret, 'utf8') < 16 ? 'a secret must have at least 16 bytes' : undefined;
}

export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * The three Standard Webhooks headers for one message. `id` stays the same
 * across retries of the message (deliveries use the delivery id, like
 * `Idempotency-Key`) and must not contain a `.` (the spec's rule: it is part
 * of the signed text); `at` is the attempt's time, in whole seconds.
 */
export function signatureHeaders(secret: string, id: string, at: Date, body: string): SignatureHeaders {
  if (id.includes('.')) throw new Error('a webhook id must not contain "."');
  const seconds = Math.floor(at.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(seconds),
    'webhook-signature': webhookFor(secret).sign(id, new Date(seconds * 1000), body),
  };
}

const WHSEC = 'whsec_';
