import { defineStatement, sql } from '../sql.js';

// No table: what the readiness probes (the ingest's and the worker's /readyz) ask PostgreSQL.

/** Whether PostgreSQL answers on a connection of the pool. */
export const READY = defineStatement({
  name: 'lr_ready',
  row: { ready: 'int' },
  prepared: false,
  sql: () => sql`SELECT 1 AS ready`,
});
