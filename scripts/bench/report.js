// The benchmark's readable tables and its JSON record.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/**
 * The targets (issue 7, tightened or relaxed by issue 17 where it restates them; docs/performance.md),
 * checked against a run's figures.
 */
function targets(r) {
  const rows = [];
  const add = (what, value, target, ok) => rows.push({ what, value, target, ok });
  if (r.ingest) {
    add(
      'ingest req/s vs bare Express',
      `${r.ingest.ingest.requestsPerSecond} (${r.ingest.ingest.ratioToBare} ×)`,
      '≥ 0.5 ×',
      r.ingest.ingest.ratioToBare >= 0.5,
    );
    const same = r.ingest.identicalContacts;
    if (same) {
      const ratio = Math.round((same.requestsPerSecond / r.ingest.ingest.requestsPerSecond) * 100) / 100;
      add(
        'ingest, one phone and email for all, vs distinct',
        `${same.requestsPerSecond} (${ratio} ×)`,
        '≥ 0.9 ×',
        ratio >= 0.9,
      );
    }
    add(
      'ingest non-2xx',
      r.ingest.ingest.non2xx + r.ingest.ingest.errors,
      '0',
      r.ingest.ingest.non2xx + r.ingest.ingest.errors === 0,
    );
  }
  if (r.endToEnd) {
    const t = r.endToEnd.throughput;
    add(
      'end to end, instant partner',
      `${t.deliveredPerSecond} leads/s`,
      '≥ 2,000 leads/s',
      t.deliveredPerSecond >= 2000,
    );
    if (t.perLead)
      add(
        'CPU per delivered lead (ingest + worker + PostgreSQL + Redis)',
        `${t.perLead.cpuMs.total} ms`,
        '≤ 1 ms',
        t.perLead.cpuMs.total <= 1,
      );
    const l = r.endToEnd.lag;
    // The target is at 500 leads/s offered: a lower --lag-rate shows the path's latency below saturation, never "met".
    add(
      `lag p99 at ${l.rate} leads/s`,
      `${l.p99} ms (p50 ${l.p50})`,
      '≤ 100 ms at 500 leads/s',
      l.p99 !== null && l.p99 <= 100 && l.rate >= 500,
    );
  }
  if (r.isolation) {
    const i = r.isolation;
    add(
      'instant partner p99 while the slow one is loaded',
      `${i.instantUnderLoad.p99} ms (alone ${i.instantAlone.p99})`,
      '≤ 250 ms',
      i.instantUnderLoad.p99 <= 250,
    );
  }
  if (r.pings) {
    const p = r.pings;
    add('pings/s, three instant buyers (issue 14)', `${p.pingsPerSecond}/s`, '≥ 1,000/s', p.pingsPerSecond >= 1000);
    add(
      `ping answer above the slowest buyer (${p.overhead.buyerMs} ms), p99`,
      `${p.overhead.p99} ms (p50 ${p.overhead.p50})`,
      '≤ 30 ms',
      p.overhead.p99 !== null && p.overhead.p99 <= 30,
    );
    add(
      'pinged then posted: to the best bidder, none lost',
      `${p.post.toWinner} of ${p.post.posted}, ${p.post.toOthers} elsewhere, ${p.post.lost} lost`,
      'all, 0, 0',
      p.post.posted > 0 && p.post.toWinner === p.post.posted && p.post.toOthers === 0 && p.post.lost === 0,
    );
  }
  if (r.feedback) {
    const f = r.feedback;
    add(
      'feedback events/s, one per request (issue 17)',
      `${f.single.eventsPerSecond} (batches of ${f.batched.batchSize}: ${f.batched.eventsPerSecond})`,
      '≥ 2,000/s',
      f.single.eventsPerSecond >= 2000,
    );
    add(
      'feedback recorded exactly once (ledger lines per lead)',
      `${f.ledger.conversions} conversions, ${f.ledger.reversals} reversals of ${f.ledger.expected}`,
      'one each',
      f.ledger.conversions === f.ledger.expected && f.ledger.reversals === f.ledger.expected,
    );
  }
  if (r.reports) {
    const worst = r.reports.groupings.reduce((a, b) => (b.p99 > a.p99 ? b : a));
    add(
      `reports over a year of ${(r.reports.seeded.leads / 1e6).toFixed(1)} M leads, slowest p99`,
      `${worst.p99} ms (groupBy=${worst.groupBy})`,
      '≤ 1,000 ms',
      worst.p99 <= 1000,
    );
  }
  if (r.bigdb) {
    const { ratios } = r.bigdb;
    const slowest = (row) =>
      Math.max(row.deadLetters.p99, row.deadLettersOfPartner.p99, row.leadSearch.p99, row.leadsOfSource.p99);
    // Results of before the alternated rounds hold one `empty` and one `big`.
    const rounds = r.bigdb.rounds ?? [{ empty: r.bigdb.empty, big: r.bigdb.big }];
    const worst = (side) => rounds.map((x) => x[side]).reduce((a, b) => (slowest(a) >= slowest(b) ? a : b));
    const empty = worst('empty');
    const big = worst('big');
    add(
      `${big.label.replace(/, round \d+$/, '')}: ingest and end to end vs an empty database (issue 16)`,
      `${ratios.ingest} × / ${ratios.endToEnd} ×`,
      '≥ 0.9 × each',
      ratios.ingest >= 0.9 && ratios.endToEnd >= 0.9,
    );
    add(
      `${big.label.replace(/, round \d+$/, '')}: dead-letter and lead searches, slowest p99`,
      `${slowest(big)} ms (empty: ${slowest(empty)} ms)`,
      '≤ 100 ms',
      slowest(big) <= 100,
    );
  }
  if (r.cluster) {
    const one = (r.cluster.shards ?? []).find((x) => x.masters === 1);
    const three = (r.cluster.shards ?? []).find((x) => x.masters === 3);
    if (one && three)
      add(
        'cluster: delivered/s with 3 shards vs 1 (issue 16)',
        `${three.deliveredPerSecond} vs ${one.deliveredPerSecond}`,
        'grows',
        three.deliveredPerSecond > one.deliveredPerSecond,
      );
    const f = r.cluster.failover;
    add(
      'cluster: a master killed mid-traffic, lost / delivered twice',
      `${f.lost} / ${f.duplicates} (gap ${f.longestDeliveryGapMs} ms)`,
      '0 / 0',
      f.lost === 0 && f.duplicates === 0,
    );
  }
  const peak = peakRss(r);
  if (peak.length) {
    const worst = peak.reduce((a, b) => (b.mb > a.mb ? b : a));
    add('peak RSS per process', `${worst.mb} MB (${worst.label})`, '< 250 MB', worst.mb < 250);
  }
  const lost = lostOf(r);
  if (lost !== null) add('leads lost (202 but not delivered)', lost, '0', lost === 0);
  return rows;
}

