import { type ReportKey } from '@leadrouter/core';
import { defineStatement, sql, SqlFragment, type Statement, type StatementRow } from '../sql.js';

// The report rollups (ADR 0023, 0028): report_daily (UTC day × source × partner × geo × channel) and
// report_hourly (UTC hour × source × partner), with the figures still in report_deltas (appended by the
// triggers of leads, rejections and the ledger) until report_fold() adds them. Every report reads a
// rollup and the deltas of its range in one statement (one snapshot: a fold in between cannot count a
// figure twice or lose it), never the lead tables.

/** The nil uuid: the rollups' partner for what belongs to no partner (the leads' own figures). */
export const NO_PARTNER = '00000000-0000-0000-0000-000000000000';

/** The rollup a report reads: per day (every key but hour), or per hour (no geo, no channel). */
export type ReportTable = 'daily' | 'hourly';

/** The keys each rollup holds. */
export const REPORT_TABLE_KEYS: Record<ReportTable, readonly ReportKey[]> = {
  daily: ['day', 'source', 'partner', 'geo', 'channel'],
  hourly: ['hour', 'day', 'source', 'partner'],
};

const COUNTS = [
  ['leads', 'leads'],
  ['accepted', 'accepted'],
  ['duplicates', 'duplicates'],
  ['sold', 'sold'],
  ['unsold', 'unsold'],
  ['unmatched', 'unmatched'],
  ['deadLettered', 'dead_lettered'],
  ['converted', 'converted'],
  ['returned', 'returned'],
  ['reversed', 'reversed'],
  ['pings', 'pings'],
  ['bids', 'bids'],
  ['wins', 'wins'],
] as const;

const row = {
  day: 'text | null',
  hour: 'timestamptz | null',
  sourceId: 'text | null',
  sourceName: 'text | null',
  partnerId: 'text | null',
  partnerName: 'text | null',
  geo: 'text | null',
  channel: 'text | null',
  leads: 'bigint',
  accepted: 'bigint',
  duplicates: 'bigint',
  sold: 'bigint',
  unsold: 'bigint',
  unmatched: 'bigint',
  deadLettered: 'bigint',
  converted: 'bigint',
  returned: 'bigint',
  reversed: 'bigint',
  pings: 'bigint',
  bids: 'bigint',
  wins: 'bigint',
  bidTotal: 'numeric',
  revenue: 'numeric',
  cost: 'numeric',
  margin: 'numeric',
} as const;

export type ReportStatement = Statement<
  { since: Date; until: Date; sourceId: string | null; limit: number; tz: string },
  StatementRow<ReturnType<typeof reportStatementOf>>
>;
/** One row of a report: its group's keys (null where not grouped by) and sums, counts as text (bigint), money exact. */
export type ReportRow = StatementRow<ReportStatement>;

const text = (s: string) => new SqlFragment([s]);

