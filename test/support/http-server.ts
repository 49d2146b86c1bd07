import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A bare loopback HTTP server that counts connections and requests (for send() and its agents). */
export interface TestServer {
  url: string;
  port: number;
  connections: number;
  requests: number;
  close(): Promise<void>;
}

export async function serve(handler: http.RequestListener): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    state.requests++;
    handler(req, res);
  });
  server.on('connection', (socket: Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const state: TestServer = {
    url: `http://127.0.0.1:${port}/leads`,
    port,
    connections: 0,
    requests: 0,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}
