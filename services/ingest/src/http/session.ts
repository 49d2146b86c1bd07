import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CREATE_SESSION, DELETE_SESSION, FIND_SESSION, runStatement, sqlPool, type Db } from '@leadrouter/db';
import type { Request, Response } from 'express';

/**
 * Console sessions (ADR 0018). Signing in with the admin token gives the
 * browser a random session id in an HttpOnly, SameSite=Strict cookie;
 * PostgreSQL keeps only a keyed hash of it (HMAC-SHA256 under the admin
 * token) and its expiry, so every ingest replica knows every session,
 * signing out (deleting the row) ends it everywhere at once, and changing
 * ADMIN_TOKEN ends them all. The CSRF token is derived from the session id
 * under the same key: the page learns it when it signs in (or from
 * `GET /v1/admin/session`, which a page of another site cannot read), and
 * sends it back in `X-CSRF-Token` with every state-changing request.
 */

export const SESSION_COOKIE = 'lr_console';
export const CSRF_HEADER = 'x-csrf-token';
/** A session lasts this long from sign-in; then the operator signs in again. */
export const SESSION_TTL_MS = 12 * 3600_000;

export interface Session {
  /** The cookie's value (never stored). */
  id: string;
  csrfToken: string;
  expiresAt: Date;
}

const keyed = (adminToken: string, purpose: string, id: string) =>
  createHmac('sha256', adminToken).update(`${purpose}:${id}`).digest('hex');

/** Same-length comparison without timing leaks; false for anything else. */
export function sameToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The session cookie's value, if the request has one that could be an id. */
export function sessionCookie(req: Request): string | undefined {
  const header = req.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

export class SessionStore {
  constructor(
    private readonly db: Db,
    private readonly adminToken: string,
    private readonly ttlMs = SESSION_TTL_MS,
  ) {}

  csrfTokenOf(id: string): string {
    return keyed(this.adminToken, 'csrf', id);
  }

  /** A new session; sessions that have expired are removed on the way. */
  async create(now = new Date()): Promise<Session> {
    const id = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    await runStatement(sqlPool(this.db), CREATE_SESSION, {
      idHash: keyed(this.adminToken, 'session', id),
      now,
      expiresAt,
    });
    return { id, csrfToken: this.csrfTokenOf(id), expiresAt };
  }

  /** The live session with this id, or null (unknown, signed out, expired, or made under another admin token). */
  async find(id: string): Promise<Session | null> {
    const [row] = await runStatement(sqlPool(this.db), FIND_SESSION, { idHash: keyed(this.adminToken, 'session', id) });
    return row ? { id, csrfToken: this.csrfTokenOf(id), expiresAt: row.expiresAt } : null;
  }

  async delete(id: string): Promise<void> {
    await runStatement(sqlPool(this.db), DELETE_SESSION, { idHash: keyed(this.adminToken, 'session', id) });
  }
}

/**
 * The cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's
 * page makes the browser send it), Secure when the request came over HTTPS
 * (`req.secure` follows the app's `trust proxy` setting), for the whole
 * origin (the console's pages and the admin API), expiring with the session.
 */
export function setSessionCookie(req: Request, res: Response, session: Session): void {
  res.cookie(SESSION_COOKIE, session.id, {
    httpOnly: true,
    sameSite: 'strict',
    secure: req.secure,
    path: '/',
    expires: session.expiresAt,
  });
}

export function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
}
