import { defineStatement, sql } from '../sql.js';

// The admin_sessions table: the operator console's sessions, by a keyed hash of their id (ADR 0018).

/** A new session; the sessions expired by `now` are removed in the same statement. */
export const CREATE_SESSION = defineStatement({
  name: 'lr_create_session',
  params: { idHash: 'bpchar', now: 'timestamptz', expiresAt: 'timestamptz' },
  prepared: false,
  sql: (p) => sql`WITH expired AS (DELETE FROM admin_sessions WHERE expires_at < ${p.now})
   INSERT INTO admin_sessions (id_hash, created_at, expires_at) VALUES (${p.idHash}, ${p.now}, ${p.expiresAt})`,
});

/** The live session with this hash: its expiry (no row when it is unknown, signed out or expired). */
export const FIND_SESSION = defineStatement({
  name: 'lr_find_session',
  params: { idHash: 'bpchar' },
  row: { expiresAt: 'timestamptz' },
  sql: (p) => sql`SELECT expires_at AS "expiresAt" FROM admin_sessions
   WHERE id_hash = ${p.idHash} AND expires_at > now()`,
});

/** Ends a session (signing out). */
export const DELETE_SESSION = defineStatement({
  name: 'lr_delete_session',
  params: { idHash: 'bpchar' },
  prepared: false,
  sql: (p) => sql`DELETE FROM admin_sessions WHERE id_hash = ${p.idHash}`,
});
