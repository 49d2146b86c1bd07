import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { createLogger } from '@leadrouter/config';
import { EXAMPLE_LEAD } from '@leadrouter/core';
import { createRedis, Queues } from '@leadrouter/queue';
import { createApp } from '../../services/ingest/src/app';
import { SourceRateLimits } from '../../services/ingest/src/http/rate-limit';
import {
  buildOpenApiDocument,
  HTTP_METHODS,
  type JsonSchema,
  type OpenApiDocument,
  type Operation,
} from '../../services/ingest/src/openapi/document';

import { FakePartner } from '../support/partner';
import { ADMIN_TOKEN, TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * The OpenAPI document against the code: Redocly's linter, the routes the
 * Express app registers, and real answers validated against the documented
 * response schemas (which are closed, so an undocumented field fails).
 */

const ROOT = path.resolve(__dirname, '../..');
const DOC_ID = 'https://leadrouter.test/openapi.json';
/**
 * Applications mounted whole, documented by their entry point only: Bull Board
 * serves its own pages and API below it.
 */
const MOUNTED_APPS = ['/admin/queues', '/console'];
/** Operations with nothing a client can get wrong: no 4xx to document (see redocly.yaml). */
const NO_CLIENT_ERRORS = ['GET /healthz', 'GET /readyz', 'GET /openapi.json', 'GET /docs', 'GET /console'];

type Res = Awaited<ReturnType<TestStack['request']>>;

const stack = new TestStack();
const doc: OpenApiDocument = buildOpenApiDocument();
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema({ ...doc, $id: DOC_ID });

/** Every documented operation, as "METHOD /path/{param}". */
const documented = Object.entries(doc.paths).flatMap(([p, item]) =>
  HTTP_METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${p}`),
);
const operation = (key: string): Operation => {
  const [method, p] = key.split(' ') as [string, string];
  const op = doc.paths[p]?.[method.toLowerCase() as (typeof HTTP_METHODS)[number]];
  if (!op) throw new Error(`${key} is not documented`);
  return op;
};

/** A documented path with its parameters filled in. */
const concrete = (p: string) =>
  p.replace('{id}', '00000000-0000-4000-8000-000000000000').replace('{file}', 'reference.js');

const pointer = (...segments: string[]) =>
  '#/' + segments.map((s) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

const validators = new Map<string, ValidateFunction>();
function validatorAt(ptr: string): ValidateFunction {
  let v = validators.get(ptr);
  if (!v) {
    v = ajv.compile({ $ref: DOC_ID + ptr });
    validators.set(ptr, v);
  }
  return v;
}

/** Each documented answer validated against a real one: "METHOD /path status". */
const exercised = new Set<string>();

/**
 * Checks a real answer against the document: its status is documented for
 * the operation, its required headers are there, its content type is one the
 * document names, and a JSON body validates against the documented schema.
 */
function expectDocumented(res: Res, key: string): void {
  const op = operation(key);
  const status = String(res.status);
  const documentedResponse = op.responses[status];
  if (!documentedResponse) {
    throw new Error(
      `${key} answered ${status}, which is not documented (documented: ${Object.keys(op.responses).join(', ')}): ${JSON.stringify(res.body)}`,
    );
  }
  const [method, p] = key.split(' ') as [string, string];
  let base = pointer('paths', p, method.toLowerCase(), 'responses', status);
  let response = documentedResponse;
  if (typeof response.$ref === 'string') {
    const name = response.$ref.replace('#/components/responses/', '');
    base = pointer('components', 'responses', name);
    response = (doc.components as { responses: Record<string, JsonSchema> }).responses[name]!;
  }
  const headers = (doc.components as { headers: Record<string, JsonSchema> }).headers;
  for (const [name, header] of Object.entries((response.headers ?? {}) as Record<string, JsonSchema>)) {
    const resolved =
      typeof header.$ref === 'string' ? headers[header.$ref.replace('#/components/headers/', '')]! : header;
    if (resolved.required) expect({ [name]: res.headers.get(name) }).toEqual({ [name]: expect.any(String) });
  }
  const content = response.content as Record<string, unknown> | undefined;
  if (!content) {
    expect(res.body).toBeUndefined();
  } else {
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    expect(Object.keys(content)).toContain(type);
    if (type === 'application/json') {
      const validate = validatorAt(`${base}/content/${encodeURIComponent('application~1json')}/schema`);
      if (!validate(res.body)) {
        throw new Error(
          `${key} ${status}: the body does not match the documented schema:\n${ajv.errorsText(validate.errors, { separator: '\n' })}\nbody: ${JSON.stringify(res.body, null, 2)}`,
        );
      }
    }
  }
  exercised.add(`${key} ${status}`);
}

/** A request, checked against the document; answers the response. */
async function call(
  key: string,
  opts: { path?: string; body?: unknown; rawBody?: string; key?: string; headers?: Record<string, string> } = {},
): Promise<Res> {
  const [method, p] = key.split(' ') as [string, string];
  const { path: actual, ...rest } = opts;
  const res = await stack.request(method, actual ?? p, rest);
  expectDocumented(res, key);
  return res;
}
/** The documented example body of an operation. */
const example = (key: string) =>
  (operation(key).requestBody as { content: Record<string, { example: Record<string, unknown> }> }).content[
    'application/json'
  ]!.example;
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
let phones = 100;
/** A valid US number not used before in this file (duplicate checks look at every source). */
const nextPhone = () => `+1 415 555 0${++phones}`;

beforeAll(() => stack.start());
afterAll(() => stack.stop());

describe('the OpenAPI document', () => {
  it('is served as /openapi.json, as built, with the product version', async () => {
    const res = await call('GET /openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(doc)));
    expect(res.body.openapi).toBe('3.1.0');
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(res.body.info.version).toBe(pkg.version);
  });

  it('passes Redocly’s linter (recommended rules, redocly.yaml) with no error or warning', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'leadrouter-openapi-'));
    try {
      const file = path.join(dir, 'openapi.json');
      await writeFile(file, JSON.stringify((await stack.request('GET', '/openapi.json')).body, null, 2));
      const cli = path.join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');
      const { stdout, code } = await new Promise<{ stdout: string; code: number }>((resolve) => {
        execFile(
          process.execPath,
          [cli, 'lint', file, '--config', path.join(ROOT, 'redocly.yaml'), '--format=json'],
          {
            cwd: dir,
            timeout: 60_000,
            maxBuffer: 16 * 1024 * 1024,
            env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', CI: 'true' },
          },
          (err, out) => resolve({ stdout: out, code: err ? Number(err.code ?? 1) : 0 }),
        );
      });
      const report = JSON.parse(stdout) as {
        totals: { errors: number; warnings: number };
        problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
      };
      const problems = report.problems.map(
        (p) => `${p.severity} ${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`,
      );
      expect(problems).toEqual([]);
      expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('documents a 4xx answer for every operation that takes input', () => {
    const without = documented.filter((key) => !Object.keys(operation(key).responses).some((s) => /^4/.test(s)));
    expect(without.sort()).toEqual([...NO_CLIENT_ERRORS].sort());
  });
});

describe('routes: the document and the Express app agree', () => {
  interface Layer {
    name: string;
    path?: string;
    route?: { path: unknown; methods: Record<string, boolean> };
    handle: { stack?: Layer[] };
    /** router 2.2+ answers the match; earlier versions set `path` on the layer. */
    match(path: string): false | true | { path: string };
  }

  /**
   * The routes registered in the router stack, as "METHOD /path/{param}".
   * A mounted router's path is not kept by Express 5, so it is found by
   * matching the documented paths: a router that matches none of them is
   * reported (it would serve routes the document does not know).
   */
  function registered(layers: Layer[], prefix: string, probes: string[], problems: string[]): string[] {
    return layers.flatMap((layer) => {
      if (layer.route) {
        if (typeof layer.route.path !== 'string') {
          problems.push(`a route with a non-string path under ${prefix || '/'}`);
          return [];
        }
        const full = (prefix + layer.route.path).replace(/\/+$/, '').replace(/:(\w+)/g, '{$1}') || '/';
        return Object.keys(layer.route.methods).map((m) => `${m === '_all' ? 'ALL' : m.toUpperCase()} ${full}`);
      }
      if (!Array.isArray(layer.handle.stack)) return [];
      const mounts = new Set<string>();
      for (const probe of probes.filter((p) => p.startsWith(prefix))) {
        const m = layer.match(probe.slice(prefix.length) || '/');
        if (m) mounts.add(typeof m === 'object' ? m.path : (layer.path ?? ''));
      }
      if (mounts.size === 0) problems.push(`router "${layer.name}" under ${prefix || '/'} serves no documented path`);
      return [...mounts].flatMap((mount) =>
        MOUNTED_APPS.includes(prefix + mount)
          ? [`GET ${prefix + mount}`]
          : registered(layer.handle.stack!, prefix + mount, probes, problems),
      );
    });
  }

  it('every route the app registers is documented, and every documented operation is registered', async () => {
    // An app of its own (never listening), so matching probes cannot disturb the one under test.
    const redis = createRedis({ url: stack.env().REDIS_URL!, role: 'producer' });
    redis.on('error', () => undefined);
    const queues = new Queues(redis, stack.prefix);
    try {
      const app = createApp({
        config: stack.ingestConfig,
        db: stack.db,
        log: createLogger({ name: 'openapi-test', level: 'silent', pretty: false }),
        queues,
        rateLimits: new SourceRateLimits(redis, stack.prefix),
      });
      const problems: string[] = [];
      const probes = Object.keys(doc.paths).map(concrete);
      const routes = registered((app as unknown as { router: { stack: Layer[] } }).router.stack, '', probes, problems);
      expect(problems).toEqual([]);
      expect([...new Set(routes)].sort()).toEqual([...documented].sort());
    } finally {
      await queues.close();
      redis.disconnect();
    }
  });

  it('the app answers every documented operation (none is its "no such endpoint" 404)', async () => {
    for (const key of documented) {
      const [method, p] = key.split(' ') as [string, string];
      // With the admin token: under /v1/admin an unknown path is a 401 without it.
      const res = await stack.request(method, concrete(p), { key: ADMIN_TOKEN });
      expect({ key, message: res.body?.message }).not.toEqual({
        key,
        message: expect.stringMatching(/^no such endpoint/),
      });
    }
    // ... and that 404 is what an undocumented path gets.
    const missing = await stack.request('GET', '/v1/admin/nothing-here', { key: ADMIN_TOKEN });
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/^no such endpoint/);
  });
});

describe('real answers match the documented responses', () => {
  const partner = new FakePartner();
  let source: { id: string; apiKey: string };
  let partnerId: string;

  beforeAll(async () => {
    await partner.start();
    const created = await call('POST /v1/admin/sources', {
      key: ADMIN_TOKEN,
      body: {
        name: unique('openapi-source'),
        postbackUrl: 'https://affiliate.example/postback',
        duplicateWindowHours: 1,
      },
    });
    expect(created.status).toBe(201);
    source = created.body;
  });
  afterAll(() => partner.stop());

  it('sources: create, list, read, update, rotate the key, delete, and their errors', async () => {
    const admin = { key: ADMIN_TOKEN };
    const other = await call('POST /v1/admin/sources', { ...admin, body: { name: unique('openapi-source') } });
    expect(other.status).toBe(201);

    const page = await call('GET /v1/admin/sources', { ...admin, path: '/v1/admin/sources?limit=1' });
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const next = await call('GET /v1/admin/sources', {
      ...admin,
      path: `/v1/admin/sources?limit=1&cursor=${page.body.nextCursor}`,
    });
    expect(next.status).toBe(200);
    expect((await call('GET /v1/admin/sources', { ...admin, path: '/v1/admin/sources?limit=0' })).status).toBe(422);

    const one = `/v1/admin/sources/${other.body.id}`;
    const read = await call('GET /v1/admin/sources/{id}', { ...admin, path: one });
    expect(read.status).toBe(200);
    // The response schemas are closed: a field the view adds, or drops, without the document fails.
    const sourceSchema = validatorAt(pointer('components', 'schemas', 'Source'));
    expect(sourceSchema(read.body)).toBe(true);
    expect(sourceSchema({ ...read.body, apiKey: 'lr_leaked' })).toBe(false);
    const { name: _name, ...nameless } = read.body;
    expect(sourceSchema(nameless)).toBe(false);
    const patched = await call('PATCH /v1/admin/sources/{id}', {
      ...admin,
      path: one,
      body: { rateLimitPerMinute: 60 },
    });
    expect(patched.body.rateLimitPerMinute).toBe(60);
    expect((await call('PATCH /v1/admin/sources/{id}', { ...admin, path: one, body: {} })).status).toBe(422);
    const rotated = await call('POST /v1/admin/sources/{id}/rotate-key', { ...admin, path: `${one}/rotate-key` });
    expect(rotated.body.apiKey).toMatch(/^lr_/);

    const taken = await call('POST /v1/admin/sources', { ...admin, body: { name: other.body.name } });
    expect(taken.status).toBe(409);
    const invalid = await call('POST /v1/admin/sources', {
      ...admin,
      body: { postbackUrl: 'ftp://x', rateLimitPerMinute: -1, extra: true },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors.length).toBeGreaterThanOrEqual(4);
    const notJson = await call('POST /v1/admin/sources', {
      ...admin,
      rawBody: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(notJson.status).toBe(415);
    const malformed = await call('POST /v1/admin/sources', {
      ...admin,
      rawBody: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    const huge = await call('POST /v1/admin/sources', { ...admin, body: { name: 'x'.repeat(70 * 1024) } });
    expect(huge.status).toBe(413);

    expect((await call('GET /v1/admin/sources')).status).toBe(401);
    const unknown = `/v1/admin/sources/${randomUUID()}`;
    expect((await call('GET /v1/admin/sources/{id}', { ...admin, path: unknown })).status).toBe(404);
    expect((await call('DELETE /v1/admin/sources/{id}', { ...admin, path: one })).status).toBe(204);
  });

  it('partners: create, list, read, update, resume, delete, and their errors', async () => {
    const admin = { key: ADMIN_TOKEN };
    const created = await call('POST /v1/admin/partners', {
      ...admin,
      body: {
        name: unique('openapi-partner'),
        url: partner.url,
        headers: { 'x-partner-key': 'abc' },
        secret: 'whsec_0123456789abcdef0123',
        fieldMap: { first_name: 'name', phone_number: 'phone', zip: 'fields.zip' },
        acceptWhen: { path: 'accepted', equals: true },
        backoff: { delayMs: 20, maxDelayMs: 100 },
        caps: { daily: 1000 },
        price: 12.5,
      },
    });
    expect(created.status).toBe(201);
    partnerId = created.body.id;

    const spare = await call('POST /v1/admin/partners', {
      ...admin,
      body: {
        name: unique('openapi-partner'),
        url: 'https://buyer.example/leads',
        schedule: { timezone: 'America/New_York', days: { mon: ['09:00-17:00'] } },
        filters: { geo: ['US', 'CA'], fields: [{ field: 'fields.age', op: 'gte', value: 18 }] },
        active: false,
      },
    });
    expect(spare.status).toBe(201);
    expect(spare.body.status).toBe('inactive');

    expect((await call('GET /v1/admin/partners', admin)).status).toBe(200);
    const one = `/v1/admin/partners/${spare.body.id}`;
    expect((await call('GET /v1/admin/partners/{id}', { ...admin, path: one })).status).toBe(200);
    const patched = await call('PATCH /v1/admin/partners/{id}', { ...admin, path: one, body: { caps: { hourly: 5 } } });
    expect(patched.body.caps.hourly).toBe(5);
    await stack.db.partner.update({ where: { id: partnerId }, data: { pausedAt: new Date(), pauseReason: 'test' } });
    const paused = await call('GET /v1/admin/partners/{id}', { ...admin, path: `/v1/admin/partners/${partnerId}` });
    expect(paused.body.status).toBe('paused');
    const resumed = await call('POST /v1/admin/partners/{id}/resume', {
      ...admin,
      path: `/v1/admin/partners/${partnerId}/resume`,
    });
    expect(resumed.body.status).toBe('active');
    const test = `/v1/admin/partners/${partnerId}/test`;
    const tested = await call('POST /v1/admin/partners/{id}/test', { ...admin, path: test });
    expect(tested.status).toBe(200);
    const testedWith = await call('POST /v1/admin/partners/{id}/test', {
      ...admin,
      path: test,
      body: { lead: EXAMPLE_LEAD },
    });
    expect(testedWith.body.request.body).toMatchObject({ first_name: 'John', zip: '94107' });
    const badLead = await call('POST /v1/admin/partners/{id}/test', { ...admin, path: test, body: { lead: {} } });
    expect(badLead.status).toBe(422);

    expect(
      (await call('POST /v1/admin/partners', { ...admin, body: { name: spare.body.name, url: partner.url } })).status,
    ).toBe(409);
    const invalid = await call('POST /v1/admin/partners', { ...admin, body: { url: 'nope', method: 'GET' } });
    expect(invalid.status).toBe(422);
    expect(
      (
        await call('POST /v1/admin/partners/{id}/resume', {
          ...admin,
          path: `/v1/admin/partners/${randomUUID()}/resume`,
        })
      ).status,
    ).toBe(404);
    expect((await call('DELETE /v1/admin/partners/{id}', { ...admin, path: one })).status).toBe(204);
  });

  it('routes: create, list, read, update, delete, and their errors', async () => {
    const admin = { key: ADMIN_TOKEN };
    const created = await call('POST /v1/admin/routes', {
      ...admin,
      body: {
        name: unique('openapi-route'),
        priority: 10,
        filters: { geo: ['US'] },
        partners: [{ partnerId, weight: 2 }],
        strategy: 'priority',
      },
    });
    expect(created.status).toBe(201);
    const spare = await call('POST /v1/admin/routes', {
      ...admin,
      body: {
        name: unique('openapi-route'),
        priority: 0,
        strategy: 'priority',
        partners: [{ partnerId }],
        active: false,
      },
    });
    expect(spare.status).toBe(201);

    expect((await call('GET /v1/admin/routes', admin)).status).toBe(200);
    const one = `/v1/admin/routes/${spare.body.id}`;
    expect((await call('GET /v1/admin/routes/{id}', { ...admin, path: one })).status).toBe(200);
    expect(
      (await call('PATCH /v1/admin/routes/{id}', { ...admin, path: one, body: { priority: 5 } })).body.priority,
    ).toBe(5);
    const unknownPartner = await call('POST /v1/admin/routes', {
      ...admin,
      body: {
        name: unique('openapi-route'),
        priority: 0,
        strategy: 'priority',
        partners: [{ partnerId: randomUUID() }],
      },
    });
    expect(unknownPartner.status).toBe(422);
    expect(unknownPartner.body.errors).toEqual([
      { field: '/partners/0/partnerId', message: 'is not a known partner id' },
    ]);
    const taken = await call('POST /v1/admin/routes', {
      ...admin,
      body: { name: created.body.name, priority: 0, strategy: 'priority', partners: [{ partnerId }] },
    });
    expect(taken.status).toBe(409);
    expect((await call('DELETE /v1/admin/routes/{id}', { ...admin, path: one })).status).toBe(204);
    expect((await call('DELETE /v1/admin/routes/{id}', { ...admin, path: one })).status).toBe(404);
  });

  it('leads: accepted, delivered and shown (masked and unmasked), with every error answer', async () => {
    const key = source.apiKey;
    const accepted = await call('POST /v1/leads', { key, body: EXAMPLE_LEAD, headers: { 'idempotency-key': 'k-1' } });
    expect(accepted.status).toBe(202);
    const id: string = accepted.body.id;
    const replay = await call('POST /v1/leads', { key, body: EXAMPLE_LEAD, headers: { 'idempotency-key': 'k-1' } });
    expect(replay.body).toEqual(accepted.body);

    // Routed and settled (delivered, normally): its views then have events (and, for the admin, routing and deliveries).
    await waitFor(
      async () => {
        const status = await stack.leadStatus(id);
        return status && !['queued', 'routing'].includes(status);
      },
      { what: `lead ${id} to settle` },
    );
    const masked = await call('GET /v1/leads/{id}', { key, path: `/v1/leads/${id}` });
    expect(masked.body.lead.phone).toContain('*');
    expect(masked.body.events.length).toBeGreaterThan(1);
    const plain = await call('GET /v1/leads/{id}', { key: ADMIN_TOKEN, path: `/v1/leads/${id}` });
    expect(plain.body.lead.phone).toBe('+14155550100');
    expect(plain.body.routing).not.toBeNull();
    expect(plain.body.deliveries.length).toBeGreaterThan(0);
    // Each party's answer is the view documented for it.
    const view = (name: string) => validatorAt(pointer('components', 'schemas', name));
    expect([view('LeadSourceView')(masked.body), view('LeadView')(masked.body)]).toEqual([true, false]);
    expect([view('LeadSourceView')(plain.body), view('LeadView')(plain.body)]).toEqual([false, true]);
    const stranger = await stack.createSource();
    expect((await call('GET /v1/leads/{id}', { key: stranger.apiKey, path: `/v1/leads/${id}` })).status).toBe(404);
    expect((await call('GET /v1/leads/{id}', { path: `/v1/leads/${id}` })).status).toBe(401);

    const duplicate = await call('POST /v1/leads', { key, body: { ...EXAMPLE_LEAD, email: undefined } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toEqual({ status: 'duplicate', id });
    const watchful = await stack.createSource({ duplicateWindowHours: 1 });
    const othersDuplicate = await call('POST /v1/leads', { key: watchful.apiKey, body: EXAMPLE_LEAD });
    expect(othersDuplicate.body).toEqual({ status: 'duplicate' });
    const reused = await call('POST /v1/leads', {
      key,
      body: { ...EXAMPLE_LEAD, phone: nextPhone(), email: 'other@example.com' },
      headers: { 'idempotency-key': 'k-1' },
    });
    expect(reused.status).toBe(422);

    const invalid = await call('POST /v1/leads', { key, body: { phone: 'nope', geo: 'usa', extra: 1 } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors.length).toBeGreaterThanOrEqual(3);
    const json = { 'content-type': 'application/json' };
    expect((await call('POST /v1/leads', { key, rawBody: '{"name":', headers: json })).status).toBe(400);
    expect(
      (await call('POST /v1/leads', { key, rawBody: 'name=x', headers: { 'content-type': 'text/plain' } })).status,
    ).toBe(415);
    expect((await call('POST /v1/leads', { key, body: { ...EXAMPLE_LEAD, name: 'x'.repeat(70 * 1024) } })).status).toBe(
      413,
    );
    expect((await call('POST /v1/leads', { body: EXAMPLE_LEAD })).status).toBe(401);
    expect((await call('POST /v1/leads', { key: 'lr_unknown', body: EXAMPLE_LEAD })).status).toBe(401);

    const limited = await stack.createSource({ rateLimitPerMinute: 1 });
    expect(
      (await call('POST /v1/leads', { key: limited.apiKey, body: { ...EXAMPLE_LEAD, phone: nextPhone() } })).status,
    ).toBe(202);
    const over = await call('POST /v1/leads', { key: limited.apiKey, body: { ...EXAMPLE_LEAD, phone: nextPhone() } });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('batches: a result per lead in order, and the batch’s own errors', async () => {
    const key = source.apiKey;
    const batch = await call('POST /v1/leads/batch', {
      key,
      headers: { 'idempotency-key': 'batch-1' },
      body: {
        leads: [
          { ...EXAMPLE_LEAD, phone: nextPhone(), email: 'a@example.com' },
          { name: 'Jane', phone: 'not a number' },
          { ...EXAMPLE_LEAD, email: 'b@example.com' }, // same phone as the accepted lead above
        ],
      },
    });
    expect(batch.status).toBe(207);
    expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'rejected', 'duplicate']);
    expect((await call('POST /v1/leads/batch', { key, body: { leads: [] } })).status).toBe(422);
    const tooMany = Array.from({ length: 501 }, () => ({ name: 'x', phone: '+14155550100' }));
    expect((await call('POST /v1/leads/batch', { key, body: { leads: tooMany } })).status).toBe(422);
    expect((await call('POST /v1/leads/batch', { key, body: { leads: [{}], extra: 1 } })).status).toBe(422);
    const longKey = await call('POST /v1/leads/batch', {
      key,
      body: { leads: [EXAMPLE_LEAD] },
      headers: { 'idempotency-key': 'k'.repeat(197) },
    });
    expect(longKey.status).toBe(422);
    expect((await call('POST /v1/leads/batch', { body: { leads: [EXAMPLE_LEAD] } })).status).toBe(401);
  });

  it('dead letters: list, retry, discard, and their errors', async () => {
    const admin = { key: ADMIN_TOKEN };
    // A partner of its own, so no other delivery of this file is among its dead letters.
    const { id: dlPartnerId, name: partnerName } = await stack.createPartner({ url: partner.url });
    /** A dead-lettered delivery, written directly: what the worker leaves after the last failed attempt. */
    const deadLetter = async () => {
      const lead = await stack.db.lead.create({
        data: {
          sourceId: source.id,
          name: 'Dead Letter',
          phone: `+1415555${String(++phones).padStart(4, '0')}`,
          status: 'dead_lettered',
          events: { create: [{ status: 'queued' }, { status: 'dead_lettered', partnerId: dlPartnerId }] },
        },
      });
      const delivery = await stack.db.delivery.create({
        data: {
          leadId: lead.id,
          partnerId: dlPartnerId,
          status: 'dead_lettered',
          attempts: 3,
          lastError: 'HTTP 503',
          deadLetteredAt: new Date(),
        },
      });
      return delivery.id;
    };
    const [first, second, third] = [await deadLetter(), await deadLetter(), await deadLetter()];

    const byPartner = `/v1/admin/dead-letters?partner=${encodeURIComponent(partnerName)}`;
    const page = await call('GET /v1/admin/dead-letters', { ...admin, path: `${byPartner}&limit=2` });
    expect(page.body.items).toHaveLength(2);
    const rest = await call('GET /v1/admin/dead-letters', {
      ...admin,
      path: `${byPartner}&cursor=${page.body.nextCursor}`,
    });
    expect(rest.body.items.map((d: { id: string }) => d.id)).toEqual([third]);
    const bad = await call('GET /v1/admin/dead-letters', {
      ...admin,
      path: '/v1/admin/dead-letters?partner=nobody&limit=0&colour=red',
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toHaveLength(3);

    const retried = await call('POST /v1/admin/dead-letters/{id}/retry', {
      ...admin,
      path: `/v1/admin/dead-letters/${first}/retry`,
    });
    expect(retried.body.requeued).toBe(1);
    const again = await call('POST /v1/admin/dead-letters/{id}/retry', {
      ...admin,
      path: `/v1/admin/dead-letters/${first}/retry`,
    });
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe('not_dead_lettered');

    expect(
      (await call('DELETE /v1/admin/dead-letters/{id}', { ...admin, path: `/v1/admin/dead-letters/${second}` })).status,
    ).toBe(204);
    expect(
      (await call('DELETE /v1/admin/dead-letters/{id}', { ...admin, path: `/v1/admin/dead-letters/${second}` })).status,
    ).toBe(409);
    const unknown = `/v1/admin/dead-letters/${randomUUID()}`;
    expect((await call('DELETE /v1/admin/dead-letters/{id}', { ...admin, path: unknown })).status).toBe(404);
    expect((await call('POST /v1/admin/dead-letters/{id}/retry', { ...admin, path: `${unknown}/retry` })).status).toBe(
      404,
    );

    const bulk = await call('POST /v1/admin/dead-letters/retry', { ...admin, body: { partner: partnerName } });
    expect(bulk.body.requeued).toBe(1);
    expect((await call('POST /v1/admin/dead-letters/retry', { ...admin, body: { all: true } })).status).toBe(200);
    const neither = await call('POST /v1/admin/dead-letters/retry', { ...admin, body: {} });
    expect(neither.status).toBe(422);

    await deadLetter();
    const superseded = await call('GET /v1/admin/dead-letters', { ...admin, path: `${byPartner}&status=superseded` });
    expect(superseded.body.items).toEqual([]);
    const discarded = await call('POST /v1/admin/dead-letters/discard', { ...admin, body: { partner: partnerName } });
    expect(discarded.body).toEqual({ discarded: 1, skipped: { not_dead_lettered: 0 }, settling: 1 });
    const discardNeither = await call('POST /v1/admin/dead-letters/discard', { ...admin, body: { all: false } });
    expect(discardNeither.status).toBe(422);
  });

  it('lead search', async () => {
    const admin = { key: ADMIN_TOKEN };
    const found = await call('GET /v1/admin/leads', {
      ...admin,
      path: `/v1/admin/leads?source=${source.id}&status=queued,routing,delivered,unsold,unmatched,dead_lettered&limit=1`,
    });
    expect(found.body.items).toHaveLength(1);
    const next = await call('GET /v1/admin/leads', {
      ...admin,
      path: `/v1/admin/leads?since=2020-01-01T00:00:00Z&cursor=${found.body.nextCursor}`,
    });
    expect(next.status).toBe(200);
    const bad = await call('GET /v1/admin/leads', { ...admin, path: '/v1/admin/leads?status=sold&since=yesterday' });
    expect(bad.status).toBe(422);
    expect(bad.body.errors).toHaveLength(2);
  });

  it('the queues dashboard', async () => {
    expect((await call('GET /admin/queues', { key: ADMIN_TOKEN })).status).toBe(200);
    const basic = `Basic ${Buffer.from(`ops:${ADMIN_TOKEN}`).toString('base64')}`;
    expect((await call('GET /admin/queues', { headers: { authorization: basic } })).status).toBe(200);
    expect((await call('GET /admin/queues')).status).toBe(401);
  });

  it('stats, health, readiness', async () => {
    const stats = await call('GET /v1/admin/stats', { key: ADMIN_TOKEN });
    expect(stats.body.leads.received).toBeGreaterThan(0);
    expect(
      (await call('GET /v1/admin/stats', { key: ADMIN_TOKEN, path: '/v1/admin/stats?since=yesterday' })).status,
    ).toBe(422);
    expect((await call('GET /v1/admin/stats', { key: source.apiKey })).status).toBe(401);
    expect((await call('GET /healthz')).status).toBe(200);
    expect((await call('GET /readyz')).status).toBe(200);
    const metrics = await call('GET /metrics');
    expect(metrics.status).toBe(200);
    expect(String(metrics.body)).toContain('leadrouter_leads_received_total');
  });

  it('the documented request examples are accepted as they are', async () => {
    const admin = { key: ADMIN_TOKEN };
    // Names are unique, and a route names partners that exist: those two are adapted.
    const named = (key: string) => ({ ...example(key), name: unique(String(example(key).name)) });
    expect((await call('POST /v1/admin/sources', { ...admin, body: named('POST /v1/admin/sources') })).status).toBe(
      201,
    );
    expect((await call('POST /v1/admin/partners', { ...admin, body: named('POST /v1/admin/partners') })).status).toBe(
      201,
    );
    const route = { ...named('POST /v1/admin/routes'), partners: [{ partnerId }], active: false };
    expect((await call('POST /v1/admin/routes', { ...admin, body: route })).status).toBe(201);
    const fresh = await stack.createSource();
    expect((await call('POST /v1/leads', { key: fresh.apiKey, body: example('POST /v1/leads') })).status).toBe(202);
    const batch = await call('POST /v1/leads/batch', { key: fresh.apiKey, body: example('POST /v1/leads/batch') });
    expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'rejected']);
  });

  it('the reference page loads only same-origin scripts, which answer JavaScript', async () => {
    const page = await call('GET /docs');
    expect(page.status).toBe(200);
    const html: string = page.body;
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-');

    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBeGreaterThan(0);
    const sources = scripts.map(([, attrs, inline]) => {
      expect(inline!.trim()).toBe(''); // no inline script: the CSP would block it
      return /\bsrc="([^"]+)"/.exec(attrs!)?.[1];
    });
    const refs = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    for (const ref of refs) expect(ref).toMatch(/^\/(?!\/)/); // same origin: no scheme, no //host
    for (const src of sources) {
      expect(src).toMatch(/^\/docs\/assets\//);
      const asset = await call('GET /docs/assets/{file}', { path: src! });
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(String(asset.body).length).toBeGreaterThan(100);
    }
    const bundle = await stack.request('GET', '/docs/assets/swagger-ui-bundle.js');
    expect(String(bundle.body)).toContain('SwaggerUIBundle');
    const css = await call('GET /docs/assets/{file}', { path: '/docs/assets/swagger-ui.css' });
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect((await call('GET /docs/assets/{file}', { path: '/docs/assets/index.html' })).status).toBe(404);
    expect((await call('GET /docs/assets/{file}', { path: '/docs/assets/..%2Fpackage.json' })).status).toBe(404);
  });

  it('the console: sign-in, session, sign-out, and the endpoints it added', async () => {
    const admin = { key: ADMIN_TOKEN };
    expect((await call('POST /v1/admin/session', { body: { token: 'wrong' } })).status).toBe(401);
    expect((await call('POST /v1/admin/session', { body: {} })).status).toBe(422);
    const signedIn = await call('POST /v1/admin/session', { body: { token: ADMIN_TOKEN } });
    expect(signedIn.status).toBe(201);
    const cookie = signedIn.headers.getSetCookie()[0]!.split(';')[0]!;
    expect((await call('GET /v1/admin/session', { headers: { cookie } })).status).toBe(200);
    expect((await call('GET /v1/admin/session')).status).toBe(401);
    const forged = await call('POST /v1/admin/partners/{id}/pause', {
      path: `/v1/admin/partners/${partnerId}/pause`,
      headers: { cookie },
    });
    expect(forged.status).toBe(403);
    expect((await call('DELETE /v1/admin/session', { headers: { cookie } })).status).toBe(403);
    const out = await call('DELETE /v1/admin/session', {
      headers: { cookie, 'x-csrf-token': signedIn.body.csrfToken },
    });
    expect(out.status).toBe(204);

    expect((await call('GET /v1/admin/stats/timeline', admin)).status).toBe(200);
    expect(
      (await call('GET /v1/admin/stats/timeline', { ...admin, path: '/v1/admin/stats/timeline?step=day' })).status,
    ).toBe(422);
    expect((await call('GET /v1/admin/queues', admin)).status).toBe(200);
    const [lead] = (await stack.admin('GET', '/leads?limit=1')).body.items;
    expect((await call('GET /v1/admin/leads/{id}', { ...admin, path: `/v1/admin/leads/${lead.id}` })).status).toBe(200);
    expect((await call('GET /v1/admin/leads/{id}', { ...admin, path: `/v1/admin/leads/${randomUUID()}` })).status).toBe(
      404,
    );
    const health = `/v1/admin/partners/${partnerId}/health`;
    expect((await call('GET /v1/admin/partners/{id}/health', { ...admin, path: health })).status).toBe(200);
    expect((await call('GET /v1/admin/partners/{id}/health', { ...admin, path: `${health}?since=soon` })).status).toBe(
      422,
    );
    const pause = `/v1/admin/partners/${partnerId}/pause`;
    expect((await call('POST /v1/admin/partners/{id}/pause', { ...admin, path: pause })).status).toBe(200);
    expect(
      (await call('POST /v1/admin/partners/{id}/pause', { ...admin, path: pause, body: { reason: 1 } })).status,
    ).toBe(422);
    await stack.admin('POST', `/partners/${partnerId}/resume`);
    const route = example('POST /v1/admin/routes/dry-run').route as Record<string, unknown>;
    const dry = await call('POST /v1/admin/routes/dry-run', {
      ...admin,
      body: { route: { ...route, id: undefined, partners: [{ partnerId }] }, limit: 50 },
    });
    expect(dry.status).toBe(200);
    expect(dry.body.leads).toBeGreaterThan(0);
    expect((await call('POST /v1/admin/routes/dry-run', { ...admin, body: { limit: 0 } })).status).toBe(422);

    const page = await call('GET /console');
    expect(page.status).toBe(200);
  });

  it('exercised every documented success answer', () => {
    const successes = documented.flatMap((key) =>
      Object.keys(operation(key).responses)
        .filter((s) => /^2/.test(s))
        .map((s) => `${key} ${s}`),
    );
    expect(successes.filter((s) => !exercised.has(s))).toEqual([]);
  });
});