function reportStatementOf(table: ReportTable, keys: readonly ReportKey[]) {
  const has = (k: ReportKey) => keys.includes(k);
  const pick = (k: ReportKey, yes: string, no: string) => text(has(k) ? yes : no);
  const rollup = table === 'daily' ? 'report_daily' : 'report_hourly';
  const time = table === 'daily' ? 'day' : 'hour, day';
  const geo = table === 'daily' ? 'geo, channel, ' : '';
  const figures = [...COUNTS.map(([, c]) => c), 'bid_total'].join(', ');
  const deltaFigures = [...COUNTS.map(([, c]) => `d.${c}`), 'd.bid_total'].join(', ');
  // The no-partner rows count leads (a lead sold to two partners is one sold) and the sources' pings (a ping
  // to three buyers is one), the partners' rows their sales and their answers to pings: grouped by partner,
  // each group has its own; otherwise `sold`, `pings`, `bids`, `wins` and `bid_total` are the no-partner rows'.
  const ownRows = new Set(['sold', 'pings', 'bids', 'wins', 'bid_total']);
  const sum = (c: string) =>
    has('partner') || !ownRows.has(c) ? `sum(r.${c})` : `sum(r.${c}) FILTER (WHERE r.partner_id = '${NO_PARTNER}')`;
  const groupBy = (['day', 'hour', 'source', 'partner', 'geo', 'channel'] as const)
    .filter(has)
    .map((k) => `r.${k === 'source' || k === 'partner' ? `${k}_id` : k}`);
  const orderBy = [
    has('day') ? 'g.day' : null,
    has('hour') ? 'g.hour' : null,
    has('source') ? 's.name NULLS FIRST, g.source_id' : null,
    has('partner') ? 'pa.name NULLS FIRST, g.partner_id' : null,
    has('geo') ? 'g.geo' : null,
    has('channel') ? 'g.channel' : null,
  ].filter((o) => o !== null);
  const sums = [
    ...groupBy,
    ...COUNTS.map(([name, c]) => `coalesce(${sum(c)}, 0) AS "${name}"`),
    `coalesce(${sum('bid_total')}, 0) AS bid_total`,
    'coalesce(sum(r.revenue), 0) AS revenue',
    'coalesce(sum(r.cost), 0) AS cost',
  ];
  return defineStatement({
    name: `lr_report_${table}_${keys.length === 0 ? 'total' : keys.join('_')}`,
    params: { since: 'timestamptz', until: 'timestamptz', sourceId: 'uuid | null', limit: 'int', tz: 'text' },
    row,
    prepared: false,
    sql: (p) => {
      // `since` <= time < `until`, whole days (daily) or hours (hourly): the reader checks them. A day is the
      // date in the zone `tz` (UTC for the daily rollup, whose days are UTC days): an hour's day is its local
      // date there. A day is never compared as a date against a timestamptz, which PostgreSQL would take at the
      // session's time zone.
      const dayOf = (at: SqlFragment) => sql`(${at} AT TIME ZONE ${p.tz})::date`;
      const within = (column: string, day: boolean) =>
        sql`${text(column)} >= ${day ? dayOf(sql`${p.since}`) : sql`${p.since}`}
         AND ${text(column)} < ${day ? dayOf(sql`${p.until}`) : sql`${p.until}`}
         AND (${p.sourceId}::uuid IS NULL OR source_id = ${p.sourceId})`;
      // The hourly rollup's rows and the deltas carry their hour's day in the zone, for a grouping by day.
      const rollupTime = table === 'daily' ? text('day') : sql`hour, ${dayOf(text('hour'))}`;
      const deltaTime = table === 'daily' ? dayOf(text('d.at')) : sql`d.at, ${dayOf(text('d.at'))}`;
      return sql`WITH g AS (
     SELECT ${text(sums.join(',\n            '))}
     FROM (
       SELECT ${rollupTime}, source_id, partner_id, ${text(geo)}${text(figures)}, revenue, cost
       FROM ${text(rollup)}
       WHERE ${within(table === 'daily' ? 'day' : 'hour', table === 'daily')}
       UNION ALL
       SELECT ${deltaTime}, d.source_id, d.partner_id, ${text(table === 'daily' ? 'd.geo, d.channel, ' : '')}${text(deltaFigures)}, d.revenue, d.cost
       FROM report_deltas AS d
       WHERE ${within('d.at', false)}
     ) AS r (${text(time)}, source_id, partner_id, ${text(geo)}${text(figures)}, revenue, cost)
     ${text(groupBy.length > 0 ? `GROUP BY ${groupBy.join(', ')}` : '')})
   SELECT ${pick('day', 'g.day::text', 'NULL::text')} AS day,
          ${pick('hour', 'g.hour', 'NULL::timestamptz')} AS hour,
          ${pick('source', 'g.source_id::text', 'NULL::text')} AS "sourceId",
          ${pick('source', 's.name::text', 'NULL::text')} AS "sourceName",
          ${pick('partner', `nullif(g.partner_id, '${NO_PARTNER}')::text`, 'NULL::text')} AS "partnerId",
          ${pick('partner', 'pa.name::text', 'NULL::text')} AS "partnerName",
          ${pick('geo', 'g.geo::text', 'NULL::text')} AS geo,
          ${pick('channel', 'g.channel::text', 'NULL::text')} AS channel,
          ${text(COUNTS.map(([name]) => `g."${name}"::bigint AS "${name}"`).join(', '))},
          g.bid_total::numeric AS "bidTotal", g.revenue::numeric AS revenue, g.cost::numeric AS cost, (g.revenue - g.cost)::numeric AS margin
   FROM g
   ${pick('source', 'LEFT JOIN sources AS s ON s.id = g.source_id', '')}
   ${pick('partner', 'LEFT JOIN partners AS pa ON pa.id = g.partner_id', '')}
   ${text(orderBy.length > 0 ? `ORDER BY ${orderBy.join(', ')}` : '')}
   LIMIT ${p.limit}`;
    },
  });
}

