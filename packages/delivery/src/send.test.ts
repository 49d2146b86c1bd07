import { serve, type TestServer } from '../../../test/support/http-server.js';
import { createAgents, destroyAgents } from './agents';
import { classify } from './classify';
import { excerpt } from './answer';
import { READ_LIMIT_BYTES, send, type OutgoingRequest } from './send';

/**
 * send() against misbehaving partners on loopback: it always settles within
 * the partner's timeout, reads at most 64 KiB, follows nothing, and hands
 * classify() what it needs.
 */
describe('send() against misbehaving partners', () => {
  const agents = createAgents({ allowPrivate: true });
  const servers: TestServer[] = [];
  const start = async (handler: Parameters<typeof serve>[0]) => {
    const s = await serve(handler);
    servers.push(s);
    return s;
  };
  const request = (url: string, timeoutMs = 1000): OutgoingRequest => ({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"id":"L1"}',
    timeoutMs,
  });

  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });
  afterAll(() => destroyAgents(agents));

  it('reads at most 64 KiB of a 10 MB answer and keeps a 2 KiB excerpt', async () => {
    const huge = Buffer.alloc(10 * 1024 * 1024, 'x');
    const partner = await start((_req, res) => res.writeHead(200, { 'content-length': huge.length }).end(huge));
    const started = Date.now();
    const result = await send(request(partner.url), agents);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result).toMatchObject({ kind: 'response', status: 200 });
    if (result.kind !== 'response') throw new Error('no response');
    expect(Buffer.byteLength(result.body)).toBe(READ_LIMIT_BYTES);
    expect(Buffer.byteLength(excerpt(result.body))).toBe(2048);
    expect(classify(result).outcome).toBe('accepted');
  });

  it('stops reading an endless body at 64 KiB', async () => {
    let written = 0;
    const partner = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 'y');
      const pump = () => {
        while (!res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) break;
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    const started = Date.now();
    const result = await send(request(partner.url), agents);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(result).toMatchObject({ kind: 'response', status: 200 });
    if (result.kind !== 'response') throw new Error('no response');
    expect(Buffer.byteLength(result.body)).toBe(READ_LIMIT_BYTES);
    expect(written).toBeGreaterThanOrEqual(READ_LIMIT_BYTES); // and it never meant to stop
  });

  it('gives up on a body that trickles forever at the timeout, as a retry', async () => {
    const partner = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('.'), 20);
      res.on('close', () => clearInterval(timer));
    });
    const result = await send(request(partner.url, 300), agents);
    expect(result).toMatchObject({ kind: 'error', code: 'ETIMEDOUT' });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(result.durationMs).toBeLessThan(800);
    expect(classify(result).outcome).toBe('retry');
  });

  it('times out at timeoutMs on a partner that never answers, as a retry', async () => {
    const partner = await start(() => undefined);
    const result = await send(request(partner.url, 250), agents);
    expect(result).toMatchObject({ kind: 'error', code: 'ETIMEDOUT' });
    expect(result.durationMs).toBeGreaterThanOrEqual(240);
    expect(result.durationMs).toBeLessThan(750);
    expect(classify(result)).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('ETIMEDOUT') });
  });

  it('does not follow a redirect: the Location target receives nothing', async () => {
    const target = await start((_req, res) => res.writeHead(200).end());
    const partner = await start((_req, res) => res.writeHead(302, { location: target.url }).end());
    const result = await send(request(partner.url), agents);
    expect(result).toMatchObject({ kind: 'response', status: 302, headers: { location: target.url } });
    expect(classify(result)).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('redirect') });
    expect(partner.requests).toBe(1);
    expect(target.connections).toBe(0);
  });

  it('reports a refused connection with its error code, as a retry', async () => {
    const gone = await start(() => undefined);
    await gone.close();
    servers.splice(servers.indexOf(gone), 1);
    const result = await send(request(gone.url), agents);
    expect(result).toMatchObject({ kind: 'error', code: 'ECONNREFUSED' });
    expect(classify(result)).toMatchObject({ outcome: 'retry', reason: expect.stringMatching(/^ECONNREFUSED: /) });
  });

  it("hands a 429's Retry-After to the classification", async () => {
    const partner = await start((_req, res) => res.writeHead(429, { 'retry-after': '7' }).end('slow down'));
    const result = await send(request(partner.url), agents);
    expect(result).toMatchObject({ kind: 'response', status: 429, body: 'slow down' });
    expect(classify(result)).toEqual({ outcome: 'retry', reason: 'HTTP 429', retryAfterMs: 7000 });
  });
});
