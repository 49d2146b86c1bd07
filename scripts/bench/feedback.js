// The feedback phase: how many partner feedback events a second the ingest
// records (POST /v1/feedback, one event per request and batches of 100), with
// the worker running beside it, and whether each was recorded exactly once.
// Leads are first sold through the whole path (ingest, worker, an instant
// partner), so each event finds a sale to convert or reverse.
'use strict';
const autocannon = require('autocannon');
const { hammer } = require('./clients');
const { counters, sampler, settle } = require('./phases');

const BATCH = 100;

/** POSTs each body once to `path` with `key`, over `connections` connections; answers counted by status. */
async function postAll({ url, path, key, bodies, connections }) {
  let i = 0;
  const started = performance.now();
  const result = await autocannon({
    url,
    connections,
    amount: bodies.length,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        setupRequest: (req) => ({ ...req, body: bodies[i++] }),
      },
    ],
  });
  return {
    requests: result.requests.total,
    seconds: (performance.now() - started) / 1000,
    p50: result.latency.p50,
    p99: result.latency.p99,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count])),
    errors: result.errors + result.timeouts,
  };
}

/**
 * What one event cost in a phase: CPU (ms, user + system) of each process of the stack and in all, and
 * PostgreSQL commits (`pg_stat_database.xact_commit` of the bench's database: read-only ones too), and the
 * ledger's INSERT statements (each one call of its rollup trigger).
 */
function perEvent(procs, commits, events, ledgerInserts = 0) {
  const ms = (name) => (procs[name]?.cpuMs ?? 0) / events;
  const cpuMs = {
    ingest: ms('ingest'),
    postgres: ms('postgres (bench database)'),
    worker: ms('worker'),
    redis: ms('redis-server'),
  };
  const round = (x) => Math.round(x * 1000) / 1000;
  const total = cpuMs.ingest + cpuMs.postgres + cpuMs.worker + cpuMs.redis;
  return {
    cpuMs: { total: round(total), ...Object.fromEntries(Object.entries(cpuMs).map(([k, v]) => [k, round(v)])) },
    pgCommits: round(commits / events),
    ledgerInserts: round(ledgerInserts / events),
  };
}

async function feedbackRate({ stack, opts, pool, log }) {
  await stack.reset();
  const partner = await stack.startHelper('partner (instant)', 'partner.js');
  const ingest = await stack.startService('ingest', { nodeArgs: opts.nodeArgs });
  const worker = await stack.startService('worker', { nodeArgs: opts.nodeArgs });
  const wired = await stack.wire('bench-feedback', partner.url, { price: 20, conversionPrice: 40 });
  const operator = await stack.operatorIngest();
  await stack.admin(operator, 'PATCH', `/sources/${wired.source.id}`, { payout: { model: 'revshare', percent: 70 } });
  const key = wired.partner.feedbackKey;
  if (!key) throw new Error('the partner was created without a feedbackKey');

  const leads = opts.quick ? 1_000 : 10_000;
  const sold = await hammer({ url: ingest.url, apiKey: wired.apiKey, bodies: pool, amount: leads });
  const settled = await settle(stack, partner, sold.ids);
  if (settled.lost) log(`feedback: ${settled.lost} leads not delivered; they get 404s`);
  const ids = sold.ids;

  // One event per request: a conversion for each sold lead.
  const own = { ingest: () => ingest, worker: () => worker };
  let before = await counters(stack);
  let s = sampler(stack, own);
  const single = await postAll({
    url: ingest.url,
    path: '/v1/feedback',
    key,
    connections: 32,
    bodies: ids.map((id) => JSON.stringify({ leadId: id, event: 'converted', eventId: `c-${id}`, amount: 40 })),
  });
  const singleProcs = s.stop();
  const singleCommits = (await counters(stack)).pgCommits - before.pgCommits;

  // Batches of 100: a reversal of each conversion.
  const batches = [];
  for (let at = 0; at < ids.length; at += BATCH)
    batches.push(
      JSON.stringify({
        events: ids.slice(at, at + BATCH).map((id) => ({ leadId: id, event: 'reversed', eventId: `r-${id}` })),
      }),
    );
  before = await counters(stack);
  s = sampler(stack, own);
  const batched = await postAll({ url: ingest.url, path: '/v1/feedback', key, connections: 8, bodies: batches });
  const batchProcs = s.stop();
  const batchCommits = (await counters(stack)).pgCommits - before.pgCommits;

  // Exactly once: one partner conversion and one partner reversal per lead, whatever the answers said.
  const { rows } = await stack.pg.query(
    `SELECT kind, count(*)::int AS n FROM ledger_entries WHERE lead_id = ANY($1::uuid[]) AND party = 'partner' GROUP BY kind`,
    [ids],
  );
  const entries = Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  // How many INSERT statements wrote the ledger's lines of each phase (conversions one per request, reversals in
  // batches): rows one statement inserted share its transaction and command id (xmin, cmin), and the ledger's
  // rollup trigger, a statement trigger, ran once per such statement.
  const { rows: inserts } = await stack.pg.query(
    `SELECT kind, count(DISTINCT (xmin::text, cmin::text))::int AS n FROM ledger_entries
     WHERE lead_id = ANY($1::uuid[]) AND kind IN ('conversion', 'reversal') GROUP BY kind`,
    [ids],
  );
  const ledgerInserts = Object.fromEntries(inserts.map((r) => [r.kind, r.n]));
  await stack.stopChildren();
  const result = {
    leads: ids.length,
    single: { ...single, eventsPerSecond: Math.round(single.requests / single.seconds) },
    batched: {
      ...batched,
      batchSize: BATCH,
      eventsPerSecond: Math.round(ids.length / batched.seconds),
    },
    ledger: {
      conversions: entries.conversion ?? 0,
      reversals: entries.reversal ?? 0,
      expected: ids.length,
    },
    processes: { single: singleProcs, batched: batchProcs },
    perEvent: {
      single: perEvent(singleProcs, singleCommits, ids.length, ledgerInserts.conversion),
      batched: perEvent(batchProcs, batchCommits, ids.length, ledgerInserts.reversal),
    },
  };
  log(
    `feedback: ${result.single.eventsPerSecond} events/s one per request (p99 ${single.p99} ms), ` +
      `${result.batched.eventsPerSecond} events/s in batches of ${BATCH}; ledger ${result.ledger.conversions} conversions, ` +
      `${result.ledger.reversals} reversals of ${ids.length}; ledger INSERTs an event ` +
      `${result.perEvent.single.ledgerInserts} one per request, ${result.perEvent.batched.ledgerInserts} in batches`,
  );
  return result;
}

module.exports = { feedbackRate, postAll };
