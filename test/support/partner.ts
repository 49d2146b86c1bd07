import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: unknown;
  at: number;
}

export interface PartnerReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Answer after this many ms. */
  delayMs?: number;
}

export type Responder = (req: ReceivedRequest, index: number) => PartnerReply | Promise<PartnerReply>;

/**
 * A partner's HTTP API on loopback: records every request and answers as the
 * test scripts it (by default 200 `{"accepted":true}`).
 */
export class FakePartner {
  readonly requests: ReceivedRequest[] = [];
  private server!: http.Server;
  /** Replies waiting out their `delayMs`: cancelled by `stop()`, so no timer outlives the partner. */
  private readonly delayed = new Set<NodeJS.Timeout>();
  private stopped = false;
  url = '';

  constructor(private responder: Responder = () => ({ status: 200, body: { accepted: true } })) {}

  /** Answers the n-th request (0-based) with replies[n], and the rest with the last one. */
  static sequence(...replies: PartnerReply[]): FakePartner {
    return new FakePartner((_req, i) => replies[Math.min(i, replies.length - 1)]!);
  }

  respondWith(responder: Responder): void {
    this.responder = responder;
  }

  async start(): Promise<this> {
    this.stopped = false;
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const received: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          json,
          at: Date.now(),
        };
        const index = this.requests.push(received) - 1;
        void Promise.resolve(this.responder(received, index)).then((reply) => {
          const send = () => {
            if (res.destroyed) return;
            res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
            res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
          };
          if (this.stopped) return;
          if (!reply.delayMs) return send();
          const timer = setTimeout(() => {
            this.delayed.delete(timer);
            send();
          }, reply.delayMs);
          this.delayed.add(timer);
        });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/leads`;
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.delayed) clearTimeout(timer);
    this.delayed.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
