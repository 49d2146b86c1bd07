// The big-database phase (issue 16): the hot paths on an empty database and on one seeded in SQL with a year of
// 10 million leads (with their deliveries), alternated, in the same run and the same processes' settings:
// the ingest alone, the whole path to an instant partner whose daily cap is checked on every lead (a day's
// cap check), a source's duplicate check, the dead-letter search and the lead search of the admin API. The
// target: as fast on the big database as on the empty one. Where the server loads pg_stat_statements, each round
// also says what its hot statements cost a call (time and buffers): the figures the machine's load moves least.
'use strict';
const { hammer, percentiles } = require('./clients');
const { sampler, settle } = require('./phases');

const YEAR_OF_LEADS = 10_000_000;
/** Rows per INSERT … SELECT: a few seconds each, so progress shows and no transaction holds gigabytes of WAL. */
const BATCH = 500_000;

/** Times `calls` sequential GETs of the admin API: p50/p99 ms. */
async function timeAdmin(stack, ingest, url, calls) {
  const times = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    await stack.admin(ingest, 'GET', url);
    times.push(performance.now() - started);
  }
  const p = percentiles(times);
  return { p50: p.p50, p99: p.p99 };
}

/** A source (with a duplicate window: every post looks for an earlier lead with its phone or email) to a partner. */
async function wireWithWindow(stack, name, partnerUrl, partnerOptions) {
  const wiring = await stack.wire(name, partnerUrl, partnerOptions);
  await stack.admin(await stack.operatorIngest(), 'PATCH', `/sources/${wiring.source.id}`, {
    duplicateWindowHours: 24,
  });
  return wiring;
}

/**
 * This database's statements from pg_stat_statements by their text (ids differ between databases), or null when the
 * server does not load it (`shared_preload_libraries`): calls, execution ms and buffers (hit + read, and read).
 */
async function statementStats(stack) {
  try {
    await stack.pg.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const { rows } = await stack.pg.query(
      `SELECT query, sum(calls)::float8 AS calls, sum(total_exec_time) AS ms, sum(total_plan_time) AS "planMs",
              sum(shared_blks_hit + shared_blks_read)::float8 AS blocks, sum(shared_blks_read)::float8 AS reads
       FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       GROUP BY query`,
    );
    return new Map(rows.map((r) => [r.query.replace(/\s+/g, ' '), r]));
  } catch {
    return null;
  }
}

/** The server's WAL so far: records, full-page images, bytes (pg_stat_wal). */
async function walStats(stack) {
  const { rows } = await stack.pg.query(
    'SELECT wal_records::float8 AS records, wal_fpi::float8 AS "fullPages", wal_bytes::float8 AS bytes FROM pg_stat_wal',
  );
  return rows[0];
}

/**
 * What statements cost a call between two snapshots, by total time: those called at least `minCalls` times (the
 * hot path's) and any other taking 1 % of the time or more (a rare statement that grows with the tables).
 */
function statementsBetween(before, after, minCalls) {
  if (!before || !after) return null;
  const out = [];
  let total = 0;
  // Time spent waiting for an advisory lock (the caps' and duplicates' queues) is not work: left out of the share.
  for (const [query, a] of after)
    if (!query.includes('pg_advisory_xact_lock'))
      total += a.ms + a.planMs - (before.get(query)?.ms ?? 0) - (before.get(query)?.planMs ?? 0);
  for (const [query, a] of after) {
    const b = before.get(query) ?? { calls: 0, ms: 0, planMs: 0, blocks: 0, reads: 0 };
    const calls = a.calls - b.calls;
    const ms = a.ms + a.planMs - b.ms - b.planMs;
    if (
      calls === 0 ||
      (calls < minCalls && ms < total / 100) ||
      /^(BEGIN|COMMIT|ROLLBACK)|pg_stat_statements/.test(query)
    )
      continue;
    const per = (x) => Math.round((x / calls) * 1000) / 1000;
    out.push({
      query,
      calls,
      ms: a.ms - b.ms,
      msPerCall: per(a.ms - b.ms),
      planMsPerCall: per(a.planMs - b.planMs),
      blocksPerCall: per(a.blocks - b.blocks),
      readsPerCall: per(a.reads - b.reads),
    });
  }
  return out.sort((x, y) => y.ms - x.ms);
}

/**
 * One round of measures: the ingest alone, the whole path to a partner with a daily cap, and the admin searches.
 * Each round posts the same bodies from sources of its own; the leads a round leaves lose their phone and email
 * (the ingest-alone ones are deleted), so the next round's posts are no duplicates of them.
 */
