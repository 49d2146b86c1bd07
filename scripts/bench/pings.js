// The ping/post phase (issue 14): pings a second with three instant buyers
// (POST /v1/pings as fast as the ingest answers them), then the answer's
// overhead above the slowest buyer (every buyer answering its ping in a fixed
// time, pings at a fixed rate), then a sample of pings posted with their
// pingId: each lead goes to the best bidder, none lost.
'use strict';
const { paced } = require('./clients');
const { postAll } = require('./feedback');
const { counters, perLead, sampler, settle } = require('./phases');

/** What the three buyers bid; the source is paid 70 % of the best one. */
const BIDS = [10, 12.5, 15];
const PERCENT = 70;
/** How long each buyer takes to answer a ping in the overhead measure. */
const BUYER_MS = 50;

/** A pool lead without its contact data: what a ping carries. */
function pingBody(body) {
  const lead = JSON.parse(body);
  delete lead.name;
  delete lead.phone;
  delete lead.email;
  return lead;
}

async function wireAuction(stack, buyers) {
  const operator = await stack.operatorIngest();
  const stamp = Date.now();
  const source = await stack.admin(operator, 'POST', '/sources', {
    name: `bench-pings-${stamp}`,
    payout: { model: 'revshare', percent: PERCENT },
  });
  const partners = [];
  for (const [i, buyer] of buyers.entries()) {
    partners.push(
      await stack.admin(operator, 'POST', '/partners', {
        name: `bench-buyer-${i + 1}-${stamp}`,
        url: `${buyer.url}/leads`,
        ping: { url: `${buyer.url}/ping`, bidPath: 'bid', referencePath: 'reference', timeoutMs: 500 },
      }),
    );
  }
  await stack.admin(operator, 'POST', '/routes', {
    name: `bench-auction-${stamp}`,
    priority: 10,
    strategy: 'auction',
    auction: { timeoutMs: 800 },
    filters: { sourceIds: [source.id] },
    partners: partners.map((p) => ({ partnerId: p.id })),
  });
  return source.apiKey;
}

async function pingRate({ stack, opts, pool, log }) {
  await stack.reset();
  const buyers = [];
  for (const [i, bid] of BIDS.entries())
    buyers.push(await stack.startHelper(`buyer ${i + 1}`, 'partner.js', { PING_BID: String(bid) }));
  const ingest = await stack.startService('ingest', { nodeArgs: opts.nodeArgs });
  const worker = await stack.startService('worker', { nodeArgs: opts.nodeArgs });
  const apiKey = await wireAuction(stack, buyers);
  const own = { ingest: () => ingest, worker: () => worker };
  const bodies = (n) => Array.from({ length: n }, (_, i) => JSON.stringify(pingBody(pool[i % pool.length])));
  const count = opts.quick ? 1_000 : 10_000;

  // Warm-up, then as fast as they are answered.
  await postAll({ url: ingest.url, path: '/v1/pings', key: apiKey, bodies: bodies(500), connections: 50 });
  let s = sampler(stack, own);
  const before = await counters(stack);
  const fast = await postAll({
    url: ingest.url,
    path: '/v1/pings',
    key: apiKey,
    bodies: bodies(count),
    connections: 50,
  });
  const fastProcs = s.stop();
  const perPing = perLead(fastProcs, before, await counters(stack), fast.requests);
  const pingsPerSecond = Math.round(fast.requests / fast.seconds);
  log(
    `pings: ${pingsPerSecond}/s (${fast.requests} in ${fast.seconds.toFixed(1)} s), answers ${JSON.stringify(fast.statusCodes)}`,
  );
  log(
    `per ping: ${perPing.cpuMs.total} ms CPU (${JSON.stringify(perPing.cpuMs)}), ${perPing.pgCommits} PostgreSQL commits, ${perPing.redisCommands} Redis commands (${JSON.stringify(perPing.redisByCommand)})`,
  );

  // The answer's overhead: every buyer takes BUYER_MS, pings at a rate well below the fast figure.
  await Promise.all(buyers.map((b) => b.ask('set', { pingDelayMs: BUYER_MS })));
  const rate = Math.max(10, Math.min(200, Math.round(pingsPerSecond / 4)));
  s = sampler(stack, own);
  const slow = await paced({
    url: ingest.url,
    apiKey,
    bodies: bodies(pool.length),
    rate,
    durationS: opts.durationS,
    path: '/v1/pings',
  });
  const slowProcs = s.stop();
  const over = (v) => (v === null ? null : Math.round((v - BUYER_MS) * 10) / 10);
  const overhead = {
    rate,
    buyerMs: BUYER_MS,
    p50: over(slow.answerLatency.p50),
    p99: over(slow.answerLatency.p99),
    outcomes: slow.outcomes,
  };
  log(`ping answer above a ${BUYER_MS} ms buyer at ${rate}/s: p50 ${overhead.p50} ms, p99 ${overhead.p99} ms`);

  // Pinged, then posted with the pingId: each lead sold to the best bidder.
  await Promise.all(buyers.map((b) => b.ask('set', { pingDelayMs: 0 })));
  await Promise.all(buyers.map((b) => b.ask('reset')));
  const posts = opts.quick ? 100 : 500;
  const sold = await pingThenPost(ingest.url, apiKey, pool.slice(0, posts));
  const winner = buyers[BIDS.indexOf(Math.max(...BIDS))];
  const t = await settle(stack, winner, sold.ids);
  const others = await Promise.all(buyers.filter((b) => b !== winner).map((b) => b.ask('stats')));
  const post = {
    pinged: posts,
    bids: sold.bids,
    expectedBid: (Math.max(...BIDS) * PERCENT) / 100,
    posted: sold.ids.length,
    toWinner: t.seen.size,
    toOthers: others.reduce((n, o) => n + o.unique, 0),
    lost: t.lost,
  };
  log(
    `ping then post: ${post.toWinner} of ${post.posted} to the best bidder, ${post.toOthers} to others, lost ${post.lost}`,
  );
  await stack.stopChildren();
  return {
    pingsPerSecond,
    perPing,
    fast: { ...fast, seconds: Math.round(fast.seconds * 10) / 10 },
    overhead,
    post,
    processes: { fast: fastProcs, overhead: slowProcs },
  };
}

/** Pings each lead (without its contact data), then posts it in full with the pingId; 8 at a time. */
async function pingThenPost(url, apiKey, leads) {
  const call = (path, body) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const ids = [];
  const bids = {};
  let next = 0;
  const lane = async () => {
    while (next < leads.length) {
      const lead = JSON.parse(leads[next++]);
      const ping = await call('/v1/pings', pingBody(JSON.stringify(lead)));
      bids[ping.body.bid ?? ping.body.status] = (bids[ping.body.bid ?? ping.body.status] ?? 0) + 1;
      if (ping.body.status !== 'bid') continue;
      const posted = await call('/v1/leads', { ...lead, pingId: ping.body.pingId });
      if (posted.status === 202 || posted.status === 200) ids.push(posted.body.id);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return { ids, bids };
}

module.exports = { pingRate };
