import { defineStatement, sql } from '../sql.js';

// Sources' pings, for stats and reports (ADR 0032): written in bulk by the worker's PingLog, off the answer's path.
// Each statement appends the report figures (ADR 0028) of the rows it inserted, and of those only: a write the
// PingLog retries after a failure (the rows kept for the next write) counts nothing twice, whether it had been
// recorded or not. The conflict target is left out: the key is `(id)`, or `(id, created_at)` once partitioned.

/**
 * Pings, one per element of the arrays (`routeIds`, `bestBids`, `sourceBids`, `geos`, `channels` may hold nulls);
 * a repeat is ignored. Their figures on the source's no-partner row: `pings`, `bids` (answered with a bid) and
 * `bid_total` (the sum of the source's bids: its payout on the best bid).
 */
export const RECORD_PINGS = defineStatement({
  name: 'lr_record_pings',
  params: {
    ids: 'uuid[]',
    sourceIds: 'uuid[]',
    routeIds: 'uuid[]',
    statuses: 'text[]',
    bestBids: 'numeric[]',
    sourceBids: 'numeric[]',
    geos: 'text[]',
    channels: 'text[]',
    at: 'timestamptz[]',
  },
  prepared: false,
  sql: (p) => sql`WITH recorded AS (
     INSERT INTO pings (id, source_id, route_id, status, best_bid, source_bid, geo, channel, created_at)
     SELECT * FROM unnest(${p.ids}, ${p.sourceIds}, ${p.routeIds}, ${p.statuses}, ${p.bestBids}, ${p.sourceBids},
                          ${p.geos}, ${p.channels}, ${p.at})
     ON CONFLICT DO NOTHING
     RETURNING source_id, status, source_bid, geo, channel, created_at
   )
   INSERT INTO report_deltas (at, source_id, geo, channel, pings, bids, bid_total)
   SELECT date_trunc('hour', created_at, 'UTC'), source_id, coalesce(geo, ''), coalesce(channel, ''), count(*),
          count(*) FILTER (WHERE status = 'bid'), coalesce(sum(source_bid) FILTER (WHERE status = 'bid'), 0)
   FROM recorded
   GROUP BY 1, 2, 3, 4`,
});

/**
 * Partners' answers to pings, one per element of the arrays (`bids`, `ranks`, `geos`, `channels` may hold
 * nulls); a repeat is ignored. Their figures on each partner's row, with the auction's source, geo and channel
 * (not stored: the ping's, or the lead's for a lead's own auction): `pings` (every answer, a fixed-price
 * partner's too), `bids`, `wins` (rank 1: the best bid) and `bid_total`.
 */
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
    sourceIds: 'uuid[]',
    geos: 'text[]',
    channels: 'text[]',
  },
  prepared: false,
  sql: (p) => sql`WITH given AS (
     SELECT DISTINCT ON (ping_id, partner_id, created_at) *
     FROM unnest(${p.pingIds}, ${p.partnerIds}, ${p.outcomes}, ${p.bids}, ${p.ranks}, ${p.durations}, ${p.at},
                 ${p.sourceIds}, ${p.geos}, ${p.channels})
       AS g (ping_id, partner_id, outcome, bid, rank, duration_ms, created_at, source_id, geo, channel)
   ), recorded AS (
     INSERT INTO ping_bids (ping_id, partner_id, outcome, bid, rank, duration_ms, created_at)
     SELECT ping_id, partner_id, outcome, bid, rank, duration_ms, created_at FROM given
     ON CONFLICT DO NOTHING
     RETURNING ping_id, partner_id, created_at
   )
   INSERT INTO report_deltas (at, source_id, partner_id, geo, channel, pings, bids, wins, bid_total)
   SELECT date_trunc('hour', g.created_at, 'UTC'), g.source_id, g.partner_id, coalesce(g.geo, ''),
          coalesce(g.channel, ''), count(*), count(*) FILTER (WHERE g.outcome = 'bid'),
          count(*) FILTER (WHERE g.rank = 1), coalesce(sum(g.bid) FILTER (WHERE g.outcome = 'bid'), 0)
   FROM recorded AS r JOIN given AS g USING (ping_id, partner_id, created_at)
   GROUP BY 1, 2, 3, 4, 5`,
});

// ---------------------------------------------------------------------------
// The stats' (GET /v1/admin/stats): aggregates since a time, over created_at's indexes.

/** Each buyer's answers to pings since `since`: how many, how many bids, how many best bids, its average bid. */
export const PARTNER_PINGS_SINCE = defineStatement({
  name: 'lr_partner_pings_since',
  params: { since: 'timestamptz' },
  row: { partnerId: 'text', pings: 'int', bids: 'int', wins: 'int', averageBid: 'text | null' },
  prepared: false,
  sql: (p) => sql`SELECT partner_id::text AS "partnerId", count(*)::int AS pings,
          count(*) FILTER (WHERE outcome = 'bid')::int AS bids, count(*) FILTER (WHERE rank = 1)::int AS wins,
          round(avg(bid), 4)::text AS "averageBid"
   FROM ping_bids WHERE created_at >= ${p.since} GROUP BY partner_id`,
});

/** Each source's pings since `since`: how many, how many answered with a bid, its average payout on them. */
export const SOURCE_PINGS_SINCE = defineStatement({
  name: 'lr_source_pings_since',
  params: { since: 'timestamptz' },
  row: { sourceId: 'text', pings: 'int', bids: 'int', averageBid: 'text | null' },
  prepared: false,
  sql: (p) => sql`SELECT source_id::text AS "sourceId", count(*)::int AS pings,
          count(*) FILTER (WHERE status = 'bid')::int AS bids, round(avg(source_bid), 4)::text AS "averageBid"
   FROM pings WHERE created_at >= ${p.since} GROUP BY source_id`,
});
