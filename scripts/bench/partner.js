// A partner's HTTP API on loopback, in its own process (forked by the
// benchmark): answers 200 {"accepted":true} after a delay drawn uniformly from
// [DELAY_MIN_MS, DELAY_MAX_MS], or 503 to a FAIL_RATE share of requests. It
// remembers when it first accepted each lead (X-Lead-Id) and answers the
// parent's questions over IPC. As a ping/post buyer (PING_BID set), it answers
// a POST to a path ending in /ping with {"bid":PING_BID,"reference":…} after
// PING_DELAY_MS (changed over IPC with `set`).
'use strict';
const http = require('node:http');

const delayMin = Number(process.env.DELAY_MIN_MS ?? 0);
const delayMax = Number(process.env.DELAY_MAX_MS ?? delayMin);
const failRate = Number(process.env.FAIL_RATE ?? 0);
const pingBid = Number(process.env.PING_BID ?? 0);
let pingDelayMs = Number(process.env.PING_DELAY_MS ?? 0);
let pings = 0;

/** Wall-clock ms with sub-ms resolution, comparable across processes. */
const now = () => performance.timeOrigin + performance.now();

let requests = 0;
let failed = 0;
let inFlight = 0;
let maxInFlight = 0;
/** lead id -> when it was first accepted */
let accepted = new Map();
/** lead id -> requests for it beyond the first (a lead sent again) */
let again = new Map();

const server = http.createServer((req, res) => {
  const at = now();
  requests++;
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  req.resume();
  req.on('end', () => {
    if (req.url.endsWith('/ping')) {
      pings++;
      const bid = () => {
        inFlight--;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ bid: pingBid, reference: `ref-${pings}` }));
      };
      if (pingDelayMs > 0) setTimeout(bid, pingDelayMs);
      else bid();
      return;
    }
    const leadId = req.headers['x-lead-id'];
    if (typeof leadId === 'string' && (accepted.has(leadId) || again.has(leadId)))
      again.set(leadId, (again.get(leadId) ?? 0) + 1);
    const fail = Math.random() < failRate;
    const answer = () => {
      inFlight--;
      if (fail) {
        failed++;
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"try again"}');
        return;
      }
      if (typeof leadId === 'string' && !accepted.has(leadId)) accepted.set(leadId, at);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":true}');
    };
    const delay = delayMin + Math.random() * (delayMax - delayMin);
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
});

process.on('message', (msg) => {
  if (msg.type === 'set') {
    pingDelayMs = msg.pingDelayMs ?? pingDelayMs;
    process.send({ type: 'set' });
  }
  if (msg.type === 'count') process.send({ type: 'count', requests, failed, unique: accepted.size });
  if (msg.type === 'stats') {
    process.send({
      type: 'stats',
      requests,
      pings,
      failed,
      maxInFlight,
      unique: accepted.size,
      accepted: [...accepted],
      again: [...again],
    });
  }
  if (msg.type === 'reset') {
    requests = pings = failed = maxInFlight = 0;
    accepted = new Map();
    again = new Map();
    process.send({ type: 'reset' });
  }
});
process.on('disconnect', () => process.exit(0));

server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