function lostOf(r) {
  const parts = [
    r.endToEnd?.throughput.lost,
    r.endToEnd?.lag.lost,
    r.isolation?.instantAlone.lost,
    r.isolation?.instantUnderLoad.lost,
    r.isolation?.slowLost,
    ...(r.concurrency ?? []).map((x) => x.lost),
    r.soak?.lost,
    ...(r.cluster?.shards ?? []).map((x) => x.lost),
    r.cluster?.failover.lost,
  ].filter((x) => x !== undefined);
  return parts.length ? parts.reduce((a, b) => a + b, 0) : null;
}

/** Peak RSS of the leadrouter processes (ingest, worker) over every phase. */
function peakRss(r) {
  const out = [];
  const visit = (procs) => {
    for (const [label, p] of Object.entries(procs ?? {})) {
      if (label === 'ingest' || label === 'worker') out.push({ label, mb: p.peakRssMB });
    }
  };
  visit(r.ingest?.processes);
  visit(r.endToEnd?.processes.throughput);
  visit(r.endToEnd?.processes.lag);
  visit(r.isolation?.processes);
  visit(r.soak?.processes);
  return out;
}

function table(headers, rows) {
  const cells = [headers, ...rows].map((row) => row.map((c) => String(c ?? '')));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) =>
    row
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function processTable(title, procs) {
  if (!procs) return '';
  const rows = Object.entries(procs).map(([label, p]) => [
    label,
    label.startsWith('postgres') ? '—' : `${p.peakRssMB} MB`,
    `${p.avgCpuPct} %`,
  ]);
  return `\n${title}\n${table(['process', 'peak RSS', 'avg CPU (100 % = 1 core)'], rows)}\n`;
}

