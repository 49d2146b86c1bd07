import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { ROUTES } from '@leadrouter/api';
import { createLogger } from '@leadrouter/config';
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
import { ADMIN_TOKEN, TestStack } from '../support/stack';

/**
 * The OpenAPI document. The JSON API's operations are generated from the route table, whose schemas validate
 * the requests and type the handlers' answers (ADR 0019), so what is checked here is what generation cannot
 * promise: the document is valid (Redocly's linter), it describes every route the Express app serves and
 * nothing else, its examples are instances of their schemas (and the request examples are taken by the app),
 * and the operations still written out by hand (health, readiness, metrics, the Bull Board, the console page,
 * the reference page) answer as they say.
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
/** The operations written out in document.ts rather than generated from the route table. */
const TABLE = new Set(ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`));
const writtenOut = documented.filter((key) => !TABLE.has(key));

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

/** A response object, its `$ref` to `components.responses` followed, with the pointer to where it is. */
function resolveResponse(at: string, response: JsonSchema): { at: string; response: JsonSchema } {
  if (typeof response.$ref !== 'string') return { at, response };
  const name = response.$ref.replace('#/components/responses/', '');
  const responses = (doc.components as { responses: Record<string, JsonSchema> }).responses;
  return { at: pointer('components', 'responses', name), response: responses[name]! };
}

/** Each documented answer of a written-out operation checked against a real one: "METHOD /path status". */
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
  const { at, response } = resolveResponse(
    pointer('paths', p, method.toLowerCase(), 'responses', status),
    documentedResponse,
  );
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
      const validate = validatorAt(`${at}/content/${encodeURIComponent('application~1json')}/schema`);
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
  opts: { path?: string; body?: unknown; key?: string; headers?: Record<string, string> } = {},
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

  it('every example is an instance of its schema: bodies, answers and parameters', () => {
    const checked: string[] = [];
    const problems: string[] = [];
    /** Checks `example` and each of `examples` of a media type or parameter object at `at` against its `schema`. */
    const check = (at: string, node: JsonSchema) => {
      const values: [string, unknown][] = [
        ...(node.example !== undefined ? [['example', node.example] as [string, unknown]] : []),
        ...Object.entries((node.examples ?? {}) as Record<string, { value: unknown }>).map(
          ([name, e]) => [`examples/${name}`, e.value] as [string, unknown],
        ),
      ];
      for (const [name, value] of values) {
        const validate = validatorAt(`${at}/schema`);
        checked.push(`${at}/${name}`);
        if (!validate(value)) problems.push(`${at}/${name}: ${ajv.errorsText(validate.errors)}`);
      }
    };
    const checkContent = (at: string, content: unknown) => {
      for (const [type, media] of Object.entries((content ?? {}) as Record<string, JsonSchema>))
        check(`${at}/content/${encodeURIComponent(type.replace(/\//g, '~1'))}`, media);
    };
    const operations = [
      ...Object.entries(doc.paths).map(([p, item]) => ['paths', p, item] as const),
      ...Object.entries(doc.webhooks as Record<string, JsonSchema>).map(([w, item]) => ['webhooks', w, item] as const),
    ];
    for (const [where, name, item] of operations) {
      for (const method of HTTP_METHODS) {
        const op = (item as Record<string, Operation | undefined>)[method];
        if (!op) continue;
        const at = pointer(where, name, method);
        ((op.parameters ?? []) as JsonSchema[]).forEach((param, i) => check(`${at}/parameters/${i}`, param));
        checkContent(`${at}/requestBody`, (op.requestBody as JsonSchema | undefined)?.content);
        for (const [status, response] of Object.entries(op.responses))
          if (typeof response.$ref !== 'string') checkContent(`${at}/responses/${status}`, response.content);
      }
    }
    for (const [name, response] of Object.entries(
      (doc.components as { responses: Record<string, JsonSchema> }).responses,
    ))
      checkContent(pointer('components', 'responses', name), response.content);
    expect(problems).toEqual([]);
    // The lead API's, the admin API's and the standard answers' examples are among them.
    expect(checked).toEqual(
      expect.arrayContaining([
        `${pointer('paths', '/v1/leads', 'post')}/requestBody/content/application~1json/example`,
        `${pointer('paths', '/v1/leads/batch', 'post')}/responses/207/content/application~1json/example`,
        `${pointer('paths', '/v1/leads/{id}', 'get')}/responses/200/content/application~1json/examples/admin`,
        `${pointer('paths', '/v1/admin/partners', 'post')}/requestBody/content/application~1json/example`,
        `${pointer('components', 'responses', 'Invalid')}/content/application~1json/example`,
      ]),
    );
  });

  it('the request examples are taken by the app as they are', async () => {
    const admin = { key: ADMIN_TOKEN };
    // Names are unique, and a route names partners that exist: those two are adapted.
    const named = (key: string) => ({ ...example(key), name: `${String(example(key).name)} ${Date.now()}` });
    expect(
      (await stack.request('POST', '/v1/admin/sources', { ...admin, body: named('POST /v1/admin/sources') })).status,
    ).toBe(201);
    const partner = await stack.request('POST', '/v1/admin/partners', {
      ...admin,
      body: named('POST /v1/admin/partners'),
    });
    expect(partner.status).toBe(201);
    const route = { ...named('POST /v1/admin/routes'), partners: [{ partnerId: partner.body.id }], active: false };
    expect((await stack.request('POST', '/v1/admin/routes', { ...admin, body: route })).status).toBe(201);
    const fresh = await stack.createSource();
    const lead = await stack.request('POST', '/v1/leads', { key: fresh.apiKey, body: example('POST /v1/leads') });
    expect(lead.status).toBe(202);
    const batch = await stack.request('POST', '/v1/leads/batch', {
      key: fresh.apiKey,
      body: example('POST /v1/leads/batch'),
    });
    // The example's second lead is invalid on purpose: a batch answers each lead on its own.
    expect(batch.body.results.map((r: { status: string }) => r.status)).toEqual(['accepted', 'rejected']);
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

describe('the operations written out by hand answer as documented', () => {
  it('are those that answer no JSON API', () => {
    expect(writtenOut.sort()).toEqual(
      [
        'GET /admin/queues',
        'GET /console',
        'GET /docs',
        'GET /docs/assets/{file}',
        'GET /healthz',
        'GET /metrics',
        'GET /openapi.json',
        'GET /readyz',
      ].sort(),
    );
  });

  it('health, readiness, metrics and the queues dashboard', async () => {
    expect((await call('GET /healthz')).status).toBe(200);
    expect((await call('GET /readyz')).status).toBe(200);
    const metrics = await call('GET /metrics');
    expect(metrics.status).toBe(200);
    expect(String(metrics.body)).toContain('leadrouter_leads_received_total');
    expect((await call('GET /admin/queues', { key: ADMIN_TOKEN })).status).toBe(200);
    const basic = `Basic ${Buffer.from(`ops:${ADMIN_TOKEN}`).toString('base64')}`;
    expect((await call('GET /admin/queues', { headers: { authorization: basic } })).status).toBe(200);
    expect((await call('GET /admin/queues')).status).toBe(401);
    expect((await call('GET /console')).status).toBe(200);
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

  it('exercised every documented success answer of them', () => {
    const successes = writtenOut.flatMap((key) =>
      Object.keys(operation(key).responses)
        .filter((s) => /^2/.test(s))
        .map((s) => `${key} ${s}`),
    );
    expect(successes.filter((s) => !exercised.has(s))).toEqual([]);
  });
});
