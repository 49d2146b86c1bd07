import { defineStatement, json, sql } from '../sql.js';

// The sources table, as the lead API reads it: a source by the hash of its API key (the ingest's `sourceAuth`).
// Sources are written by the admin API (Prisma, ADR 0009) and packages/lifecycle's `rotateSourceKey`.

/** A source by the hash of its API key (its unique index): what the lead API needs of it. */
export const SOURCE_BY_KEY_HASH = defineStatement({
  name: 'lr_source_by_key_hash',
  params: { hash: 'bpchar' },
  row: {
    id: 'uuid',
    name: 'varchar',
    active: 'boolean',
    rateLimitPerMinute: 'int | null',
    duplicateWindowHours: 'int',
  },
  sql: (p) => sql`SELECT id, name, active, rate_limit_per_minute AS "rateLimitPerMinute",
          duplicate_window_hours AS "duplicateWindowHours"
   FROM sources WHERE api_key_hash = ${p.hash}`,
});

/** The key hashes of every active source (the ingest's throttle tells a made-up key from a source's). */
export const ACTIVE_KEY_HASHES = defineStatement({
  name: 'lr_active_key_hashes',
  row: { hash: 'bpchar' },
  prepared: false,
  sql: () => sql`SELECT api_key_hash AS hash FROM sources WHERE active`,
});

/** A source's payout as stored (read with @leadrouter/money's `payoutFromColumns`): a ping's bid to it (ADR 0032). */
export const SOURCE_PAYOUT = defineStatement({
  name: 'lr_source_payout',
  params: { sourceId: 'uuid' },
  row: {
    payoutModel: '"PayoutModel" | null',
    payoutAmount: 'text | null',
    payoutPercent: 'text | null',
    payoutGeo: json<Record<string, string> | null>('jsonb | null'),
  },
  sql: (p) => sql`SELECT payout_model AS "payoutModel", payout_amount::text AS "payoutAmount",
          payout_percent::text AS "payoutPercent", payout_geo AS "payoutGeo"
   FROM sources WHERE id = ${p.sourceId}`,
});
