import { Router } from 'express';
import { AppError, invalid, unauthorized } from '@leadrouter/core';
import { isAdminToken } from '../http/auth.js';
import { jsonBody } from '../http/body.js';
import {
  clearSessionCookie,
  CSRF_HEADER,
  sameToken,
  sessionCookie,
  setSessionCookie,
  type Session,
  type SessionStore,
} from '../http/session.js';
import type { SignInThrottle } from '../http/sign-in-throttle.js';

const view = (s: Session) => ({ csrfToken: s.csrfToken, expiresAt: s.expiresAt.toISOString() });

/**
 * `/v1/admin/session`: the console's sign-in (`POST {token}`), the current
 * session (`GET`, for a page that reloads: it answers the CSRF token again)
 * and sign-out (`DELETE`). Mounted before the admin API's own gate: signing
 * in is how one gets past it.
 */
export function sessionRouter(sessions: SessionStore, adminToken: string, throttle: SignInThrottle): Router {
  const router = Router();

  router.post('/', jsonBody(), async (req, res) => {
    const body: unknown = req.body;
    const token = body && typeof body === 'object' && 'token' in body ? body.token : undefined;
    if (typeof token !== 'string' || token.length === 0 || token.length > 1000) {
      throw invalid([{ field: '/token', message: 'is required: the admin token (ADMIN_TOKEN)' }]);
    }
    const address = req.ip ?? 'unknown';
    await throttle.check(address);
    if (!isAdminToken(token, adminToken)) {
      await throttle.failed(address);
      throw unauthorized('that is not the admin token (ADMIN_TOKEN); check it and try again');
    }
    const session = await sessions.create();
    setSessionCookie(req, res, session);
    res.set('Cache-Control', 'no-store').status(201).json(view(session));
  });

  router.get('/', async (req, res) => {
    const id = sessionCookie(req);
    const session = id ? await sessions.find(id) : null;
    if (!session) throw unauthorized('not signed in: sign in with the admin token');
    res.set('Cache-Control', 'no-store').json(view(session));
  });

  router.delete('/', async (req, res) => {
    const id = sessionCookie(req);
    const session = id ? await sessions.find(id) : null;
    if (session) {
      if (!sameToken(req.get(CSRF_HEADER), session.csrfToken))
        throw new AppError('forbidden', 'missing or wrong X-CSRF-Token: signing out needs the session’s token', 403);
      await sessions.delete(session.id);
    }
    clearSessionCookie(req, res);
    res.status(204).end();
  });

  return router;
}
