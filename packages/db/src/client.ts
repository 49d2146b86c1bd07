import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.js';

export { Prisma } from './generated/prisma/client.js';
export type {
  Source,
  Partner,
  Route,
  RoutePartner,
  Lead,
  LeadEvent,
  Delivery,
  DeliveryAttempt,
} from './generated/prisma/client.js';
export { PrismaClient };

export type Db = PrismaClient;

export interface DbOptions {
  databaseUrl: string;
  /** Pool size per process; see docs/scaling.md. */
  poolMax?: number;
  /** How long a request waits for a connection before failing (ms). */
  connectionTimeoutMs?: number;
}

/**
 * One PrismaClient per process, over node-postgres. Connecting fails fast
 * (the ingest answers 503 rather than hang when PostgreSQL is away).
 */
export function createDb(opts: DbOptions): Db {
  const adapter = new PrismaPg({
    connectionString: opts.databaseUrl,
    max: opts.poolMax ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 5000,
    idleTimeoutMillis: 30000,
  });
  return new PrismaClient({ adapter });
}
