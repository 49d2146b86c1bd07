// The benchmark's phases. Each starts from empty lead tables and an empty
// Redis, starts the processes it needs, measures, and stops them again, so
// its CPU and memory figures are its own.
'use strict';
const { hammer, paced, percentiles, now } = require('./clients');
const { ProcSampler, pidsNamed } = require('./procstat');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The processes every phase watches besides its own: Redis, PostgreSQL and the load generator. */
function sampler(stack, own) {
  const s = new ProcSampler();
  for (const [label, child] of Object.entries(own)) s.track(label, () => [child().pid]);
  s.track('redis-server', stack.redisChild.pid);
  trackPostgres(s, stack);
  s.track('load generator (bench)', process.pid);
  return s.start();
}

/**
 * Tracks PostgreSQL as the backends of the bench's database and the server's background processes (WAL writer,
 * checkpointer, autovacuum), looked up every second: other databases' backends (tests running on the machine)
 * are not the bench's CPU.
 */
function trackPostgres(s, stack) {
  let pids = pidsNamed('postgres');
  const lookUp = () =>
    stack.pg
      .query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() OR backend_type <> 'client backend'`)
      .then(({ rows }) => (pids = rows.map((r) => r.pid)))
      .catch(() => undefined);
  void lookUp();
  const looking = setInterval(lookUp, 1000);
  s.track(POSTGRES, () => pids, { group: true });
  const stop = s.stop.bind(s);
  s.stop = () => {
    clearInterval(looking);
    return stop();
  };
}
const POSTGRES = 'postgres (bench database)';

/** PostgreSQL's commits in the bench's database and Redis' commands so far: what a lead costs in messages. */
async function counters(stack) {
  const { rows } = await stack.pg.query(
    'SELECT xact_commit::bigint AS commits FROM pg_stat_database WHERE datname = current_database()',
  );
  const info = await stack.redis.info('stats');
  const byCommand = {};
  for (const [, name, calls] of (await stack.redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    byCommand[name] = Number(calls);
  return {
    pgCommits: Number(rows[0].commits),
    redisCommands: Number(/total_commands_processed:(\d+)/.exec(info)[1]),
    byCommand,
  };
}

/** CPU (ms) and messages per delivered lead, from a phase's process figures and counters before and after. */
function perLead(procs, before, after, delivered) {
  const ms = (label) => Math.round(((procs[label]?.cpuMs ?? 0) / delivered) * 100) / 100;
  const cpuMs = {
    ingest: ms('ingest'),
    worker: ms('worker'),
    postgres: ms(POSTGRES),
    redis: ms('redis-server'),
  };
  const per = (n) => Math.round((n / delivered) * 10) / 10;
  return {
    cpuMs: { ...cpuMs, total: Math.round(Object.values(cpuMs).reduce((a, b) => a + b, 0) * 100) / 100 },
    pgCommits: per(after.pgCommits - before.pgCommits),
    redisCommands: per(after.redisCommands - before.redisCommands),
    /** The commands that make most of them, per lead. */
    redisByCommand: Object.fromEntries(
      Object.entries(after.byCommand)
        .map(([name, calls]) => [name, per(calls - (before.byCommand[name] ?? 0))])
        .filter(([, n]) => n >= 0.5)
        .sort((a, b) => b[1] - a[1]),
    ),
  };
}

/**
 * Waits until `partner` has accepted every id in `ids` — or until nothing new
 * arrived for `stallMs` (a slow system is not a lossy one), or `timeoutMs`
 * passed — then checks each lead in PostgreSQL too. Lost = answered 202 but
 * not delivered, at the partner or in the database.
 */
async function settle(stack, partner, ids, { stallMs = 30_000, timeoutMs = 900_000 } = {}) {
  const want = new Set(ids);
  const deadline = Date.now() + timeoutMs;
  const countDelivered = async () =>
    (
      await stack.pg.query(`SELECT count(*)::int AS n FROM leads WHERE id = ANY($1::uuid[]) AND status = 'delivered'`, [
        [...want],
      ])
    ).rows[0].n;
  // Progress is partner receipts, then (the worker records an attempt after the answer) delivered leads in PostgreSQL.
  let count = -1;
  let progressAt = Date.now();
  for (;;) {
    let { unique } = await partner.ask('count');
    if (unique >= want.size) {
      const delivered = await countDelivered();
      if (delivered >= want.size) break;
      unique += delivered;
    }
    if (unique > count) [count, progressAt] = [unique, Date.now()];
    if (Date.now() - progressAt > stallMs || Date.now() > deadline) break;
    await sleep(100);
  }
  const stats = await partner.ask('stats');
  const seen = new Map(stats.accepted.filter(([id]) => want.has(id)));
  const { rows } = await stack.pg.query(
    `SELECT status, count(*)::int AS n FROM leads WHERE id = ANY($1::uuid[]) GROUP BY status`,
    [[...want]],
  );
  const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
  const deliveredInDb = byStatus.delivered ?? 0;
  return {
    seen,
    requests: stats.requests,
    failedAnswers: stats.failed,
    maxInFlight: stats.maxInFlight,
    lostAtPartner: want.size - seen.size,
    lostInDb: want.size - deliveredInDb,
    lost: Math.max(want.size - seen.size, want.size - deliveredInDb),
    // Leads the partner received more than once (a job run again: a stalled lock, a crash, a failover).
    sentAgain: stats.again.filter(([id]) => want.has(id)).length,
    byStatus,
  };
}

// ---------------------------------------------------------------------------

/** Bare Express, then the ingest alone (no worker), under autocannon. */
async function ingestThroughput({ stack, opts, pool, log }) {
  const bare = await stack.startHelper('bare-express', 'bare-express.js');
  await hammer({ url: bare.url, bodies: pool, durationS: opts.warmupS });
  let s = sampler(stack, { 'bare express': () => bare });
  const baseline = await hammer({ url: bare.url, bodies: pool, durationS: opts.durationS });
  const bareProcs = s.stop();
  await bare.stop();
  log(`bare Express: ${baseline.requestsPerSecond} req/s, p99 ${baseline.p99} ms`);

  await stack.reset();
  const ingest = await stack.startService('ingest', { nodeArgs: opts.nodeArgs });
  const { apiKey } = await stack.wire('bench-ingest', 'http://127.0.0.1:9');
  await hammer({ url: ingest.url, apiKey, bodies: pool, durationS: opts.warmupS });
  s = sampler(stack, { ingest: () => ingest });
  const measured = await hammer({ url: ingest.url, apiKey, bodies: pool, durationS: opts.durationS });
  const ingestProcs = s.stop();
  // The same leads, every one with the same phone and email (placeholder contacts are common in affiliate
  // traffic), from a source without a duplicate window: they must cost what distinct ones do (issue 17).
  const same = JSON.parse(pool[0]);
  const sameContact = pool.map((body) => JSON.stringify({ ...JSON.parse(body), phone: same.phone, email: same.email }));
  const identical = await hammer({ url: ingest.url, apiKey, bodies: sameContact, durationS: opts.durationS });
  await ingest.stop();
  const ratio = Math.round((measured.requestsPerSecond / baseline.requestsPerSecond) * 100) / 100;
  log(
    `ingest: ${measured.requestsPerSecond} req/s (${ratio} × bare), p99 ${measured.p99} ms, non-2xx ${measured.non2xx}`,
  );
  log(`ingest, one phone and email for all: ${identical.requestsPerSecond} req/s, p99 ${identical.p99} ms`);
  // Only the figures: the ids and times are for the end-to-end phases.
  const strip = (r) => {
    const figures = { ...r };
    delete figures.ids;
    delete figures.firstSentAt;
    return figures;
  };
  return {
    bare: strip(baseline),
    ingest: { ...strip(measured), ratioToBare: ratio },
    identicalContacts: strip(identical),
    processes: { ...bareProcs, ...ingestProcs },
  };
}

/** Ingest + worker + an instant partner: delivered leads/s, then the lag at a fixed offered rate. */
async function endToEnd({ stack, opts, pool, log }) {
  await stack.reset();
  const partner = await stack.startHelper('partner (instant)', 'partner.js');
  const ingest = await stack.startService('ingest', { nodeArgs: opts.nodeArgs });
  const worker = await stack.startService('worker', { nodeArgs: opts.nodeArgs });
  const { apiKey } = await stack.wire('bench-e2e', partner.url);
  const own = { ingest: () => ingest, worker: () => worker, 'partner (instant)': () => partner };

  // Warm-up: a few hundred leads through the whole path.
  const warm = await hammer({ url: ingest.url, apiKey, bodies: pool, amount: opts.quick ? 200 : 1000 });
  await settle(stack, partner, warm.ids);
  await partner.ask('reset');

  let s = sampler(stack, own);
  const before = await counters(stack);
  const posted = await hammer({ url: ingest.url, apiKey, bodies: pool, amount: opts.e2eLeads });
  const t = await settle(stack, partner, posted.ids);
  const throughputProcs = s.stop();
  const costs = perLead(throughputProcs, before, await counters(stack), t.seen.size);
  // How many INSERT statements wrote the sales' ledger lines: rows one statement inserted share its transaction
  // and command id (xmin, cmin), and the ledger's rollup trigger, a statement trigger, ran once per such statement.
  const { rows: inserts } = await stack.pg.query(
    `SELECT count(DISTINCT (xmin::text, cmin::text))::int AS n FROM ledger_entries
     WHERE lead_id = ANY($1::uuid[]) AND kind = 'sale'`,
    [posted.ids],
  );
  costs.ledgerInserts = Math.round((inserts[0].n / t.seen.size) * 100) / 100;
  const times = [...t.seen.values()].sort((a, b) => a - b);
  const seconds = (times[times.length - 1] - posted.firstSentAt) / 1000;
  const throughput = {
    posted: opts.e2eLeads,
    accepted: posted.ids.length,
    non2xx: posted.non2xx + posted.errors,
    ingestRequestsPerSecond: posted.requestsPerSecond,
    deliveredPerSecond: Math.round(t.seen.size / seconds),
    seconds: Math.round(seconds * 10) / 10,
    lost: t.lost,
    byStatus: t.byStatus,
    perLead: costs,
  };
  log(
    `end to end: ${throughput.deliveredPerSecond} delivered/s (${t.seen.size} leads in ${throughput.seconds} s), lost ${t.lost}`,
  );
  log(
    `per lead: ${costs.cpuMs.total} ms CPU (${JSON.stringify(costs.cpuMs)}), ${costs.pgCommits} PostgreSQL commits, ${costs.ledgerInserts} ledger INSERTs, ${costs.redisCommands} Redis commands (${JSON.stringify(costs.redisByCommand)})`,
  );

  await partner.ask('reset');
  s = sampler(stack, own);
  const run = await paced({ url: ingest.url, apiKey, bodies: pool, rate: opts.lagRate, durationS: opts.durationS });
  const l = await settle(
    stack,
    partner,
    run.accepted.map(([id]) => id),
  );
  const lagProcs = s.stop();
  const lag = lagOf(run, l);
  log(`lag at ${opts.lagRate}/s: p50 ${lag.p50} ms, p99 ${lag.p99} ms, lost ${l.lost}`);
  await stack.stopChildren();
  return {
    throughput,
    lag: { rate: opts.lagRate, seconds: opts.durationS, ...lag },
    processes: { throughput: throughputProcs, lag: lagProcs },
  };
}

/** received → delivered: from each lead's scheduled post to the partner accepting it. */
function lagOf(run, settled) {
  const lags = [];
  for (const [id, scheduledAt] of run.accepted) {
    const at = settled.seen.get(id);
    if (at !== undefined) lags.push(at - scheduledAt);
  }
  const p = percentiles(lags);
  return {
    sent: run.sent,
    accepted: run.accepted.length,
    statuses: run.statuses,
    answer: run.answerLatency,
    p50: p.p50,
    p99: p.p99,
    max: p.max,
    lost: settled.lost,
    byStatus: settled.byStatus,
  };
}

/**
 * No head-of-line blocking: the instant partner's lag alone, then again while
 * a partner answering in 50–200 ms is offered three times what its
 * `concurrency` lets it take. The total offered stays at half of what the
 * end-to-end phase measured, so what shows is the slow partner's effect, not
 * the system running out of capacity.
 */
async function isolation({ stack, opts, pool, log, measured }) {
  const total = Math.max(20, Math.round((measured ?? 100) * 0.5));
  const instantRate = Math.round(total / 2);
  const slowRate = total - instantRate;
  // Little's law: `concurrency` requests of 125 ms on average take concurrency / 0.125 leads/s.
  const slowConcurrency = Math.max(1, Math.floor((slowRate * 0.125) / 3));
  await stack.reset();
  const instant = await stack.startHelper('partner (instant)', 'partner.js');
  const slow = await stack.startHelper('partner (50-200 ms)', 'partner.js', {
    DELAY_MIN_MS: '50',
    DELAY_MAX_MS: '200',
  });
  const ingest = await stack.startService('ingest', { nodeArgs: opts.nodeArgs });
  const worker = await stack.startService('worker', { nodeArgs: opts.nodeArgs });
  const fast = await stack.wire('bench-hol-instant', instant.url);
  const loaded = await stack.wire('bench-hol-slow', slow.url, { concurrency: slowConcurrency });
  const half = Math.floor(pool.length / 2);
  const fastPool = pool.slice(0, half);
  const slowPool = pool.slice(half);

  // Warm-up (JIT, connections, caches), then the instant partner alone.
  const warm = await paced({ url: ingest.url, apiKey: fast.apiKey, bodies: fastPool, rate: instantRate, durationS: 2 });
  await settle(
    stack,
    instant,
    warm.accepted.map(([id]) => id),
  );
  await instant.ask('reset');
  const alone = await paced({
    url: ingest.url,
    apiKey: fast.apiKey,
    bodies: fastPool,
    rate: instantRate,
    durationS: opts.durationS,
  });
  const aloneLag = lagOf(
    alone,
    await settle(
      stack,
      instant,
      alone.accepted.map(([id]) => id),
    ),
  );
  await instant.ask('reset');

  const s = sampler(stack, {
    ingest: () => ingest,
    worker: () => worker,
    'partner (instant)': () => instant,
    'partner (50-200 ms)': () => slow,
  });
  const started = now();
  const [fastRun, slowRun] = await Promise.all([
    paced({ url: ingest.url, apiKey: fast.apiKey, bodies: fastPool, rate: instantRate, durationS: opts.durationS }),
    paced({ url: ingest.url, apiKey: loaded.apiKey, bodies: slowPool, rate: slowRate, durationS: opts.durationS }),
  ]);
  const fastSettled = await settle(
    stack,
    instant,
    fastRun.accepted.map(([id]) => id),
  );
  const underLoad = lagOf(fastRun, fastSettled);
  // How far the slow partner got while the instant one was measured, and its backlog then.
  const slowStats = await slow.ask('count');
  const elapsed = (now() - started) / 1000;
  const procs = s.stop();
  const slowSettled = await settle(
    stack,
    slow,
    slowRun.accepted.map(([id]) => id),
  );
  await stack.stopChildren();
  const result = {
    instantRate,
    slowOfferedRate: slowRate,
    slowPartnerConcurrency: slowConcurrency,
    instantAlone: { p50: aloneLag.p50, p99: aloneLag.p99, lost: aloneLag.lost },
    instantUnderLoad: { p50: underLoad.p50, p99: underLoad.p99, lost: underLoad.lost },
    slowDeliveredPerSecond: Math.round(slowStats.unique / elapsed),
    slowMaxInFlight: slowSettled.maxInFlight,
    slowLost: slowSettled.lost,
    processes: procs,
  };
  log(
    `isolation: instant partner p99 ${aloneLag.p99} ms alone, ${underLoad.p99} ms while the slow one takes ` +
      `${result.slowDeliveredPerSecond}/s of ${slowRate}/s offered`,
  );
  return result;
}

/**
 * Throughput to a partner answering in 200 ms against WORKER_CONCURRENCY: a
 * backlog is posted with no worker running, then one worker drains it.
 * Little's law: throughput = requests in flight / time each takes.
 */
async function concurrencySweep({ stack, opts, pool, log }) {
  const rows = [];
  for (const concurrency of opts.sweep) {
    await stack.reset();
    const partner = await stack.startHelper('partner (200 ms)', 'partner.js', { DELAY_MIN_MS: '200' });
    const ingest = await stack.startService('ingest', { nodeArgs: opts.nodeArgs });
    // The partner's own limit (default 32) is raised so the worker's is the one that binds.
    const { apiKey } = await stack.wire(`bench-sweep-${concurrency}`, partner.url, { concurrency: 1000 });
    const backlog = Math.max(300, Math.round((concurrency / 0.2) * opts.sweepSeconds));
    const posted = await hammer({ url: ingest.url, apiKey, bodies: pool, amount: backlog });
    const worker = await stack.startService('worker', {
      env: { WORKER_CONCURRENCY: String(concurrency) },
      nodeArgs: opts.nodeArgs,
    });
    const s = sampler(stack, { worker: () => worker, 'partner (200 ms)': () => partner });
    const t = await settle(stack, partner, posted.ids);
    const procs = s.stop();
    await stack.stopChildren();
    // The steady part: between the 10th and the 90th percentile of deliveries.
    const times = [...t.seen.values()].sort((a, b) => a - b);
    const lo = Math.floor(times.length * 0.1);
    const hi = Math.floor(times.length * 0.9);
    const rate = Math.round((hi - lo) / ((times[hi] - times[lo]) / 1000));
    const row = {
      concurrency,
      leads: posted.ids.length,
      deliveredPerSecond: rate,
      littlesLawLimit: Math.round(concurrency / 0.2),
      maxInFlightAtPartner: t.maxInFlight,
      lost: t.lost,
      workerCpuPct: procs.worker.avgCpuPct,
      workerPeakRssMB: procs.worker.peakRssMB,
      postgresCpuPct: procs[POSTGRES].avgCpuPct,
    };
    log(
      `WORKER_CONCURRENCY=${concurrency}: ${rate} delivered/s (Little's law limit ${row.littlesLawLimit}/s), in flight ≤ ${t.maxInFlight}`,
    );
    rows.push(row);
  }
  return rows;
}

