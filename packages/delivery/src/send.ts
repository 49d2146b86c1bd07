import http from 'node:http';
import https from 'node:https';
import type { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import { createAgents, type DeliveryAgents } from './agents.js';
import type { AttemptResult } from './classify.js';

export interface OutgoingRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** What is read at most (enough for acceptWhen on any sane answer); the rest is dropped unread. */
export const READ_LIMIT_BYTES = 64 * 1024;

let strictAgents: DeliveryAgents | undefined;

/** An outgoing request without a body (a `GET`). */
export type BodilessRequest = Omit<OutgoingRequest, 'body'> & { body?: undefined };

/** What came back from one exchange, its body as bytes: at most the limit, and whether there was more. */
export type ExchangeResult =
  | {
      kind: 'response';
      status: number;
      headers: Record<string, string | string[] | undefined>;
      bytes: Buffer;
      /** The body went on past the limit: `bytes` holds its first `limit` bytes, and the rest was not read. */
      overLimit: boolean;
      durationMs: number;
    }
  | { kind: 'error'; code: string; message: string; durationMs: number };

/**
 * One HTTP exchange, never throwing: no redirects, no retries (the caller
 * schedules those), a hard timeout over the whole exchange, and a bounded read
 * so an endless body cannot hold a worker: once `limitBytes` are read, the
 * connection is dropped and the answer is what came.
 *
 * `agents` (built once per process with `createAgents`) decide which
 * addresses may be connected to; without them the strict policy applies
 * (no private destinations), so a caller that forgets them fails closed. A
 * refused destination comes back as an error with code `ERR_DESTINATION_REFUSED`.
 */
export function exchange(
  req: OutgoingRequest | BodilessRequest,
  limitBytes: number,
  agents?: DeliveryAgents,
): Promise<ExchangeResult> {
  const agent = agents ?? (strictAgents ??= createAgents({ allowPrivate: false }));
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    let request: http.ClientRequest | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (r: ExchangeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const fail = (code: string, message: string) =>
      finish({ kind: 'error', code, message: message.slice(0, 500), durationMs: elapsed() });
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return fail('ERR_INVALID_URL', `Invalid URL: ${req.url}`);
    }
    const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!client) return fail('ERR_UNSUPPORTED_PROTOCOL', `Unsupported protocol "${url.protocol}"`);
    const body = req.body !== undefined ? Buffer.from(req.body) : undefined;
    const headers: Record<string, string> = { 'accept-encoding': 'gzip, deflate, br', ...req.headers };
    if (body) headers['content-length'] = String(body.length);

    let status = 0;
    let answerHeaders: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (overLimit: boolean) =>
      finish({
        kind: 'response',
        status,
        headers: answerHeaders,
        bytes: Buffer.concat(chunks),
        overLimit,
        durationMs: elapsed(),
      });
    // One timer over the whole exchange (connect, send, answer, body): no answer in time is ETIMEDOUT.
    timer = setTimeout(() => {
      fail('ETIMEDOUT', `Timeout awaiting the answer for ${req.timeoutMs}ms`);
      request?.destroy();
    }, req.timeoutMs);
    try {
      request = client.request(url, {
        method: req.method,
        headers,
        agent: client === https ? agent.https : agent.http,
      });
    } catch (err) {
      // A header value Node refuses (ERR_INVALID_CHAR…): nothing was sent.
      return fail((err as { code?: string }).code ?? 'ERROR', (err as Error).message);
    }
    request.on('error', (err: Error & { code?: string }) => {
      // Cut after the status came: the answer is what came (as a cut body is judged by the caller).
      if (status !== 0) return done(false);
      fail(err.code ?? 'ERROR', err.message);
    });
    request.on('response', (res: http.IncomingMessage) => {
      status = res.statusCode ?? 0;
      answerHeaders = res.headers;
      const decoded = decoder(res.headers['content-encoding']);
      const stream: Readable = decoded ? res.pipe(decoded) : res;
      if (decoded) res.on('error', () => done(false));
      // The connection ended before the body did: the answer is what came.
      res.on('close', () => {
        if (!res.complete) done(false);
      });
      stream.on('data', (chunk: Buffer) => {
        if (settled) return;
        const kept = chunk.subarray(0, limitBytes - size);
        chunks.push(kept);
        size += kept.length;
        if (size >= limitBytes) {
          done(kept.length < chunk.length);
          request?.destroy();
        }
      });
      stream.on('end', () => done(false));
      stream.on('error', () => done(false));
    });
    request.end(body);
  });
}

/** A decompressing stream for the answer's `Content-Encoding` (gzip, deflate, br), or none (read as it comes). */
function decoder(encoding: string | undefined): Transform | undefined {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}

/**
 * One delivery or postback attempt (`exchange`), its answer read up to
 * READ_LIMIT_BYTES (enough for acceptWhen on any sane answer; the rest is
 * dropped unread) and decoded as UTF-8.
 */
export async function send(req: OutgoingRequest, agents?: DeliveryAgents): Promise<AttemptResult> {
  const result = await exchange(req, READ_LIMIT_BYTES, agents);
  if (result.kind === 'error') return result;
  const { bytes, overLimit: _cut, ...rest } = result;
  return { ...rest, body: bytes.toString('utf8') };
}
