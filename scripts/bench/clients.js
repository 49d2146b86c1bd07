// The load generators: autocannon for "as fast as it takes them" (a fixed
// number of connections, each posting the next lead of the pool as soon as
// the previous answer arrives), and a paced client for "a fixed offered rate"
// that sends each lead at its scheduled time whatever happened before
// (latency is counted from the scheduled time, so a stalled server cannot
// hide its backlog: no coordinated omission).
'use strict';
const http = require('node:http');
const autocannon = require('autocannon');

/** Wall-clock ms with sub-ms resolution, comparable across processes. */
const now = () => performance.timeOrigin + performance.now();

/** Hands out pool bodies in turn, across every caller of one run. */
function cycler(bodies) {
  let i = 0;
  return () => bodies[i++ % bodies.length];
}

/**
 * autocannon against `url`'s POST /v1/leads. With `amount`, posts that many
 * and collects the ids answered (`ids`), else runs `durationS` seconds.
 */
async function hammer({ url, apiKey, bodies, connections = 50, durationS, amount }) {
  const next = cycler(bodies);
  const ids = [];
  let firstSentAt;
  const result = await autocannon({
    url,
    connections,
    ...(amount ? { amount } : { duration: durationS }),
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/v1/leads',
        headers: { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) },
        setupRequest: (req) => {
          firstSentAt ??= now();
          return { ...req, body: next() };
        },
        ...(amount
          ? {
              onResponse: (status, body) => {
                if (status === 202) ids.push(JSON.parse(body).id);
              },
            }
          : {}),
      },
    ],
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    total: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: result.statusCodeStats,
    ids,
    firstSentAt,
  };
}

/** How many times a post whose kept-alive connection was reset is sent again (with its Idempotency-Key). */
const RESET_RETRIES = 2;

/**
 * Posts leads at `rate` per second for `durationS` seconds (each at its
 * scheduled time). Resolves when every answer is in, with each accepted lead's
 * id and scheduled send time.
 *
 * With `idempotencyKeys`, each post carries an Idempotency-Key and, like a
 * real client, is sent again with the same key when the connection it reused
 * was reset before any answer (ECONNRESET: the server closed it as the post
 * was written; ADR 0040). `resets` counts every reset, `retried` the posts
 * sent again; `statuses` has each post's last outcome.
 */
async function paced({
  url,
  apiKey,
  bodies,
  rate,
  durationS,
  maxSockets = 64,
  path = '/v1/leads',
  idempotencyKeys = false,
}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const target = new URL(path, url);
  const next = cycler(bodies);
  const total = Math.round(rate * durationS);
  const accepted = []; // [id, scheduledAt]
  const statuses = {};
  /** The answers' `status` field (accepted, bid, no_bid…), counted. */
  const outcomes = {};
  const latencies = [];
  const started = now();
  let sent = 0;
  const inFlight = [];

  const run = `bench-${process.pid}-${Math.round(now())}`;
  let resets = 0;
  let retried = 0;

  const post = (scheduledAt, n, body = next(), retries = 0) =>
    new Promise((resolve) => {
      const req = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${apiKey}`,
            ...(idempotencyKeys ? { 'idempotency-key': `${run}-${n}` } : {}),
          },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
            latencies.push(now() - scheduledAt);
            let answer;
            try {
              answer = JSON.parse(Buffer.concat(chunks).toString());
            } catch {
              answer = {};
            }
            if (typeof answer.status === 'string') outcomes[answer.status] = (outcomes[answer.status] ?? 0) + 1;
            if (res.statusCode === 202) accepted.push([answer.id, scheduledAt]);
            resolve();
          });
        },
      );
      req.on('error', (err) => {
        if (err.code === 'ECONNRESET') resets++;
        if (idempotencyKeys && err.code === 'ECONNRESET' && req.reusedSocket && retries < RESET_RETRIES) {
          retried++;
          return resolve(post(scheduledAt, n, body, retries + 1));
        }
        statuses[err.code ?? 'error'] = (statuses[err.code ?? 'error'] ?? 0) + 1;
        resolve();
      });
      req.end(body);
    });

  await new Promise((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((now() - started) / 1000) * rate) + 1);
      while (sent < due) {
        const n = sent++;
        inFlight.push(post(started + (n * 1000) / rate, n));
      }
      if (sent >= total) return resolve();
      setTimeout(tick, 2);
    };
    tick();
  });
  await Promise.all(inFlight);
  agent.destroy();
  return { sent, accepted, statuses, outcomes, resets, retried, answerLatency: percentiles(latencies) };
}

/** p50/p99/max of a list of numbers (ms), rounded to 0.1 ms. */
function percentiles(values) {
  if (values.length === 0) return { p50: null, p99: null, max: null, count: 0 };
  const sorted = Float64Array.from(values).sort();
  const at = (q) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 10) / 10;
  return { p50: at(0.5), p99: at(0.99), max: Math.round(sorted[sorted.length - 1] * 10) / 10, count: values.length };
}

module.exports = { hammer, paced, percentiles, now };
