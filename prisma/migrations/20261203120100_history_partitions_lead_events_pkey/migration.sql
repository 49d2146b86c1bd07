-- The partitioned table's primary key must hold its partition key (ADR 0035 Decision 7). Built CONCURRENTLY (reads and
-- writes go on; this file is one statement, so it runs outside a transaction block).
CREATE UNIQUE INDEX CONCURRENTLY "lead_events_pkey_partitioned" ON "lead_events" ("id", "lead_created_at");
