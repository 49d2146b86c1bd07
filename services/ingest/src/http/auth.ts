import { timingSafeEqual, createHash } from 'node:crypto';
import { AppError, hashApiKey, unauthorized } from '@leadrouter/core';
import { ACTIVE_KEY_HASHES, runStatement, SOURCE_BY_KEY_HASH, sqlPool, type Db } from '@leadrouter/db';
import type { IngestMetrics } from '@leadrouter/metrics';
import type { LocalCache, SharedCaches } from '@leadrouter/queue';
import type { NextFunction, Request, Response } from 'express';
import { CSRF_HEADER, sameToken, sessionCookie, type Session, type SessionStore } from './session.js';
import { clientKey, type AuthFailureLimits } from './auth-failures.js';

declare module 'express-serve-static-core' {
  interface Request {
    source?: PostingSource;
    isAdmin?: boolean;
    /** The console session the request was authenticated by (not set for the bearer token). */
    session?: Session;
  }
}

/**
 * The holder of a key, by the key's hash: from `cache` when there is one (a holder found is kept, an unknown key
 * never: a flood of made-up keys must not fill memory), else straight from `find`.
 */
export async function findByKeyHash<V>(
  cache: LocalCache<string, V | null> | undefined,
  hash: string,
  find: (hash: string) => Promise<V | null>,
): Promise<V | null> {
  return cache
    ? cache.get(
        hash,
        () => find(hash),
        (v) => v !== null,
      )
    : find(hash);
}

/** What the lead API needs of the source whose key was presented (a `sources` row, in part). */
export interface PostingSource {
  id: string;
  name: string;
  active: boolean;
  rateLimitPerMinute: number | null;
  duplicateWindowHours: number;
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

/** What `sourceAuth` needs besides the database. */
export interface SourceAuthOptions {
  /** Also accept the admin token (GET /v1/leads/:id). */
  allowAdmin?: boolean;
  caches?: SharedCaches;
  /** The per-address throttle of requests without a valid key (ADR 0014). */
  failures: AuthFailureLimits;
  metrics?: IngestMetrics;
}

/**
 * Authenticates a source by its key (looked up by hash); the admin token too
 * when `allowAdmin`. Sources found are cached by key hash (`caches`), and
 * every source write drops the cache on every replica, so a rotated or
 * revoked key stops working for the very next request.
 *
 * A request without a valid key is counted (`leadrouter_ingest_auth_failures_total`)
 * and counts against its client address (`failures`): past the address's
 * limit it is answered `429` with `Retry-After`, and while the address is
 * throttled a key that is none of the sources' is refused without a lookup,
 * so a flood of made-up keys costs no database work.
 *
 * The lookup is a typed statement on node-postgres (packages/db's `SOURCE_BY_KEY_HASH`), not Prisma: the lead API runs no
 * Prisma query, so the ingest loads Prisma's query compiler (WebAssembly,
 * ~70 MB of RSS) only when the admin API is used (ADR 0009).
 */
export function sourceAuth(db: Db, adminToken: string, opts: SourceAuthOptions) {
  const cache = opts.caches?.cache<string, PostingSource | null>('sources', SOURCE_CACHE_TTL_MS);
  const pool = sqlPool(db);
  const find = async (hash: string): Promise<PostingSource | null> => {
    const [source] = await runStatement(pool, SOURCE_BY_KEY_HASH, { hash });
    return source ?? null;
  };
  const { failures } = opts;
  const activeKeyHashes = async () => (await runStatement(pool, ACTIVE_KEY_HASHES, {})).map((r) => r.hash);
  /** The answer to a request without a valid key: counted, and a 429 once its address is (or now gets) throttled. */
  const refuse = async (address: string, throttledMs: number, message: string): Promise<AppError> => {
    const ms = throttledMs > 0 ? throttledMs : await failures.fail(address);
    opts.metrics?.authFailures.inc({ answer: ms > 0 ? 'throttled' : 'unauthorized' });
    if (ms === 0) return unauthorized(message);
    const retryAfterSeconds = Math.max(1, Math.ceil(ms / 1000));
    return new AppError(
      'auth_throttled',
      `too many requests without a valid API key from this address (${failures.perMinute} a minute); retry in ${retryAfterSeconds} s`,
      429,
      { retryAfterSeconds },
    );
  };
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const key = presentedKey(req);
    if (key && opts.allowAdmin && isAdminToken(key, adminToken)) {
      req.isAdmin = true;
      return next();
    }
    const address = clientKey(req.ip);
    const throttledMs = failures.throttledFor(address);
    if (!key) {
      throw await refuse(address, throttledMs, 'missing API key: send Authorization: Bearer <key> or X-API-Key: <key>');
    }
    let source: PostingSource | null = null;
    const hash = key.length <= 200 ? hashApiKey(key) : undefined;
    if (hash !== undefined && (throttledMs === 0 || (await failures.mayBeSourceKey(hash, activeKeyHashes)))) {
      source = await findByKeyHash(cache, hash, find);
    }
    if (!source || !source.active) throw await refuse(address, throttledMs, 'unknown or revoked API key');
    req.source = source;
    next();
  };
}

/** Methods that change nothing: a session-authenticated request needs no CSRF token for them. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The admin API's gate: the admin token as a bearer token, or a console
 * session cookie (ADR 0018). A request authenticated by the cookie that can
 * change something must carry the session's CSRF token in `X-CSRF-Token`
 * (403 otherwise): the cookie is SameSite=Strict already, and the token
 * guards against what that does not cover (a sibling subdomain, an old
 * browser). Bearer-token requests are not affected: no browser adds them on
 * its own.
 */
export function adminAuth(adminToken: string, sessions?: SessionStore) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const key = presentedKey(req);
    if (key !== undefined || !sessions) {
      if (!isAdminToken(key, adminToken))
        throw unauthorized('admin token required: Authorization: Bearer $ADMIN_TOKEN, or sign in at /console');
      req.isAdmin = true;
      return next();
    }
    const id = sessionCookie(req);
    const session = id ? await sessions.find(id) : null;
    if (!session)
      throw unauthorized(
        id
          ? 'the console session has ended (signed out or expired): sign in again at /console'
          : 'admin token required: Authorization: Bearer $ADMIN_TOKEN, or sign in at /console',
      );
    if (!SAFE_METHODS.has(req.method) && !sameToken(req.get(CSRF_HEADER), session.csrfToken)) {
      throw new AppError(
        'forbidden',
        'missing or wrong X-CSRF-Token: a request signed in by the console cookie must carry the token the console got at sign-in',
        403,
      );
    }
    req.isAdmin = true;
    req.session = session;
    next();
  };
}