/**
 * Every grouping a report takes: no key, one key, or two keys the rollup holds together (hour without geo; the
 * hourly rollup's day is a day of a zone made of its hours).
 */
function groupings(table: ReportTable): ReportKey[][] {
  const keys = REPORT_TABLE_KEYS[table];
  const out: ReportKey[][] = [[]];
  keys.forEach((a, i) => {
    out.push([a]);
    for (const b of keys.slice(i + 1)) out.push([a, b]);
  });
  return out;
}

const statements = new Map<string, ReportStatement>();
for (const table of ['daily', 'hourly'] as const) {
  for (const keys of groupings(table)) statements.set(`${table}:${keys.join(',')}`, reportStatementOf(table, keys));
}

/**
 * The statement of a report over `table` grouped by `keys` (in the order of REPORT_TABLE_KEYS; the caller
 * orders the answer's keys as asked). Its values: `since` and `until` (whole UTC days for daily, whole hours
 * for hourly: `since` <= time < `until`), a source to restrict it to (its own report) or null, and the most
 * groups to answer (`limit`: ask one more than allowed to know there are too many), and `tz`, the zone whose
 * dates the days are (`UTC` for the daily rollup).
 */
export function reportStatement(table: ReportTable, keys: readonly ReportKey[]): ReportStatement {
  const ordered = REPORT_TABLE_KEYS[table].filter((k) => keys.includes(k));
  const stmt = statements.get(`${table}:${ordered.join(',')}`);
  if (!stmt || ordered.length !== keys.length)
    throw new Error(`reports: no ${table} report grouped by ${keys.join(',')}`);
  return stmt;
}

/**
 * Moves up to `maxRows` of the oldest lead figures from report_deltas into the rollups (report_fold(), one
 * transaction); returns how many it moved.
 */
export const FOLD_REPORT_DELTAS = defineStatement({
  name: 'lr_fold_report_deltas',
  params: { maxRows: 'int' },
  row: { folded: 'int' },
  sql: (p) => sql`SELECT report_fold(${p.maxRows}) AS folded`,
});

/**
 * Each partner's events and money from the start of the hour `since` falls in (report_hourly and the deltas not
 * yet folded into it): the worker's money gauges (ADR 0028). Partners without any in the window have no row.
 */
export const PARTNER_MONEY_SINCE = defineStatement({
  name: 'lr_partner_money_since',
  params: { since: 'timestamptz' },
  row: {
    partnerId: 'text',
    partnerName: 'text | null',
    sold: 'bigint',
    converted: 'bigint',
    returned: 'bigint',
    reversed: 'bigint',
    revenue: 'numeric',
    cost: 'numeric',
  },
  prepared: false,
  sql: (p) => sql`SELECT r.partner_id::text AS "partnerId", pa.name::text AS "partnerName",
          sum(r.sold)::bigint AS sold, sum(r.converted)::bigint AS converted, sum(r.returned)::bigint AS returned,
          sum(r.reversed)::bigint AS reversed, sum(r.revenue)::numeric AS revenue, sum(r.cost)::numeric AS cost
   FROM (
     SELECT partner_id, sold, converted, returned, reversed, revenue, cost
     FROM report_hourly WHERE hour >= date_trunc('hour', ${p.since}, 'UTC')
     UNION ALL
     SELECT partner_id, sold, converted, returned, reversed, revenue, cost
     FROM report_deltas WHERE at >= date_trunc('hour', ${p.since}, 'UTC')
   ) AS r
   LEFT JOIN partners AS pa ON pa.id = r.partner_id
   WHERE r.partner_id <> '${text(NO_PARTNER)}'
   GROUP BY r.partner_id, pa.name`,
});