/**
 * The soak: a steady rate for `seconds`, to a partner failing 5 % of requests,
 * with the worker killed (SIGKILL) and restarted half-way. Nothing may be
 * lost, and Redis memory must stay flat.
 */
/**
 * The length of BullMQ's event streams by queue, summed over its sub-queues (`bench:{route-0.17}:events`…): each grows
 * up to its cap (10,000 entries by default), then stays there.
 */
async function eventStreamLengths(redis) {
  const lengths = { route: 0, deliver: 0, postback: 0 };
  for (const key of await redis.keys('bench:*:events')) {
    const queue = /^bench:\{?(route|deliver|postback)[-:}]/.exec(key)?.[1];
    if (queue) lengths[queue] += await redis.xlen(key);
  }
  return lengths;
}

async function soak({ stack, opts, pool, log }) {
  await stack.reset();
  const partner = await stack.startHelper('partner (5 % failures)', 'partner.js', { FAIL_RATE: '0.05' });
  const ingest = await stack.startService('ingest', { nodeArgs: opts.nodeArgs });
  let worker = await stack.startService('worker', { nodeArgs: opts.nodeArgs });
  const { apiKey } = await stack.wire('bench-soak', partner.url, {
    backoff: { delayMs: 500, maxDelayMs: 5000 },
    maxAttempts: 10,
  });
  const s = sampler(stack, { ingest: () => ingest, worker: () => worker, 'partner (5 % failures)': () => partner });
  const samples = [];
  const sample = async (label) => {
    const info = await stack.redis.info('memory');
    const usedMemory = Number(/used_memory:(\d+)/.exec(info)[1]);
    const { readProc } = require('./procstat');
    const mb = (pid) => Math.round(((readProc(pid)?.rss ?? 0) / 1048576) * 10) / 10;
    samples.push({
      at: Math.round((now() - started) / 1000),
      label,
      redisUsedMemoryMB: Math.round((usedMemory / 1048576) * 100) / 100,
      // BullMQ's event streams grow up to their cap (10,000 entries each by default), then stay there.
      eventStreams: await eventStreamLengths(stack.redis),
      keys: await stack.redis.dbsize(),
      ingestRssMB: mb(ingest.pid),
      workerRssMB: mb(worker.pid),
    });
  };
  const started = now();
  await sample('start');
  const every = Math.max(5, Math.round(opts.soakSeconds / 10));
  const timer = setInterval(() => void sample(''), every * 1000);
  let restart;
  const restartTimer = setTimeout(
    () => {
      restart = (async () => {
        await sample('middle');
        log('soak: killing the worker (SIGKILL) and starting a new one');
        await worker.stop('SIGKILL');
        worker = await stack.startService('worker', { nodeArgs: opts.nodeArgs });
      })();
    },
    (opts.soakSeconds * 1000) / 2,
  );
  const run = await paced({
    url: ingest.url,
    apiKey,
    bodies: pool,
    rate: opts.soakRate,
    durationS: opts.soakSeconds,
    idempotencyKeys: true,
  });
  clearInterval(timer);
  clearTimeout(restartTimer);
  await restart;
  await sample('end');
  const settled = await settle(
    stack,
    partner,
    run.accepted.map(([id]) => id),
  );
  const procs = s.stop();
  await sample('settled');
  await stack.stopChildren();
  const lag = lagOf(run, settled);
  const pick = (label) => samples.find((x) => x.label === label);
  const result = {
    seconds: opts.soakSeconds,
    rate: opts.soakRate,
    sent: run.sent,
    accepted: run.accepted.length,
    statuses: run.statuses,
    // Connections reset before an answer, and the posts sent again for it with their Idempotency-Key (ADR 0040).
    resets: run.resets,
    retried: run.retried,
    partnerRequests: settled.requests,
    partnerFailures: settled.failedAnswers,
    lost: settled.lost,
    byStatus: settled.byStatus,
    lagP50: lag.p50,
    lagP99: lag.p99,
    lagMax: lag.max,
    redisMemoryMB: {
      start: pick('start').redisUsedMemoryMB,
      middle: pick('middle')?.redisUsedMemoryMB,
      end: pick('end').redisUsedMemoryMB,
      settled: pick('settled').redisUsedMemoryMB,
    },
    samples,
    processes: procs,
  };
  log(
    `soak: ${run.accepted.length} accepted, lost ${settled.lost}, Redis used_memory ` +
      `${result.redisMemoryMB.start} → ${result.redisMemoryMB.middle} → ${result.redisMemoryMB.end} MB`,
  );
  return result;
}

module.exports = {
  ingestThroughput,
  endToEnd,
  isolation,
  concurrencySweep,
  soak,
  sleep,
  sampler,
  settle,
  trackPostgres,
  counters,
  perLead,
};