function print(r) {
  let out = '\n';
  if (r.ingest) {
    const { bare, ingest, identicalContacts: identical } = r.ingest;
    out += `Ingest under load (autocannon, 50 connections, ${r.options.durationS} s)\n`;
    out += table(
      ['server', 'req/s', 'ratio', 'p50 ms', 'p99 ms', 'non-2xx', 'errors'],
      [
        [
          'bare Express (express.json, 202)',
          bare.requestsPerSecond,
          '1.00',
          bare.p50,
          bare.p99,
          bare.non2xx,
          bare.errors,
        ],
        [
          'leadrouter ingest',
          ingest.requestsPerSecond,
          ingest.ratioToBare.toFixed(2),
          ingest.p50,
          ingest.p99,
          ingest.non2xx,
          ingest.errors,
        ],
        ...(identical
          ? [
              [
                'leadrouter ingest, one phone and email for all',
                identical.requestsPerSecond,
                (identical.requestsPerSecond / bare.requestsPerSecond).toFixed(2),
                identical.p50,
                identical.p99,
                identical.non2xx,
                identical.errors,
              ],
            ]
          : []),
      ],
    );
    out += `\n${processTable('Processes (ingest phase)', r.ingest.processes)}`;
  }
  if (r.endToEnd) {
    const { throughput: t, lag: l } = r.endToEnd;
    out += `\nEnd to end, instant partner\n`;
    out += table(
      ['measure', 'value'],
      [
        [
          'leads posted as fast as accepted',
          `${t.accepted} of ${t.posted} accepted (${t.ingestRequestsPerSecond} req/s)`,
        ],
        ['delivered leads/s (first post → last delivery)', `${t.deliveredPerSecond} (${t.seconds} s)`],
        [
          `received → delivered at ${l.rate} leads/s for ${l.seconds} s`,
          `p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms`,
        ],
        ['ingest answer at that rate', `p50 ${l.answer.p50} ms, p99 ${l.answer.p99} ms`],
        ['lost (202 but not delivered)', `${t.lost} + ${l.lost}`],
      ],
    );
    if (t.perLead) {
      const { cpuMs: c, pgCommits, redisCommands } = t.perLead;
      out += `\nPer delivered lead (as fast as possible; CPU from /proc, messages from pg_stat_database and Redis INFO)\n`;
      out += table(
        [
          'ingest CPU',
          'worker CPU',
          'PostgreSQL CPU',
          'Redis CPU',
          'total CPU',
          'PostgreSQL commits',
          'Redis commands',
        ],
        [
          [
            `${c.ingest} ms`,
            `${c.worker} ms`,
            `${c.postgres} ms`,
            `${c.redis} ms`,
            `${c.total} ms`,
            pgCommits,
            redisCommands,
          ],
        ],
      );
    }
    out += `\n${processTable('Processes (end to end, as fast as possible)', r.endToEnd.processes.throughput)}`;
    out += processTable(`Processes (end to end at ${l.rate} leads/s)`, r.endToEnd.processes.lag);
  }
  if (r.isolation) {
    const i = r.isolation;
    out += `\nIsolation: instant partner at ${i.instantRate} leads/s, a 50–200 ms partner offered ${i.slowOfferedRate} leads/s\n`;
    out += table(
      ['instant partner', 'lag p50 ms', 'lag p99 ms', 'lost'],
      [
        ['alone', i.instantAlone.p50, i.instantAlone.p99, i.instantAlone.lost],
        ['while the slow partner is loaded', i.instantUnderLoad.p50, i.instantUnderLoad.p99, i.instantUnderLoad.lost],
      ],
    );
    out += `\nslow partner: ${i.slowDeliveredPerSecond} delivered/s, at most ${i.slowMaxInFlight} in flight (its concurrency: ${i.slowPartnerConcurrency}), lost ${i.slowLost}\n`;
  }
  if (r.concurrency) {
    out += `\nThroughput vs WORKER_CONCURRENCY (one worker, a partner answering in 200 ms)\n`;
    out += table(
      [
        'WORKER_CONCURRENCY',
        'delivered/s',
        "Little's law: N / 0.2 s",
        'max in flight',
        'worker CPU',
        'postgres CPU',
        'lost',
      ],
      r.concurrency.map((c) => [
        c.concurrency,
        c.deliveredPerSecond,
        c.littlesLawLimit,
        c.maxInFlightAtPartner,
        `${c.workerCpuPct} %`,
        `${c.postgresCpuPct} %`,
        c.lost,
      ]),
    );
    out += '\n';
  }
  if (r.soak) {
    const s = r.soak;
    out += `\nSoak: ${s.rate} leads/s for ${s.seconds} s, partner failing 5 %, worker killed and restarted half-way\n`;
    out += table(
      ['measure', 'value'],
      [
        ['sent / accepted', `${s.sent} / ${s.accepted}`],
        ...(s.resets === undefined
          ? []
          : [['connections reset / posts sent again (same Idempotency-Key)', `${s.resets} / ${s.retried}`]]),
        ['partner requests / failures answered', `${s.partnerRequests} / ${s.partnerFailures}`],
        ['lost (202 but not delivered)', s.lost],
        ['lag p50 / p99 / max', `${s.lagP50} / ${s.lagP99} / ${s.lagMax} ms`],
        [
          'Redis used_memory start → middle → end → settled',
          `${s.redisMemoryMB.start} → ${s.redisMemoryMB.middle} → ${s.redisMemoryMB.end} → ${s.redisMemoryMB.settled} MB`,
        ],
      ],
    );
    out += `\n\n${table(
      [
        't (s)',
        'Redis used_memory MB',
        'Redis keys',
        'event streams route/deliver/postback',
        'ingest RSS MB',
        'worker RSS MB',
      ],
      s.samples.map((x) => [
        `${x.at}${x.label ? ` (${x.label})` : ''}`,
        x.redisUsedMemoryMB,
        x.keys ?? '',
        x.eventStreams ? `${x.eventStreams.route} / ${x.eventStreams.deliver} / ${x.eventStreams.postback}` : '',
        x.ingestRssMB,
        x.workerRssMB,
      ]),
    )}\n`;
    out += processTable('Processes (soak)', s.processes);
  }
  if (r.pings) {
    const p = r.pings;
    out += `\nPing/post (POST /v1/pings, three buyers bidding 10, 12.5 and 15; the source paid 70 % of the best)\n`;
    out += table(
      ['measure', 'value'],
      [
        [
          'pings answered as fast as asked (50 connections)',
          `${p.pingsPerSecond}/s (${p.fast.requests} in ${p.fast.seconds} s)`,
        ],
        ['answers by status code', JSON.stringify(p.fast.statusCodes)],
        [
          `answer above a ${p.overhead.buyerMs} ms buyer, ${p.overhead.rate} pings/s`,
          `p50 ${p.overhead.p50} ms, p99 ${p.overhead.p99} ms ${JSON.stringify(p.overhead.outcomes)}`,
        ],
        [
          'bids seen by the source when pinged then posted',
          JSON.stringify(p.post.bids) + ` (expected ${p.post.expectedBid})`,
        ],
        [
          'posted with the pingId → best bidder / others / lost',
          `${p.post.toWinner} / ${p.post.toOthers} / ${p.post.lost} of ${p.post.posted}`,
        ],
      ],
    );
    out += `\n${processTable('Processes (pings as fast as answered)', p.processes.fast)}`;
  }
  if (r.feedback) {
    const f = r.feedback;
    const codes = (c) =>
      Object.entries(c)
        .map(([code, n]) => `${code}: ${n}`)
        .join(', ');
    out += `\nPartner feedback (POST /v1/feedback) on ${f.leads} sold leads, worker running\n`;
    out += table(
      ['events', 'events/s', 'p50 ms', 'p99 ms', 'answers', 'errors'],
      [
        [
          'converted, one per request (32 connections)',
          f.single.eventsPerSecond,
          f.single.p50,
          f.single.p99,
          codes(f.single.statusCodes),
          f.single.errors,
        ],
        [
          `reversed, ${f.batched.batchSize} per request (8 connections)`,
          f.batched.eventsPerSecond,
          f.batched.p50,
          f.batched.p99,
          codes(f.batched.statusCodes),
          f.batched.errors,
        ],
      ],
    );
    if (f.perEvent) {
      const row = (name, e) => [
        name,
        e.cpuMs.total.toFixed(2),
        e.cpuMs.ingest.toFixed(2),
        e.cpuMs.postgres.toFixed(2),
        e.cpuMs.worker.toFixed(2),
        e.cpuMs.redis.toFixed(2),
        e.pgCommits.toFixed(2),
      ];
      out += `\nPer event\n${table(
        ['events', 'CPU ms', 'ingest', 'PostgreSQL', 'worker', 'Redis', 'PostgreSQL commits'],
        [row('one per request', f.perEvent.single), row(`${f.batched.batchSize} per request`, f.perEvent.batched)],
      )}`;
    }
    out += `\n${processTable('Processes (feedback, one event per request)', f.processes.single)}`;
    out += processTable('Processes (feedback in batches)', f.processes.batched);
  }
  if (r.reports) {
    const x = r.reports;
    out += `\nReports (GET /v1/admin/reports) over ${x.seeded.since.slice(0, 10)} – ${x.seeded.until.slice(0, 10)}: `;
    out += `${x.seeded.daily} daily and ${x.seeded.hourly} hourly rollup rows, ${x.seeded.deltas} deltas, `;
    out += `${x.seeded.leads} leads (seeded in ${x.seeded.seconds} s)\n`;
    out += table(
      ['groupBy', 'days', 'items', 'kB', 'p50 ms', 'p99 ms', 'calls'],
      x.groupings.map((g) => [g.groupBy, g.days, g.items, g.kB, g.p50, g.p99, g.calls]),
    );
    out += `\n${processTable('Processes (reports)', x.processes)}`;
  }
  if (r.bigdb) {
    const b = r.bigdb;
    const rounds = b.rounds ?? [{ empty: b.empty, big: b.big }];
    out += `\nThe hot paths on an empty database and on ${b.seeded.leads} seeded leads (leads ${b.seeded.sizes.leads}, `;
    out += `deliveries ${b.seeded.sizes.deliveries}; seeded in ${b.seeded.seconds} s), alternated; the partner has a `;
    out += `daily cap, the source a duplicate window\n`;
    const p = (x) => `${x.p50} / ${x.p99}`;
    out += table(
      [
        'database',
        'ingest req/s',
        'p99 ms',
        'delivered/s',
        'lost',
        'CPU ms/lead (ingest, worker, PG)',
        'WAL a lead: records, full pages, kB',
        'dead letters p50/p99',
        'of a partner',
        'leads by status',
        'leads of a source',
      ],
      rounds
        .flatMap((x) => [x.empty, x.big])
        .map((x) => [
          x.label,
          x.ingestRequestsPerSecond,
          x.ingestP99,
          x.deliveredPerSecond,
          x.lost,
          Object.values(x.cpuMsPerLead).join(', '),
          x.walPerLead
            ? `${x.walPerLead.records}, ${x.walPerLead.fullPages}, ${(x.walPerLead.bytes / 1024).toFixed(1)}`
            : '—',
          p(x.deadLetters),
          p(x.deadLettersOfPartner),
          p(x.leadSearch),
          p(x.leadsOfSource),
        ]),
    );
    // Per statement (pg_stat_statements, where the server loads it): the last round's, side by side by text.
    const last = rounds[rounds.length - 1];
    if (last.big.statements && last.empty.statements) {
      const emptyOf = new Map(last.empty.statements.map((x) => [x.query, x]));
      out += `\nHot statements of the last round, a call on the empty database → on the big one (pg_stat_statements)\n`;
      out += table(
        ['statement', 'calls', 'ms a call', 'planning ms a call ¹', 'buffers a call', 'read from disk a call'],
        last.big.statements.slice(0, 12).map((x) => {
          const e = emptyOf.get(x.query);
          const pair = (k) => `${e ? e[k] : '—'} → ${x[k]}`;
          return [
            x.query.slice(0, 60),
            x.calls,
            pair('msPerCall'),
            pair('planMsPerCall'),
            pair('blocksPerCall'),
            pair('readsPerCall'),
          ];
        }),
      );
      out += `\n¹ 0 unless the server sets pg_stat_statements.track_planning\n`;
    }
  }
  if (r.cluster) {
    const c = r.cluster;
    out += `\nOn a Redis Cluster of the bench's own (a replica per master, cluster-node-timeout ${c.nodeTimeoutMs ?? 5000} ms), instant partner\n`;
    // --only failover runs the master kill alone.
    const shards = c.shards ?? [];
    if (shards.length > 0)
      out += table(
        ['masters', 'QUEUE_PARTITIONS', 'delivered/s', 'lost', 'twice', 'Redis commands per lead, by master'],
        shards.map((x) => [
          x.masters || 'one server (REDIS_URL)',
          x.queuePartitions,
          x.deliveredPerSecond,
          x.lost,
          x.duplicates,
          `${x.commandsPerLead} (${Object.values(x.commandsPerLeadByMaster).join(' + ')})`,
        ]),
      );
    const f = c.failover;
    out += `\nFailover: ${f.rate} leads/s for ${f.seconds} s on 3 shards, the busiest master killed a third of the way in: `;
    out += `replica serving after ${f.replicaPromotedAfterMs} ms, longest gap in deliveries ${f.longestDeliveryGapMs} ms, `;
    out += `${f.accepted} accepted of ${f.sent} (answers ${JSON.stringify(f.statuses)}), lost ${f.lost}, delivered twice ${f.duplicates}\n`;
    for (const x of shards)
      out += `\n${processTable(`Processes (${x.masters ? `cluster, ${x.masters} shard(s)` : 'one redis-server'})`, x.processes)}`;
  }
  const t = targets(r);
  out += `\nTargets\n${table(
    ['measure', 'this run', 'target', ''],
    t.map((x) => [x.what, x.value, x.target, x.ok ? 'met' : 'NOT MET']),
  )}\n`;
  process.stdout.write(out);
  return t;
}

/** bench/results/<ISO date>.json (colons made dashes, for every file system). */
function write(root, r) {
  const dir = path.join(root, 'bench/results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${r.startedAt.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}

module.exports = { print, write, targets };
