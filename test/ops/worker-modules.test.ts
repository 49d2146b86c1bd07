import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakePartner } from '../support/partner';
import { ServiceProcess } from '../support/process';
import { sampleLead, TestStack } from '../support/stack';

/**
 * Preloaded into the worker process: records, in the file named by MODULE_PROBE_LOG, each load of a module the
 * worker has no use for. Every module a process loads stays in its heap, and V8 lets a heap grow to about four times
 * what it keeps before collecting it, so each MB costs about 4 MB of the worker's peak RSS (docs/performance.md,
 * "The worker's peak RSS"): libphonenumber's metadata (the ingest's validation parses phone numbers, the worker
 * never does), pino-pretty (development's readable logs) and typebox (the API's schemas, ES modules only).
 * `require` (of CommonJS or, since Node 20.19, of an ES module) goes through `Module._load`; an `import` of an ES
 * module goes through the resolve hook (HOOKS), which records where it enters typebox.
 */
const WATCHED = String.raw`^(libphonenumber-js(\/.*)?|pino-pretty|(@sinclair\/)?typebox(\/.*)?)$`;
const PROBE = `'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const { pathToFileURL } = require('node:url');
const watched = new RegExp(${JSON.stringify(WATCHED)});
const load = Module._load;
Module._load = function (request) {
  if (watched.test(request)) fs.appendFileSync(process.env.MODULE_PROBE_LOG, request + '\\n');
  return load.apply(this, arguments);
};
Module.register(pathToFileURL(require('node:path').join(__dirname, 'hooks.mjs')));
`;
const HOOKS = `import fs from 'node:fs';
const watched = new RegExp(${JSON.stringify(WATCHED)});
export async function resolve(specifier, context, next) {
  if (watched.test(specifier)) fs.appendFileSync(process.env.MODULE_PROBE_LOG, 'import ' + specifier + '\\n');
  return next(specifier, context);
}
`;

describe('the worker process', () => {
  const stack = new TestStack({ worker: false });
  const dir = mkdtempSync(path.join(tmpdir(), 'leadrouter-module-probe-'));
  const probe = path.join(dir, 'probe.cjs');
  const workers: ServiceProcess[] = [];
  let partner: FakePartner;

  const start = async (log: string, env: Record<string, string> = {}) => {
    const worker = new ServiceProcess('worker', {
      ...stack.env(),
      ...env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${probe}`.trim(),
      MODULE_PROBE_LOG: log,
    });
    workers.push(worker);
    return worker.start();
  };
  /** The watched modules loaded, each once (a module imported from two places is resolved twice). */
  const loads = (log: string): string[] =>
    existsSync(log) ? [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))] : [];

  beforeAll(async () => {
    writeFileSync(probe, PROBE);
    writeFileSync(path.join(dir, 'hooks.mjs'), HOOKS);
    await stack.start();
    partner = await new FakePartner().start();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await partner?.stop();
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('routes and delivers a lead without loading libphonenumber, pino-pretty or typebox', async () => {
    const log = path.join(dir, 'worker.log');
    await start(log);
    const { id } = await stack.createPartner({ url: partner.url });
    await stack.createRoute({ partners: [{ partnerId: id }] });
    const source = await stack.createSource();
    const posted = await stack.request('POST', '/v1/leads', { key: source.apiKey, body: sampleLead() });
    expect(posted.status).toBe(202);
    expect(await stack.finalStatus(posted.body.id as string)).toBe('delivered');
    expect(partner.requests).toHaveLength(1);
    expect(loads(log)).toEqual([]);
  }, 60_000);

  it("loads pino-pretty when readable logs are asked for (the probe's control)", async () => {
    const log = path.join(dir, 'development.log');
    await start(log, { NODE_ENV: 'development' });
    expect(loads(log)).toEqual(['pino-pretty']);
  }, 60_000);

  it("sees typebox required and imported (the probe's control)", () => {
    const log = path.join(dir, 'typebox.log');
    const node = (code: string) =>
      execFileSync(process.execPath, ['--require', probe, '--eval', code], {
        cwd: path.resolve(__dirname, '../../packages/core'),
        env: { ...process.env, MODULE_PROBE_LOG: log },
      });
    node("require('typebox')");
    node("import('typebox')");
    expect(loads(log)).toEqual(['typebox', 'import typebox']);
  });
});
