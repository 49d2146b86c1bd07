import type { Auction, Filters } from '@leadrouter/core';
import { defineStatement, json, sql } from '../sql.js';

// The routes table, as the worker's routing decision reads it (the admin API writes it through Prisma).

/** The active routes, oldest first, each with its partners in order (cached by the worker, ADR 0009). */
export const ROUTING_ROUTES = defineStatement({
  name: 'lr_routing_routes',
  row: {
    id: 'text',
    name: 'varchar',
    priority: 'int',
    active: 'boolean',
    filters: json<Filters | null>('jsonb | null'),
    strategy: '"RouteStrategy"',
    /** An auction route's deadline and floor as stored (null: the defaults; ADR 0032). */
    auction: json<Auction | null>('jsonb | null'),
    maxDeliveries: 'int',
    partners: json<{ partnerId: string; weight: number }[]>(),
  },
  prepared: false,
  sql: () => sql`SELECT r.id::text, r.name, r.priority, r.active, r.filters, r.strategy, r.auction,
          r.max_deliveries AS "maxDeliveries",
          coalesce(json_agg(json_build_object('partnerId', rp.partner_id, 'weight', rp.weight)
                            ORDER BY rp.position) FILTER (WHERE rp.partner_id IS NOT NULL), '[]') AS partners
   FROM routes r LEFT JOIN route_partners rp ON rp.route_id = r.id
   WHERE r.active GROUP BY r.id ORDER BY r.created_at`,
});

/**
 * The longest auction deadline of the active auction routes (their stored `timeoutMs`, else the default `fallback`),
 * or null without any: how long the ingest waits at most for a ping's answer (ADR 0032).
 */
export const LONGEST_AUCTION = defineStatement({
  name: 'lr_longest_auction',
  params: { fallback: 'int' },
  row: { timeoutMs: 'int | null' },
  prepared: false,
  sql: (p) => sql`SELECT max(coalesce((auction->>'timeoutMs')::int, ${p.fallback}))::int AS "timeoutMs"
   FROM routes WHERE active AND strategy = 'auction'`,
});
