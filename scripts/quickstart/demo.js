// The quick start's demo, in development only: a source "demo" whose API key
// the banner prints, a partner "demo-partner" that is a tiny HTTP server run by
// the quick start itself, and a route "demo" sending every lead to it.
//
// Source keys are stored only as hashes, so the demo key is generated here and
// its plaintext kept in <stateDir>/demo-key: every run prints the same key,
// and a database that has a "demo" source with another key (a fresh database,
// a rotated key) gets this key's hash again. "demo" belongs to the quick start;
// real sources are created through the admin API.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { QuickstartError, say } = require('./output');

const DEMO_SOURCE = 'demo';
const DEMO_PARTNER = 'demo-partner';
const DEMO_ROUTE = 'demo';
/** The lowest priority the admin API allows: any route you add takes precedence. */
const DEMO_ROUTE_PRIORITY = -1000000;

/** Creates or repairs the demo rows, idempotently; returns the demo API key. */
async function seedDemo({ databaseUrl, stateDir, partnerUrl }) {
  // Built code: the same key hashing and Prisma client as the services.
  const { generateApiKey, generateSigningSecret, hashApiKey, apiKeyPrefix } = require('@leadrouter/core');
  const { createDb } = require('@leadrouter/db');

  const keyFile = path.join(stateDir, 'demo-key');
  let apiKey = readKey(keyFile);
  if (!apiKey) {
    apiKey = generateApiKey();
    fs.writeFileSync(keyFile, `${apiKey}\n`, { mode: 0o600 });
  }

  const db = createDb({ databaseUrl, poolMax: 1 });
  const done = [];
  try {
    const keyHash = hashApiKey(apiKey);
    const source = await db.source.findUnique({ where: { name: DEMO_SOURCE } });
    if (!source) {
      await db.source.create({
        data: {
          name: DEMO_SOURCE,
          apiKeyHash: keyHash,
          apiKeyPrefix: apiKeyPrefix(apiKey),
          postbackSecret: generateSigningSecret(),
        },
      });
      done.push(`created source "${DEMO_SOURCE}"`);
    } else if (source.apiKeyHash !== keyHash || !source.active) {
      await db.source.update({
        where: { id: source.id },
        data: { apiKeyHash: keyHash, apiKeyPrefix: apiKeyPrefix(apiKey), active: true },
      });
      done.push(`gave source "${DEMO_SOURCE}" the key in ${path.basename(keyFile)} again`);
    }

    let partner = await db.partner.findUnique({ where: { name: DEMO_PARTNER } });
    if (!partner) {
      partner = await db.partner.create({ data: { name: DEMO_PARTNER, url: partnerUrl } });
      done.push(`created partner "${DEMO_PARTNER}"`);
    } else if (partner.url !== partnerUrl) {
      // DEMO_PARTNER_PORT changed since the last run.
      await db.partner.update({ where: { id: partner.id }, data: { url: partnerUrl } });
      done.push(`pointed partner "${DEMO_PARTNER}" at ${partnerUrl}`);
    }

    // Created once; after that it is yours to change or deactivate.
    if (!(await db.route.findUnique({ where: { name: DEMO_ROUTE } }))) {
      await db.route.create({
        data: {
          name: DEMO_ROUTE,
          priority: DEMO_ROUTE_PRIORITY,
          strategy: 'priority',
          partners: { create: [{ partnerId: partner.id, position: 0 }] },
        },
      });
      done.push(`created route "${DEMO_ROUTE}" (every lead to ${DEMO_PARTNER})`);
    }
  } finally {
    await db.$disconnect();
  }
  say('leadrouter', done.length ? `demo data: ${done.join(', ')}` : 'demo data: in place');
  return apiKey;
}

/**
 * <stateDir>/env: `export` lines for the README's commands, to `source` in
 * another terminal: the demo key, the admin token when it is the development
 * default (a token of your own stays where you keep it), and the connection
 * settings the services run with, which `npx leadrouter` reads too. Mode 600,
 * like demo-key: it holds credentials.
 */
function writeEnvFile({ stateDir, apiKey, devAdminToken, connection }) {
  const file = path.join(stateDir, 'env');
  const exports = { DEMO_KEY: apiKey, ...(devAdminToken ? { ADMIN_TOKEN: devAdminToken } : {}), ...connection };
  const lines = [
    "# Written by npm start: source this file in another terminal for the README's commands.",
    ...Object.entries(exports).map(([name, value]) => `export ${name}=${shellQuote(String(value))}`),
  ];
  fs.writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}

/** A single-quoted shell word: nothing in it is expanded. */
function shellQuote(value) {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

function readKey(file) {
  try {
    const key = fs.readFileSync(file, 'utf8').trim();
    return /^lr_[\w-]{20,}$/.test(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The demo partner: answers every POST with 200 {"accepted":true} and logs one
 * line per lead: its X-Lead-Id and the names (never the values) of its fields.
 * It also stands in for a source's postback receiver: a POST to /postbacks is
 * logged with the lead id and status it carries, and whether it was signed.
 */
async function startDemoPartner({ port }) {
  const server = http.createServer((req, res) => {
    let size = 0;
    const chunks = [];
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= 64 * 1024) chunks.push(chunk);
    });
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        /* not JSON: logged without fields */
      }
      const json = body && typeof body === 'object' ? body : {};
      const leadId = req.headers['x-lead-id'] ?? 'without X-Lead-Id';
      if (new URL(req.url ?? '/', 'http://demo').pathname === '/postbacks') {
        const signed = req.headers['webhook-signature'] ? 'signed' : 'unsigned';
        say('partner', `received postback: lead ${leadId} is ${json.status ?? '?'} (${signed}) -> 200`);
        res.writeHead(200).end();
        return;
      }
      const fields = body === json ? ` (${Object.keys(json).join(', ')})` : '';
      say('partner', `received lead ${leadId}${fields} -> 200 {"accepted":true}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":true}');
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new QuickstartError(
              `port ${port} for the demo partner is in use: stop what listens there or set DEMO_PARTNER_PORT`,
            )
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/leads`,
    postbackUrl: `http://127.0.0.1:${server.address().port}/postbacks`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

module.exports = { seedDemo, startDemoPartner, writeEnvFile, DEMO_SOURCE, DEMO_PARTNER };
