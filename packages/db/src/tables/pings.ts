import { defineStatement, sql } from '../sql.js';

// Sources' pings, for stats and reports (ADR 0032): written in bulk by the worker's PingLog, off the answer's path.

/** Pings, one per element of the arrays (`routeIds`, `bestBids`, `sourceBids` may hold nulls); a repeat is ignored. */
export const RECORD_PINGS = defineStatement({
  name: 'lr_record_pings',
  params: {
    ids: 'uuid[]',
    sourceIds: 'uuid[]',
    routeIds: 'uuid[]',
    statuses: 'text[]',
    bestBids: 'numeric[]',
    sourceBids: 'numeric[]',
    at: 'timestamptz[]',
  },
  prepared: false,
  sql: (p) => sql`INSERT INTO pings (id, source_id, route_id, status, best_bid, source_bid, created_at)
   SELECT * FROM unnest(${p.ids}, ${p.sourceIds}, ${p.routeIds}, ${p.statuses}, ${p.bestBids}, ${p.sourceBids}, ${p.at})
   ON CONFLICT (id) DO NOTHING`,
});

/** Partners' answers to pings, one per element of the arrays (`bids`, `ranks` may hold nulls); a repeat is ignored. */
export const RECORD_PING_BIDS = defineStatement({
  name: 'lr_record_ping_bids',
  params: {
    pingIds: 'uuid[]',
    partnerIds: 'uuid[]',
    outcomes: 'text[]',
    bids: 'numeric[]',
    ranks: 'int[]',
    durations: 'int[]',
    at: 'timestamptz[]',
  },
  prepared: false,
  sql: (p) => sql`INSERT INTO ping_bids (ping_id, partner_id, outcome, bid, rank, duration_ms, created_at)
   SELECT * FROM unnest(${p.pingIds}, ${p.partnerIds}, ${p.outcomes}, ${p.bids}, ${p.ranks}, ${p.durations}, ${p.at})
   ON CONFLICT (ping_id, partner_id) DO NOTHING`,
});
