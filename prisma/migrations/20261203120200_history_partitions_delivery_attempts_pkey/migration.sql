-- The partitioned table's primary key must hold its partition key (ADR 0035 Decision 7). Built CONCURRENTLY (reads and
-- writes go on; this file is one statement, so it runs outside a transaction block).
CREATE UNIQUE INDEX CONCURRENTLY "delivery_attempts_pkey_partitioned" ON "delivery_attempts" ("id", "lead_created_at");
