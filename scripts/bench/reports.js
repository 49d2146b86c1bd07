// The reports phase (issue 13; ADR 0028): a year of report rollups for 10 million leads, written straight
// into report_daily, report_hourly and report_deltas with generate_series (the rows the triggers and the
// fold would have left), then every grouping of GET /v1/admin/reports over the whole year (by hour: the last
// 31 days, the longest a report by hour takes), and a source's own GET /v1/reports, timed over repeated calls
// through a real ingest. The target: within a second.
'use strict';
const { percentiles } = require('./clients');
const { sampler } = require('./phases');
const { ADMIN_TOKEN } = require('./stack');

/**
 * The shape of the seeded business. Full: 20 sources, 10 partners, each source selling to 3 of them, 5 geos
 * and 3 channels — per day 300 rows of the leads' own figures and 900 of partners', 438,000 daily and
 * 700,800 hourly rows for the year. Quick: the same year with 5 sources, 4 partners (2 per source), 3 geos
 * and 2 channels (32,850 and 131,400 rows). The lead counts are spread so the year holds 10 million leads
 * either way.
 */
function shapeOf(quick) {
  return quick
    ? { days: 365, sources: 5, partners: 4, perSource: 2, geos: ['US', 'CA', 'GB'], channels: ['fb', 'google'] }
    : {
        days: 365,
        sources: 20,
        partners: 10,
        perSource: 3,
        geos: ['US', 'CA', 'GB', 'AU', 'DE'],
        channels: ['fb', 'google', 'tiktok'],
      };
}
const LEADS_A_YEAR = 10_000_000;
/** Deltas not folded yet: what a few seconds of a busy ingest leave for the reports to read beside the rollups. */
const PENDING_DELTAS = 5_000;

const GROUPINGS = [
  'day',
  'hour',
  'source',
  'partner',
  'geo',
  'channel',
  'day,partner',
  'day,source',
  'source,partner',
  'partner,geo',
  'geo,channel',
  'hour,partner',
];

/**
 * Seeds the rollups in SQL. Every source sells to `perSource` partners (by its number); a nil-partner row per
 * day, source, geo and channel holds the leads' own figures, a partner row its sales, conversions, returns,
 * reversals and money. The hourly rows spread each day over its 24 hours (source × partner only).
 */
async function seed(stack, shape, sources, partners) {
  const { days, perSource, geos, channels } = shape;
  const until = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()));
  const since = new Date(until.getTime() - days * 86_400_000);
  const cells = days * sources.length * geos.length * channels.length;
  const perCell = Math.round(LEADS_A_YEAR / cells);
  const args = [since.toISOString().slice(0, 10), days, sources, partners, perSource, geos, channels, perCell];
  const started = performance.now();
  await stack.pg.query('TRUNCATE report_daily, report_hourly, report_deltas');
  // The leads' own figures (nil partner) and each partner's sales per day, source, geo and channel.
  await stack.pg.query(
    `INSERT INTO report_daily (day, source_id, partner_id, geo, channel, leads, accepted, duplicates, sold, unsold,
                               unmatched, dead_lettered, converted, returned, reversed, revenue, cost)
     SELECT $1::date + d, s.id, '00000000-0000-0000-0000-000000000000', g, c,
            l, l - l / 20, l / 20, (l - l / 20) * 7 / 10, (l - l / 20) / 10, (l - l / 20) / 10, (l - l / 20) / 10,
            0, 0, 0, 0, 0
     FROM generate_series(0, $2 - 1) AS d, unnest($3::uuid[]) WITH ORDINALITY AS s (id, n), unnest($6::text[]) AS g,
          unnest($7::text[]) AS c, LATERAL (SELECT $8::int + ((d + s.n::int) % 7) - 3 AS l) AS x
     UNION ALL
     SELECT $1::date + d, s.id, ($4::uuid[])[1 + (s.n::int + k) % array_length($4::uuid[], 1)],
            g, c, 0, 0, 0, sold, 0, 0, 0, sold / 12, sold / 25, sold / 100, sold * 12.5 + (sold / 12) * 40.0,
            sold * 4.0
     FROM generate_series(0, $2 - 1) AS d, unnest($3::uuid[]) WITH ORDINALITY AS s (id, n), unnest($6::text[]) AS g,
          unnest($7::text[]) AS c, generate_series(0, $5 - 1) AS k,
          LATERAL (SELECT (($8::int + ((d + s.n::int) % 7) - 3) * 7 / 10) / $5 AS sold) AS x`,
    args,
  );
  await stack.pg.query(
    `INSERT INTO report_hourly (hour, source_id, partner_id, leads, accepted, duplicates, sold, unsold, unmatched,
                                dead_lettered, converted, returned, reversed, revenue, cost)
     SELECT (day::timestamp AT TIME ZONE 'UTC') + h * interval '1 hour', source_id, partner_id, sum(leads) / 24, sum(accepted) / 24,
            sum(duplicates) / 24, sum(sold) / 24, sum(unsold) / 24, sum(unmatched) / 24, sum(dead_lettered) / 24,
            sum(converted) / 24, sum(returned) / 24, sum(reversed) / 24, sum(revenue) / 24, sum(cost) / 24
     FROM report_daily, generate_series(0, 23) AS h
     GROUP BY day, h, source_id, partner_id`,
  );
  await stack.pg.query(
    `INSERT INTO report_deltas (at, source_id, geo, channel, leads, accepted, sold)
     SELECT date_trunc('hour', $1::timestamptz, 'UTC'), ($2::uuid[])[1 + i % array_length($2::uuid[], 1)], 'US', 'fb',
            1, 1, 1
     FROM generate_series(1, $3) AS i`,
    [new Date(until.getTime() - 3_600_000), sources, PENDING_DELTAS],
  );
  await stack.pg.query('ANALYZE report_daily; ANALYZE report_hourly; ANALYZE report_deltas');
  const { rows } = await stack.pg.query(
    `SELECT (SELECT count(*) FROM report_daily)::int AS daily, (SELECT count(*) FROM report_hourly)::int AS hourly,
            (SELECT sum(leads) FROM report_daily)::bigint AS leads`,
  );
  return {
    since,
    until,
    daily: rows[0].daily,
    hourly: rows[0].hourly,
    deltas: PENDING_DELTAS,
    leads: Number(rows[0].leads),
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
}

