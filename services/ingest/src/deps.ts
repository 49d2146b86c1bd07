import type { IngestConfig, Logger } from '@leadrouter/config';
import type { Db } from '@leadrouter/db';
import type { Queues } from '@leadrouter/queue';

/** What the ingest app needs, built once in main.ts (or by a test). */
export interface IngestDeps {
  config: IngestConfig;
  db: Db;
  queues: Queues;
  log: Logger;
}
