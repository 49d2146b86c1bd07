import { timingSafeEqual, createHash } from 'node:crypto';
import { hashApiKey, unauthorized } from '@leadrouter/core';
import type { Db, Source } from '@leadrouter/db';
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

/** Authenticates a source by its key (looked up by hash); the admin token too when `allowAdmin`. */
export function sourceAuth(db: Db, adminToken: string, opts: { allowAdmin?: boolean } = {}) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const key = presentedKey(req);
    if (!key) throw unauthorized('missing API key: send Authorization: Bearer <key> or X-API-Key: <key>');
    if (opts.allowAdmin && isAdminToken(key, adminToken)) {
      req.isAdmin = true;
      return next();
    }
    const source = key.length <= 200 ? await db.source.findUnique({ where: { apiKeyHash: hashApiKey(key) } }) : null;
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