/** `calls` GETs of `url` one after the other (the first one not counted: it warms the ingest's validators). */
async function timed(url, key, calls) {
  const ms = [];
  let items = 0;
  let bytes = 0;
  for (let i = 0; i <= calls; i++) {
    const started = performance.now();
    const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`);
    if (i > 0) ms.push(performance.now() - started);
    bytes = text.length;
    items = JSON.parse(text).items.length;
  }
  const p = percentiles(ms);
  return { items, kB: Math.round(bytes / 1024), p50: p.p50, p99: p.p99, calls };
}

async function reportTimes({ stack, opts, log }) {
  await stack.reset();
  const shape = shapeOf(opts.quick);
  const ingest = await stack.operatorIngest();
  const stamp = Date.now();
  const sources = [];
  for (let i = 0; i < shape.sources; i++)
    sources.push(await stack.admin(ingest, 'POST', '/sources', { name: `report-source-${i}-${stamp}` }));
  const partners = [];
  for (let i = 0; i < shape.partners; i++)
    partners.push(
      await stack.admin(ingest, 'POST', '/partners', {
        name: `report-partner-${i}-${stamp}`,
        url: 'http://127.0.0.1:9/leads',
      }),
    );
  const seeded = await seed(
    stack,
    shape,
    sources.map((s) => s.id),
    partners.map((p) => p.id),
  );
  log(
    `reports: seeded ${seeded.daily} daily and ${seeded.hourly} hourly rollup rows (${seeded.leads} leads) and ` +
      `${seeded.deltas} deltas in ${seeded.seconds} s`,
  );

  const calls = opts.quick ? 5 : 20;
  const day = (d) => d.toISOString().slice(0, 10);
  const year = `since=${day(seeded.since)}&until=${day(seeded.until)}`;
  // By hour, the longest range a report takes: the last 31 days.
  const month = `since=${day(new Date(seeded.until.getTime() - 31 * 86_400_000))}&until=${day(seeded.until)}`;
  const range = (groupBy) => (groupBy.split(',').includes('hour') ? month : year);
  const s = sampler(stack, { ingest: () => ingest });
  const groupings = [];
  for (const groupBy of GROUPINGS) {
    const t = await timed(`${ingest.url}/v1/admin/reports?groupBy=${groupBy}&${range(groupBy)}`, ADMIN_TOKEN, calls);
    groupings.push({ groupBy, days: groupBy.includes('hour') ? 31 : shape.days, ...t });
    log(`reports: ${groupBy}: p50 ${t.p50} ms, p99 ${t.p99} ms, ${t.items} items`);
  }
  const own = await timed(`${ingest.url}/v1/reports?groupBy=day,geo&${year}`, sources[0].apiKey, calls);
  groupings.push({ groupBy: 'day,geo (a source’s own)', days: shape.days, ...own });
  const processes = s.stop();
  return {
    shape,
    seeded: { ...seeded, since: seeded.since.toISOString(), until: seeded.until.toISOString() },
    groupings,
    processes,
  };
}

module.exports = { reportTimes, GROUPINGS };
