import { createHash, randomBytes } from 'node:crypto';

/** Source API keys: high-entropy random tokens, stored only as SHA-256 (no salt needed at 192 bits). */
export function generateApiKey(): string {
  return `lr_${randomBytes(24).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * A partner's feedback key (`POST /v1/feedback`): like a source's key, with its own prefix so neither can be
 * mistaken for the other; stored only as SHA-256 (`hashApiKey`).
 */
export function generateFeedbackKey(): string {
  return `lrf_${randomBytes(24).toString('base64url')}`;
}

/** Enough of a key to recognise it in a list. */
export function apiKeyPrefix(key: string): string {
  return key.slice(0, 8);
}

/** Signing secrets in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
