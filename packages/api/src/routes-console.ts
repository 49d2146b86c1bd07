/** The route table's console session: sign in, the current session, sign out (ADR 0018). */
import { Session } from './answers.js';
import { SignIn } from './bodies.js';
import { route } from './table.js';

const rejected = (message: string) => ({ status: 'rejected', message, errors: [{ message }] });

export const signIn = route({
  method: 'post',
  path: '/v1/admin/session',
  party: 'public',
  operationId: 'signIn',
  tag: 'Console',
  summary: 'Sign in to the console',
  description:
    'Exchanges the admin token for a session: an `lr_console` cookie (HttpOnly, SameSite=Strict, Secure over HTTPS, Path=/, 12 h) that the admin API accepts in place of the token, and a `csrfToken` to send as `X-CSRF-Token` with every request that changes something. Sessions live in PostgreSQL (a keyed hash of the id): every replica knows them, signing out ends one everywhere, and changing `ADMIN_TOKEN` ends them all. Wrong tokens are counted per client address: after 10 in 15 minutes, sign-ins from it are answered `429` until the window has passed.',
  // The handler reads the token itself: a missing one is a 422 that says what to send.
  body: { schema: SignIn, unchecked: true },
  answers: {
    201: {
      description: 'Signed in; the cookie is set.',
      headers: { 'Set-Cookie': { description: 'the session cookie', required: true, schema: { type: 'string' } } },
      schema: Session,
    },
    401: {
      description: 'That is not the admin token.',
      error: true,
      example: rejected('that is not the admin token (ADMIN_TOKEN); check it and try again'),
    },
    429: {
      description: 'Too many wrong tokens from this address; retry after `Retry-After` seconds.',
      error: true,
      headers: { 'Retry-After': { $ref: '#/components/headers/RetryAfter' } },
      example: rejected('too many wrong admin tokens from this address; try again in 15 min'),
    },
  },
});

export const getSession = route({
  method: 'get',
  path: '/v1/admin/session',
  party: 'session',
  operationId: 'getSession',
  tag: 'Console',
  summary: 'The current console session',
  description:
    'For a console page that reloads: answers the session’s CSRF token and expiry again. A page of another site cannot read it (same-origin policy), and the cookie is not sent to it (SameSite=Strict).',
  answers: { 200: { description: 'Signed in.', schema: Session }, 401: 'Unauthorized' },
});

export const signOut = route({
  method: 'delete',
  path: '/v1/admin/session',
  party: 'session',
  operationId: 'signOut',
  tag: 'Console',
  summary: 'Sign out of the console',
  description:
    'Ends the session on every replica (a copy of the cookie stops working at once) and clears the cookie. Needs `X-CSRF-Token` when the session is live; without a session it only clears the cookie.',
  answers: { 204: { description: 'Signed out.' }, 403: 'Forbidden' },
});
