#!/usr/bin/env node
// npm run bench — the benchmark (issue 7; docs/performance.md):
//
//   npm run bench                 every phase (about 2–3 minutes)
//   npm run bench -- --quick      a smoke run, a few seconds per phase
//   npm run bench -- --soak 600   the soak alone: 600 s at a steady rate
//
// Other options: --only ingest,e2e,isolation,concurrency,feedback,pings,reports,cluster,failover,bigdb (a subset
// of the phases; failover is the cluster phase's master kill alone), --duration S (seconds per measured phase), --rate N (the soak's
// leads/s, default 50: about half of what one worker delivers on a 2-core machine), --lag-rate N (the end-to-end
// phase's paced rate for the lag, default 500: the target's; lower shows the latency below saturation), --profile (write V8 CPU profiles of ingest and worker to
// bench/profiles/; summarise one with scripts/bench/profile-summary.js).
//
// BENCH_CHILD_LOGS=<dir> keeps the whole output of every process it starts in <dir> (for a post-mortem).
//
// It builds what it needs (tsc -b), starts its own stack (a fresh
// leadrouter_bench_<ts> database, its own redis-server, the production
// processes from dist/, loopback partners), prints tables and writes
// bench/results/<ISO date>.json. Plain CommonJS, like the quick start: it runs
// before anything is built.
'use strict';
const os = require('node:os');
const path = require('node:path');
const { BenchStack, build, ROOT } = require('./bench/stack');

function parseArgs(argv) {
  const opts = { quick: false, soak: 0, only: null, profile: false, durationS: null, soakRate: 50, lagRate: 500 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--soak') opts.soak = positive(a, value());
    else if (a === '--only') opts.only = value().split(',');
    else if (a === '--duration') opts.durationS = positive(a, value());
    else if (a === '--rate') opts.soakRate = positive(a, value());
    else if (a === '--lag-rate') opts.lagRate = positive(a, value());
    else if (a === '--profile') opts.profile = true;
    else throw new Error(`unknown option ${a} (see the top of scripts/bench.js)`);
  }
  return opts;
}

function positive(name, v) {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, not ${v}`);
  return n;
}

/** Everything a phase reads, quick or full. */
function settings(args) {
  const quick = args.quick;
  const durationS = args.durationS ?? (quick ? 3 : 10);
  return {
    quick,
    durationS,
    warmupS: quick ? 1 : 3,
    e2eLeads: quick ? 1500 : 10_000,
    lagRate: args.lagRate,
    sweep: quick ? [16, 64] : [16, 64, 256],
    sweepSeconds: quick ? 2 : 5,
    bigdbLeads: quick ? 1000 : 5000,
    bigdbCalls: quick ? 5 : 30,
    soakSeconds: args.soak,
    soakRate: args.soakRate,
    nodeArgs: [],
  };
}

const log = (line) => process.stderr.write(`bench: ${line}\n`);

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const opts = settings(args);
  const startedAt = new Date().toISOString();
  build(log);

  const { normalisePhone } = require('@leadrouter/core');
  const { leadPool } = require('./bench/leads');
  const pool = leadPool(opts.quick ? 5_000 : 40_000, { normalisePhone });
  log(`${pool.length} distinct leads generated`);

  const phases = require('./bench/phases');
  const stack = new BenchStack({ log });
  if (args.profile) {
    const dir = path.join(ROOT, 'bench/profiles', startedAt.replace(/:/g, '-'));
    opts.nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    log(`CPU profiles go to ${path.relative(ROOT, dir)}`);
  }
  let stopping = false;
  const cleanUp = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop().catch((err) => log(`clean-up: ${err.message}`));
  };
  process.once('SIGINT', () => void cleanUp().then(() => process.exit(130)));

  const result = {
    startedAt,
    options: { ...opts, nodeArgs: undefined, only: args.only },
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      loadAverageAtStart: os.loadavg(),
    },
  };
  try {
    await stack.start();
    const ctx = { stack, opts, pool, log };
    // The soak and the big database (which seeds 10 million leads: about half an hour here) run only when asked.
    const onRequest = ['soak', 'bigdb'];
    const wanted = (name) =>
      args.soak ? name === 'soak' : args.only ? args.only.includes(name) : !onRequest.includes(name);
    if (wanted('ingest')) result.ingest = await phases.ingestThroughput(ctx);
    if (wanted('e2e')) result.endToEnd = await phases.endToEnd(ctx);
    const measured = result.endToEnd?.throughput.deliveredPerSecond;
    if (wanted('isolation')) result.isolation = await phases.isolation({ ...ctx, measured });
    if (wanted('concurrency')) result.concurrency = await phases.concurrencySweep(ctx);
    if (wanted('feedback')) result.feedback = await require('./bench/feedback').feedbackRate(ctx);
    if (wanted('pings')) result.pings = await require('./bench/pings').pingRate(ctx);
    if (wanted('reports')) result.reports = await require('./bench/reports').reportTimes(ctx);
    if (wanted('bigdb')) result.bigdb = await require('./bench/bigdb').bigDatabase(ctx);
    if (wanted('cluster')) result.cluster = await require('./bench/cluster').clusterPhase(ctx);
    else if (args.only?.includes('failover'))
      result.cluster = { failover: await require('./bench/cluster').failover(ctx) };
    if (wanted('soak')) result.soak = await phases.soak(ctx);
  } finally {
    await cleanUp();
  }
  // Other work on the machine skews every figure: the load average says how much there was.
  result.machine.loadAverageAtEnd = os.loadavg();
  const { print, write } = require('./bench/report');
  result.targets = print(result);
  log(`results written to ${path.relative(ROOT, write(ROOT, result))}`);
}

main().catch((err) => {
  console.error(`bench failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
