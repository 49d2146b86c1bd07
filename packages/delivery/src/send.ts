import got from 'got';
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
    const finish = (r: ExchangeResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const stream = got.stream(req.url, {
      method: req.method as 'POST',
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
      followRedirect: false,
      throwHttpErrors: false,
      retry: { limit: 0 },
      timeout: { request: req.timeoutMs },
      decompress: true,
      agent: { http: agent.http, https: agent.https },
    });
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (overLimit: boolean) =>
      finish({ kind: 'response', status, headers, bytes: Buffer.concat(chunks), overLimit, durationMs: elapsed() });
    stream.on('response', (res: { statusCode: number; headers: Record<string, string | string[] | undefined> }) => {
      status = res.statusCode;
      headers = res.headers;
    });
    stream.on('data', (chunk: Buffer) => {
      if (settled) return;
      const kept = chunk.subarray(0, limitBytes - size);
      chunks.push(kept);
      size += kept.length;
      if (size >= limitBytes) {
        done(kept.length < chunk.length);
        stream.destroy();
      }
    });
    stream.on('end', () => done(false));
    stream.on('error', (err: Error & { code?: string }) => {
      if (status !== 0 && settled === false && err.code !== 'ETIMEDOUT') return done(false);
      finish({ kind: 'error', code: err.code ?? 'ERROR', message: err.message.slice(0, 500), durationMs: elapsed() });
    });
  });
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
