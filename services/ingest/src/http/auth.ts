import { timingSafeEqual, createHash } from 'node:crypto';
import { hashApiKey, unauthorized } from '@leadrouter/core';
import type { Db, Source } from '@leadrouter/db';
import type { SharedCaches } from '@leadrouter/queue';
import type { NextFunction, Request, Response } from 'express';

declare module 'express-serve-static-core' {
  interface Request {
    source?: Source;
    isAdmin?: boolean;
  }
}

/** `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedKey(req: Request): string | undefined {
  const header = req.get('authorization');
  if (header) {
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    return m?.[1]?.trim();
  }
  return req.get('x-api-key')?.trim() || undefined;
}

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function isAdminToken(key: string | undefined, adminToken: string): boolean {
  return key !== undefined && sameSecret(key, adminToken);
}

/** How long a source found by its key is trusted without asking PostgreSQL again (writes invalidate at once; ADR 0009). */
export const SOURCE_CACHE_TTL_MS = 5_000;

/**
 * Authenticates a source by its key (looked up by hash); the admin token too
 * when `allowAdmin`. Sources found are cached by key hash (`caches`), and
 * every source write drops the cache on every replica, so a rotated or
 * revoked key stops working for the very next request.
 */
export function sourceAuth(db: Db, adminToken: string, opts: { allowAdmin?: boolean; caches?: SharedCaches } = {}) {
  const cache = opts.caches?.cache<string, Source | null>('sources', SOURCE_CACHE_TTL_MS);
  const find = (hash: string) => db.source.findUnique({ where: { apiKeyHash: hash } });
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const key = presentedKey(req);
    if (!key) throw unauthorized('missing API key: send Authorization: Bearer <key> or X-API-Key: <key>');
    if (opts.allowAdmin && isAdminToken(key, adminToken)) {
      req.isAdmin = true;
      return next();
    }
    let source: Source | null = null;
    if (key.length <= 200) {
      const hash = hashApiKey(key);
      // Unknown keys are not cached: a flood of made-up keys must not fill memory.
      source = cache
        ? await cache.get(
            hash,
            () => find(hash),
            (s) => s !== null,
          )
        : await find(hash);
    }
    if (!source || !source.active) throw unauthorized('unknown or revoked API key');
    req.source = source;
    next();
  };
}

export function adminAuth(adminToken: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!isAdminToken(presentedKey(req), adminToken))
      throw unauthorized('admin token required: Authorization: Bearer $ADMIN_TOKEN');
    req.isAdmin = true;
    next();
  };
}