/**
 * The partners' events and the money since `since`, per source and partner (the stats; ADR 0028): the whole
 * hours from report_hourly and the deltas, the part of an hour before the first of them from the ledger itself
 * (its entries of `parties`, every partner and source, through ledger_entries(party_id, at)), so any `since` is
 * exact and a long window reads hours, not entries. Counts are the partners' events (the no-partner rows'
 * lead counts are left out); money is every entry's, adjustments to sources on the no-partner row.
 */
export const MONEY_SINCE = defineStatement({
  name: 'lr_money_since',
  params: { since: 'timestamptz', parties: 'uuid[]' },
  row: {
    sourceId: 'text',
    partnerId: 'text | null',
    sold: 'bigint',
    converted: 'bigint',
    returned: 'bigint',
    reversed: 'bigint',
    revenue: 'numeric',
    cost: 'numeric',
  },
  prepared: false,
  sql: (p) => sql`WITH b AS (
     SELECT ${p.since}::timestamptz AS since,
            CASE WHEN date_trunc('hour', ${p.since}::timestamptz, 'UTC') = ${p.since}::timestamptz
                 THEN ${p.since}::timestamptz
                 ELSE date_trunc('hour', ${p.since}::timestamptz, 'UTC') + interval '1 hour' END AS whole
   ), r AS (
     SELECT h.source_id, h.partner_id, h.sold, h.converted, h.returned, h.reversed, h.revenue, h.cost
     FROM report_hourly AS h, b WHERE h.hour >= b.whole
     UNION ALL
     SELECT d.source_id, d.partner_id, d.sold, d.converted, d.returned, d.reversed, d.revenue, d.cost
     FROM report_deltas AS d, b WHERE d.at >= b.whole
     UNION ALL
     SELECT l.source_id,
            coalesce(CASE WHEN e.party = 'partner' THEN e.party_id ELSE dl.partner_id END,
                     '${text(NO_PARTNER)}'),
            (e.party = 'partner' AND e.kind = 'sale')::int,
            (e.party = 'partner' AND e.kind = 'conversion')::int,
            (e.party = 'partner' AND e.kind = 'return')::int,
            (e.party = 'partner' AND e.kind = 'reversal')::int,
            CASE WHEN e.party = 'partner' THEN e.amount ELSE 0 END,
            CASE WHEN e.party = 'source' THEN e.amount ELSE 0 END
     FROM ledger_entries AS e
     JOIN leads AS l ON l.id = e.lead_id
     LEFT JOIN deliveries AS dl ON dl.id = e.delivery_id, b
     WHERE e.party_id = ANY(${p.parties}) AND e.at >= b.since AND e.at < b.whole
   )
   SELECT r.source_id::text AS "sourceId", nullif(r.partner_id, '${text(NO_PARTNER)}')::text AS "partnerId",
          coalesce(sum(r.sold) FILTER (WHERE r.partner_id <> '${text(NO_PARTNER)}'), 0)::bigint AS sold,
          sum(r.converted)::bigint AS converted, sum(r.returned)::bigint AS returned,
          sum(r.reversed)::bigint AS reversed, sum(r.revenue)::numeric AS revenue, sum(r.cost)::numeric AS cost
   FROM r
   GROUP BY r.source_id, r.partner_id
   HAVING sum(r.converted) + sum(r.returned) + sum(r.reversed) + coalesce(sum(r.sold) FILTER (WHERE r.partner_id <> '${text(NO_PARTNER)}'), 0) > 0
       OR sum(r.revenue) <> 0 OR sum(r.cost) <> 0`,
});
