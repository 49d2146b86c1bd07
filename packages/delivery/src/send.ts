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

/**
 * One HTTP attempt, never throwing: no redirects, no retries (the caller
 * schedules those), a hard timeout over the whole exchange, and a bounded read
 * so an endless body cannot hold a worker.
 *
 * `agents` (built once per process with `createAgents`) decide which
 * addresses may be connected to; without them the strict policy applies
 * (no private destinations), so a caller that forgets them fails closed. A
 * refused destination comes back as an error with code `ERR_DESTINATION_REFUSED`.
 */
export function send(req: OutgoingRequest, agents?: DeliveryAgents): Promise<AttemptResult> {
  const agent = agents ?? (strictAgents ??= createAgents({ allowPrivate: false }));
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: AttemptResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const stream = got.stream(req.url, {
      method: req.method as 'POST',
      headers: req.headers,
      body: req.body,
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
    const done = () =>
      finish({
        kind: 'response',
        status,
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
        durationMs: elapsed(),
      });
    stream.on('response', (res: { statusCode: number; headers: Record<string, string | string[] | undefined> }) => {
      status = res.statusCode;
      headers = res.headers;
    });
    stream.on('data', (chunk: Buffer) => {
      if (size >= READ_LIMIT_BYTES) return;
      const kept = chunk.subarray(0, READ_LIMIT_BYTES - size);
      chunks.push(kept);
      size += kept.length;
      if (size >= READ_LIMIT_BYTES) {
        done();
        stream.destroy();
      }
    });
    stream.on('end', done);
    stream.on('error', (err: Error & { code?: string }) => {
      if (status !== 0 && settled === false && err.code !== 'ETIMEDOUT') return done();
      finish({ kind: 'error', code: err.code ?? 'ERROR', message: err.message.slice(0, 500), durationMs: elapsed() });
    });
  });
}