async function measure({ stack, opts, pool, log }, label) {
  const ingest = await stack.startService('ingest');
  const alone = await wireWithWindow(stack, `bench-bigdb-alone-${label}`, 'http://127.0.0.1:9');
  await hammer({ url: ingest.url, apiKey: alone.apiKey, bodies: pool, durationS: opts.warmupS });
  const ingestAlone = await hammer({ url: ingest.url, apiKey: alone.apiKey, bodies: pool, durationS: opts.durationS });
  await stack.pg.query('DELETE FROM leads WHERE source_id = $1', [alone.source.id]);
  await stack.redis.flushall();

  const partner = await stack.startHelper('partner (instant)', 'partner.js');
  const wiring = await wireWithWindow(stack, `bench-bigdb-${label}`, partner.url, { caps: { daily: 100_000_000 } });
  const worker = await stack.startService('worker');
  const statementsBefore = await statementStats(stack);
  const walBefore = await walStats(stack);
  const s = sampler(stack, { ingest: () => ingest, worker: () => worker });
  const posted = await hammer({ url: ingest.url, apiKey: wiring.apiKey, bodies: pool, amount: opts.bigdbLeads });
  const t = await settle(stack, partner, posted.ids);
  const procs = s.stop();
  const statements = statementsBetween(statementsBefore, await statementStats(stack), opts.bigdbLeads / 2);
  const walAfter = await walStats(stack);
  const times = [...t.seen.values()].sort((a, b) => a - b);
  const seconds = (times[times.length - 1] - posted.firstSentAt) / 1000;

  const operator = await stack.operatorIngest();
  const calls = opts.bigdbCalls;
  const deadLetters = await timeAdmin(stack, operator, '/dead-letters?limit=50', calls);
  const deadLettersOfPartner = await timeAdmin(
    stack,
    operator,
    `/dead-letters?limit=50&partner=${wiring.partner.id}`,
    calls,
  );
  const leadSearch = await timeAdmin(stack, operator, '/leads?status=delivered&limit=50', calls);
  const leadsOfSource = await timeAdmin(stack, operator, `/leads?source=${wiring.source.id}&limit=50`, calls);
  await Promise.all([partner.stop(), worker.stop(), ingest.stop()]);
  await stack.pg.query('UPDATE leads SET phone = NULL, email = NULL WHERE source_id = $1', [wiring.source.id]);

  const row = {
    label,
    ingestRequestsPerSecond: ingestAlone.requestsPerSecond,
    ingestP99: ingestAlone.p99,
    deliveredPerSecond: Math.round(t.seen.size / seconds),
    lost: t.lost,
    cpuMsPerLead: Object.fromEntries(
      ['ingest', 'worker', 'postgres (bench database)'].map((k) => [
        k,
        Math.round(((procs[k]?.cpuMs ?? 0) / Math.max(1, t.seen.size)) * 100) / 100,
      ]),
    ),
    deadLetters,
    deadLettersOfPartner,
    leadSearch,
    leadsOfSource,
    // The whole server's WAL a delivered lead (other databases' writes count too: the bench's own server is clean).
    walPerLead: Object.fromEntries(
      Object.keys(walAfter).map((k) => [
        k,
        Math.round(((walAfter[k] - walBefore[k]) / Math.max(1, t.seen.size)) * 10) / 10,
      ]),
    ),
    statements,
  };
  log(
    `${label}: ingest ${row.ingestRequestsPerSecond} req/s (p99 ${row.ingestP99} ms), end to end with a daily cap ` +
      `${row.deliveredPerSecond} delivered/s (lost ${row.lost}), dead letters p99 ${deadLetters.p99} ms, ` +
      `lead search p99 ${leadSearch.p99} ms`,
  );
  return row;
}

/**
 * Seeds `total` leads spread evenly over the last 365 days, from 20 sources other than the measured one, each
 * with one delivery to one of 10 partners: 90 % delivered, 10 % unsold (half of them refused by a partner, half
 * sold to none), and one in 1,000 dead-lettered. Phones and emails are distinct and never those of the posted pool (which uses +1 555…
 * numbers and example.com addresses, scripts/bench/leads.js).
 */
