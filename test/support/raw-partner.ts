import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** How a raw answer delimits its body. */
export type Framing =
  /** A correct `Content-Length`, connection kept alive. */
  | 'length'
  /** No length: the body ends when the connection closes. */
  | 'close'
  /** A `Content-Length` shorter than the body: the rest is garbage on the connection. */
  | 'short'
  /** A `Content-Length` longer than the body, then the connection closes: the body is cut short. */
  | 'long';

export interface RawAnswer {
  status: number;
  /** Written as given, after the status line (names and values unchecked). */
  headers: [string, string][];
  body: Buffer;
  framing: Framing;
}

/**
 * A partner on loopback that answers with raw bytes — any status, any
 * headers, any body, honest framing or not — which a Node HTTP server would
 * refuse to write. It reads each request (headers, then `Content-Length`
 * bytes), counts it by its `X-Lead-Id`, and answers with `answer`.
 */
export class RawPartner {
  answer: RawAnswer = { status: 200, headers: [], body: Buffer.from('{}'), framing: 'length' };
  /** Requests received, by X-Lead-Id. */
  readonly requests = new Map<string, number>();
  url = '';
  private server!: net.Server;
  private readonly sockets = new Set<net.Socket>();

  async start(): Promise<this> {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let buffered = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (;;) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buffered.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          buffered = buffered.subarray(end + 4 + length);
          const leadId = /\r\nx-lead-id:\s*([^\r]*)/i.exec(head)?.[1] ?? '';
          this.requests.set(leadId, (this.requests.get(leadId) ?? 0) + 1);
          this.reply(socket, this.answer);
        }
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/leads`;
    return this;
  }

  private reply(socket: net.Socket, { status, headers, body, framing }: RawAnswer): void {
    const lines = [`HTTP/1.1 ${status} Whatever`, ...headers.map(([k, v]) => `${k}: ${v}`)];
    if (framing === 'length') lines.push(`Content-Length: ${body.length}`);
    if (framing === 'short') lines.push(`Content-Length: ${Math.floor(body.length / 2)}`);
    if (framing === 'long') lines.push(`Content-Length: ${body.length + 10}`);
    if (framing !== 'length') lines.push('Connection: close');
    socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]));
    if (framing !== 'length') socket.end();
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
