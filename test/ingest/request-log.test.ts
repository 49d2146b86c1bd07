import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import express from 'express';
import { createLogger } from '@leadrouter/config';
import { errorHandler } from '../../services/ingest/src/http/errors';
import { requestLog } from '../../services/ingest/src/http/request-log';

/**
 * The ingest's request logging (services/ingest/src/http/request-log.ts): each request's id and logger, and its
 * access line, with the ingest's error middleware. At `warn` (production's level) no child logger is made for a
 * request that logs nothing: pino-http made two per request, about 6 % of the ingest's CPU (docs/performance.md).
 */
async function serve(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const log = createLogger({ name: 'ingest', level, pretty: false }, sink);
  const children = jest.spyOn(log, 'child');
  const app = express();
  app.use(requestLog(log));
  app.use(express.json());
  app.post('/ok', (_req, res) => {
    res.status(202).json({ ok: true });
  });
  app.get('/boom', () => {
    throw new Error('boom');
  });
  app.use(errorHandler);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = (headers: Record<string, string> = {}) =>
    fetch(`${url}/ok`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer s3cret-key', ...headers },
      body: JSON.stringify({ phone: '+14155550163' }),
    });
  return { lines, children, url, post, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Waits for the lines a finished answer writes (its 'close' comes after the client has the answer). */
async function settled(lines: unknown[], count: number) {
  for (let i = 0; i < 100 && lines.length < count; i++) await new Promise((resolve) => setImmediate(resolve));
  return lines;
}

describe.each(['warn', 'info'])('request logging at %s', (level) => {
  let app: Awaited<ReturnType<typeof serve>>;
  beforeEach(async () => {
    app = await serve(level);
  });
  afterEach(() => app.close());

  it('echoes a valid X-Request-Id, makes one otherwise', async () => {
    expect((await app.post({ 'x-request-id': 'abc-1.2_3' })).headers.get('x-request-id')).toBe('abc-1.2_3');
    const invalid: Record<string, string>[] = [
      {},
      { 'x-request-id': 'not valid!' },
      { 'x-request-id': 'x'.repeat(101) },
    ];
    for (const given of invalid) {
      expect((await app.post(given)).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('logs an unhandled error with the request id, and its 5xx answer', async () => {
    const res = await fetch(`${app.url}/boom`, { headers: { 'x-request-id': 'boom-1' } });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-request-id')).toBe('boom-1');
    expect(await settled(app.lines, 2)).toEqual([
      expect.objectContaining({ level: 50, reqId: 'boom-1', msg: 'unhandled error', err: expect.anything() }),
      expect.objectContaining({
        level: 50,
        reqId: 'boom-1',
        req: { id: 'boom-1', method: 'GET', url: '/boom' },
        res: { statusCode: 500 },
        responseTime: expect.any(Number),
        msg: 'GET /boom 500 failed',
      }),
    ]);
  });

  if (level === 'warn') {
    it('makes no child logger for a request that logs nothing, and writes nothing', async () => {
      const before = app.children.mock.calls.length;
      for (let i = 0; i < 20; i++) expect((await app.post()).status).toBe(202);
      await settled(app.lines, 1);
      expect(app.children.mock.calls.length - before).toBe(0);
      expect(app.lines).toEqual([]);
    });
  } else {
    it('writes one access line per request, with its id and no body or credential', async () => {
      expect((await app.post({ 'x-request-id': 'ok-1' })).status).toBe(202);
      const [line] = await settled(app.lines, 1);
      expect(line).toEqual(
        expect.objectContaining({
          level: 30,
          reqId: 'ok-1',
          req: { id: 'ok-1', method: 'POST', url: '/ok' },
          res: { statusCode: 202 },
          msg: expect.stringMatching(/^POST \/ok 202 \d+ ms$/),
        }),
      );
      expect(JSON.stringify(app.lines)).not.toMatch(/s3cret|4155550163/);
    });
  }
});