async function seed(stack, total, log) {
  const ingest = await stack.operatorIngest();
  const sources = [];
  const partners = [];
  for (let i = 0; i < 20; i++)
    sources.push((await stack.admin(ingest, 'POST', '/sources', { name: `bigdb-source-${i}-${Date.now()}` })).id);
  for (let i = 0; i < 10; i++)
    partners.push(
      (
        await stack.admin(ingest, 'POST', '/partners', {
          name: `bigdb-partner-${i}-${Date.now()}`,
          url: 'http://127.0.0.1:9/leads',
        })
      ).id,
    );
  const started = performance.now();
  const yearMs = 365 * 86_400_000;
  const since = Date.now() - yearMs;
  for (let from = 0; from < total; from += BATCH) {
    const to = Math.min(total, from + BATCH) - 1;
    // Ids are UUIDv7 of each lead's own time (ADR 0035), made here from the time as the SQL function does.
    await stack.pg.query(
      `WITH made AS (
         SELECT n, to_timestamp(($3::float8 + n::float8 * $4::float8) / 1000) AS at
         FROM generate_series($1::bigint, $2::bigint) AS n
       )
       INSERT INTO leads (id, source_id, status, name, phone, email, geo, sub_source, fields, routing,
                          created_at, updated_at)
       SELECT (lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0')
                 || substr(md5(n::text), 1, 20))::uuid,
              ($5::uuid[])[1 + n % 20],
              (CASE WHEN n % 1000 = 7 THEN 'dead_lettered' WHEN n % 10 = 3 THEN 'unsold'
                    ELSE 'delivered' END)::"LeadStatus",
              'Seeded Lead', '+4420' || lpad((n % 100000000)::text, 8, '0'),
              'seeded' || n || '@bigdb.invalid', (ARRAY['US','CA','GB','AU','DE'])[1 + n % 5],
              (ARRAY['fb','google','tiktok'])[1 + n % 3], '{"vertical":"solar","zip":"94105"}'::jsonb,
              '{"version":1,"route":null,"candidates":[]}'::jsonb, at, at
       FROM made`,
      [from, to, since, yearMs / total, sources],
    );
    await stack.pg.query(
      `INSERT INTO deliveries (id, lead_id, partner_id, status, attempts, dead_lettered_at, created_at, updated_at)
       SELECT gen_random_uuid(), l.id, ($1::uuid[])[1 + (abs(hashtext(l.id::text)) % 10)],
              (CASE l.status WHEN 'dead_lettered' THEN 'dead_lettered' WHEN 'unsold' THEN 'rejected'
                             ELSE 'accepted' END)::"DeliveryStatus",
              1, CASE WHEN l.status = 'dead_lettered' THEN l.created_at END, l.created_at, l.created_at
       FROM leads l
       WHERE l.source_id = ANY($2::uuid[]) AND (l.status <> 'unsold' OR hashtext(l.id::text) % 2 = 0)
         AND l.created_at >= to_timestamp(($3::float8 + $4::float8 * $5::float8) / 1000)
         AND l.created_at <= to_timestamp(($3::float8 + $4::float8 * $6::float8) / 1000)`,
      [partners, sources, since, yearMs / total, from, to],
    );
    const done = to + 1;
    const rate = Math.round(done / ((performance.now() - started) / 1000));
    log(`bigdb: seeded ${done.toLocaleString('en')} of ${total.toLocaleString('en')} leads (${rate}/s)`);
  }
  // The year's report figures folded into the rollups, as the worker's fold would have done as they came: the
  // seeding's inserts left one delta per lead (the reports' triggers), which would otherwise be folded while the
  // hot paths are measured and counted as their PostgreSQL time.
  const folding = performance.now();
  let folded = 0;
  for (;;) {
    const { rows: made } = await stack.pg.query('SELECT report_fold(100000) AS n');
    if (made[0].n === 0) break;
    folded += made[0].n;
  }
  log(
    `bigdb: ${folded.toLocaleString('en')} report deltas folded in ${Math.round((performance.now() - folding) / 1000)} s`,
  );
  await stack.pg.query('VACUUM ANALYZE leads');
  await stack.pg.query('VACUUM ANALYZE deliveries');
  await stack.pg.query('VACUUM ANALYZE report_deltas');
  // The seeding's gigabyte of dirty pages written out now, not by the checkpointer while the hot paths are measured
  // (the PostgreSQL figures count the server's background processes). Needs a superuser; without one, a caveat.
  await stack.pg
    .query('CHECKPOINT')
    .catch((err) => log(`bigdb: no CHECKPOINT (${err.message}): PostgreSQL's CPU may include it`));
  const { rows } = await stack.pg.query(
    `SELECT pg_size_pretty(pg_total_relation_size('leads')) AS leads,
            pg_size_pretty(pg_total_relation_size('deliveries')) AS deliveries`,
  );
  return { leads: total, seconds: Math.round((performance.now() - started) / 1000), sizes: rows[0] };
}

/**
 * The same measures on an empty database and on a seeded one, alternated — empty, big, empty, big — after the
 * seeding: this machine's load moves a run's rates by more than the database's size does, and a drift in the load
 * then weighs on both sides alike. The ratios are of the rounds' sums.
 */
async function bigDatabase(ctx) {
  const { stack, opts, log } = ctx;
  await stack.reset();
  const bigUrl = stack.databaseUrl;
  const emptyUrl = await stack.createDatabase('empty');
  const total = opts.quick ? 1_000_000 : YEAR_OF_LEADS;
  const seeded = await seed(stack, total, log);
  log(
    `bigdb: ${total} leads seeded in ${seeded.seconds} s (leads ${seeded.sizes.leads}, deliveries ${seeded.sizes.deliveries})`,
  );
  const rounds = [];
  for (let round = 1; round <= 2; round++) {
    await stack.useDatabase(emptyUrl);
    const empty = await measure(ctx, `empty database, round ${round}`);
    await stack.useDatabase(bigUrl);
    const big = await measure(ctx, `${(total / 1e6).toFixed(0)} M leads, round ${round}`);
    rounds.push({ empty, big });
  }
  await stack.stopChildren();
  const sum = (side, key) => rounds.reduce((n, r) => n + r[side][key], 0);
  const ratio = (key) => Math.round((sum('big', key) / Math.max(1, sum('empty', key))) * 100) / 100;
  return {
    seeded,
    rounds,
    ratios: { ingest: ratio('ingestRequestsPerSecond'), endToEnd: ratio('deliveredPerSecond') },
  };
}

module.exports = { bigDatabase, seed };
