import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { ADMIN_TOKEN, sampleLead, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * Preloaded into the ingest process: records every WebAssembly compilation
 * (with its stack) in the file named by WASM_PROBE_LOG, synchronously, so the
 * record is on disk before the request that caused it is answered. Prisma 7
 * compiles its query compiler (`new WebAssembly.Module`) on a process's first
 * Prisma query and keeps it, about 75 MB of RSS (ADR 0009).
 */
const PROBE = `'use strict';
const fs = require('node:fs');
const log = process.env.WASM_PROBE_LOG;
const record = (how, source) => {
  const bytes = source && typeof source.byteLength === 'number' ? source.byteLength : null;
  fs.appendFileSync(log, JSON.stringify({ how, bytes, stack: new Error().stack }) + '\\n');
};
const wasm = globalThis.WebAssembly;
wasm.Module = new Proxy(wasm.Module, {
  construct(target, args, newTarget) {
    record('new WebAssembly.Module', args[0]);
    return Reflect.construct(target, args, newTarget);
  },
});
for (const name of ['compile', 'instantiate', 'compileStreaming', 'instantiateStreaming']) {
  const original = wasm[name];
  if (typeof original !== 'function') continue;
  wasm[name] = function (source, ...rest) {
    if (!(source instanceof wasm.Module)) record('WebAssembly.' + name, source);
    return original.call(this, source, ...rest);
  };
}
// got (the HTTP client of deliveries, with http2-wrapper and the rest) is loaded by the first partner test only.
const Module = require('node:module');
const load = Module._load;
Module._load = function (request) {
  if (request === 'got') record('load got', null);
  return load.apply(this, arguments);
};
`;

interface Compilation {
  how: string;
  bytes: number | null;
  stack: string;
}

const isPrisma = (c: Compilation) => /prisma/i.test(c.stack) || (c.bytes ?? 0) > 1_000_000;

/**
 * ADR 0009 addendum: an ingest that only serves sources (posting leads and
 * reading them back) runs no Prisma query, so it never loads Prisma's query
 * compiler, nor got, the HTTP client of deliveries (loaded by the first
 * partner test). A real ingest process, watched by a probe on WebAssembly and
 * on module loads; the admin API at the end (Prisma, a partner test) shows
 * that the probe sees each when it is loaded.
 */
describe('an ingest serving the lead API only', () => {
  const stack = new TestStack();
  const dir = mkdtempSync(path.join(tmpdir(), 'leadrouter-wasm-probe-'));
  const probe = path.join(dir, 'probe.cjs');
  const log = path.join(dir, 'compilations.jsonl');
  let ingest: ServiceProcess;
  const partners: FakePartner[] = [];

  const compilations = (): Compilation[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Compilation)
      : [];

  beforeAll(async () => {
    writeFileSync(probe, PROBE);
    await stack.start(); // its worker routes what the ingest process accepts (same database and queue prefix)
    ingest = await new ServiceProcess('ingest', {
      ...stack.env(),
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${probe}`.trim(),
      WASM_PROBE_LOG: log,
    }).start();
  }, 60_000);
  afterAll(async () => {
    await ingest?.stop('SIGKILL');
    await Promise.all(partners.map((p) => p.stop()));
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: string, url: string, key: string, body?: unknown) => {
    const res = await fetch(`${ingest.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it("posts, reads back and routes leads without compiling Prisma's query compiler or loading got", async () => {
    // Set up through the test process's own ingest: the admin API uses Prisma there, not in `ingest`.
    const rejecting = await new FakePartner(() => ({ status: 400, body: { accepted: false } })).start();
    const accepting = await new FakePartner().start();
    partners.push(rejecting, accepting);
    const first = await stack.createPartner({ url: rejecting.url });
    const second = await stack.createPartner({ url: accepting.url });
    await stack.createRoute({ partners: [{ partnerId: first.id }, { partnerId: second.id }] });
    const source = await stack.createSource({ duplicateWindowHours: 1 });
    const other = await stack.createSource();

    const posted = await call('POST', '/v1/leads', source.apiKey, sampleLead({ phone: '+1 415 555 0710' }));
    expect(posted.status).toBe(202);
    const id = posted.body.id as string;
    const batch = await call('POST', '/v1/leads/batch', source.apiKey, {
      leads: [sampleLead({ phone: '+1 415 555 0711', email: 'b@example.com' }), { name: 'no phone' }],
    });
    expect(batch.status).toBe(207);
    expect((await call('POST', '/v1/leads', source.apiKey, sampleLead({ phone: '+1 415 555 0710' }))).status).toBe(409);
    expect((await call('POST', '/v1/leads', source.apiKey, { name: '' })).status).toBe(422);

    const view = await waitFor(
      async () => {
        const res = await call('GET', `/v1/leads/${id}`, source.apiKey);
        return res.status === 200 && res.body.status === 'delivered' ? res.body : undefined;
      },
      { what: `lead ${id} delivered, read through GET /v1/leads/:id` },
    );
    expect(view.lead.phone).toBe('+1415*****10');
    const full = (await call('GET', `/v1/leads/${id}`, ADMIN_TOKEN)).body;
    expect(full.lead.phone).toBe('+14155550710');
    expect(full.routing.partners.map((p: { decision: string }) => p.decision)).toEqual(['rejected', 'accepted']);
    expect(full.deliveries).toHaveLength(2);
    expect(full.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ partner: first.name, outcome: 'rejected', httpStatus: 400 }),
        expect.objectContaining({ partner: second.name, outcome: 'accepted', httpStatus: 200 }),
      ]),
    );
    expect((await call('GET', `/v1/leads/${id}`, other.apiKey)).status).toBe(404);
    expect((await call('GET', '/v1/leads/00000000-0000-0000-0000-000000000000', source.apiKey)).status).toBe(404);
    expect((await call('GET', '/v1/leads/------------------------------------', source.apiKey)).status).toBe(404);
    expect((await call('GET', '/v1/leads/nope', source.apiKey)).status).toBe(404);
    expect((await fetch(`${ingest.url}/readyz`)).status).toBe(200);

    // Other modules compile small WebAssembly of their own (tsx's lexer here, undici's HTTP parser): only Prisma's
    // counts, found by its stack or by its size (the query compiler is megabytes; the others tens of kilobytes).
    expect(compilations().filter(isPrisma)).toEqual([]);
    expect(compilations().filter((c) => c.how === 'load got')).toEqual([]);

    // The probe's control: the admin API runs Prisma queries, and the probe sees the compiler loaded.
    expect((await call('GET', '/v1/admin/sources', ADMIN_TOKEN)).status).toBe(200);
    expect(compilations().filter((c) => /prisma/i.test(c.stack) && (c.bytes ?? 0) > 1_000_000)).toHaveLength(1);
    expect((await call('POST', `/v1/admin/partners/${second.id}/test`, ADMIN_TOKEN, {})).status).toBe(200);
    expect(compilations().filter((c) => c.how === 'load got')).toHaveLength(1);
  });
});
