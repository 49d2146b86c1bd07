import type { Router } from 'express';
import { consoleSession as table, type Session as SessionView } from '@leadrouter/api';
import { AppError, invalid, unauthorized, type Static } from '@leadrouter/core';
import { isAdminToken } from '../http/auth.js';
import { tableRouter } from '../http/bind.js';
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

const view = (s: Session): Static<typeof SessionView> => ({
  csrfToken: s.csrfToken,
  expiresAt: s.expiresAt.toISOString(),
});

/**
 * `/v1/admin/session`: the console's sign-in (`POST {token}`), the current
 * session (`GET`, for a page that reloads: it answers the CSRF token again)
 * and sign-out (`DELETE`). Mounted before the admin API's own gate: signing
 * in is how one gets past it.
 */
export function sessionRouter(sessions: SessionStore, adminToken: string, throttle: SignInThrottle): Router {
  const { router, bind } = tableRouter('/v1/admin/session');

  bind(table.signIn, async ({ body }, req, res) => {
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
    res.set('Cache-Control', 'no-store');
    return { status: 201, body: view(session) };
  });

  bind(table.getSession, async (_input, req, res) => {
    const id = sessionCookie(req);
    const session = id ? await sessions.find(id) : null;
    if (!session) throw unauthorized('not signed in: sign in with the admin token');
    res.set('Cache-Control', 'no-store');
    return { status: 200, body: view(session) };
  });

  bind(table.signOut, async (_input, req, res) => {
    const id = sessionCookie(req);
    const session = id ? await sessions.find(id) : null;
    if (session) {
      if (!sameToken(req.get(CSRF_HEADER), session.csrfToken))
        throw new AppError('forbidden', 'missing or wrong X-CSRF-Token: signing out needs the session’s token', 403);
      await sessions.delete(session.id);
    }
    clearSessionCookie(req, res);
    return { status: 204 };
  });

  return router;
}
