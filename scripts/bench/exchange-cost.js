#!/usr/bin/env node
// What one request to a partner costs the worker in CPU: `send` (packages/delivery, got) against a bare node:http
// request through the same guarded keep-alive agents, to a loopback partner in a process of its own (so the
// partner's CPU is not counted), 16 requests in flight. Figures for docs/performance.md (ADR 0039).
//
//   npm run build && node scripts/bench/exchange-cost.js [requests per round, default 10000] [rounds, default 3]
'use strict';
const http = require('node:http');
const path = require('node:path');
const { fork } = require('node:child_process');

const ROOT = path.resolve(__dirname, '../..');

if (process.argv[2] === '--partner') {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"accepted","price":"1.50"}');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
} else {
  void main();
}

/** The reference: one exchange on node:http, the body read whole; no timeout, limit or decoding (got's part). */
function bare(req, agents) {
  return new Promise((resolve) => {
    const url = new URL(req.url);
    const r = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: req.method,
        headers: { ...req.headers, 'content-length': Buffer.byteLength(req.body) },
        agent: agents.http,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ kind: 'response', status: res.statusCode }));
      },
    );
    r.on('error', (err) => resolve({ kind: 'error', code: err.code }));
    r.end(req.body);
  });
}

async function main() {
  const perRound = Number(process.argv[2] ?? 10_000);
  const rounds = Number(process.argv[3] ?? 3);
  const { send } = require(path.join(ROOT, 'packages/delivery/dist/send.js'));
  const { createAgents } = require(path.join(ROOT, 'packages/delivery/dist/agents.js'));
  const partner = fork(__filename, ['--partner']);
  const port = await new Promise((resolve) => partner.once('message', resolve));
  const agents = createAgents({ allowPrivate: true });
  const req = {
    url: `http://127.0.0.1:${port}/leads`,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'bench' },
    body: JSON.stringify({ id: 'bench', geo: 'US', fields: { vertical: 'solar', zip: '94105' } }),
    timeoutMs: 5000,
  };
  const clients = { 'send (got)': (r) => send(r, agents), 'node:http': (r) => bare(r, agents) };
  const run = async (client, n) => {
    let i = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (i++ < n) {
          const r = await client(req);
          if (r.kind !== 'response' || r.status !== 200) throw new Error(`unexpected answer ${JSON.stringify(r)}`);
        }
      }),
    );
  };
  for (const client of Object.values(clients)) await run(client, 2000); // warm-up
  // Alternated, so that a change in the machine's load weighs on both alike.
  for (let round = 1; round <= rounds; round++)
    for (const [name, client] of Object.entries(clients)) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      await run(client, perRound);
      const used = process.cpuUsage(cpu);
      const seconds = (performance.now() - started) / 1000;
      const us = (used.user + used.system) / perRound;
      console.log(
        `round ${round}  ${name.padEnd(11)} ${us.toFixed(1)} µs of CPU a request, ${Math.round(perRound / seconds)} requests/s`,
      );
    }
  partner.kill();
  process.exit(0);
}
