import type { Server } from 'node:http';

/**
 * Keeps an idle kept-alive connection `seconds` (ADR 0040). Whoever closes an idle connection races whoever
 * reuses it: a request written just as the ingest closes is reset (the client sees ECONNRESET, not an answer).
 * Keeping connections longer than the clients and load balancers in front of the ingest makes them the side
 * that closes, which cannot race itself. Node's deadline for a request's headers stays above it (the usual
 * advice since Node 10's headers timer cut kept-alive connections), and the whole request's above both.
 */
export function keepConnections(server: Server, seconds: number): void {
  server.keepAliveTimeout = seconds * 1000;
  server.headersTimeout = server.keepAliveTimeout + 1000;
  if (server.requestTimeout > 0) server.requestTimeout = Math.max(server.requestTimeout, server.headersTimeout);
}
