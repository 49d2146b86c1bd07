-- The partitioned table's primary key must hold its partition key (ADR 0035 Decision 5). Built CONCURRENTLY (reads and
-- writes go on; this file is one statement, so it runs outside a transaction block).
CREATE UNIQUE INDEX CONCURRENTLY "ledger_entries_pkey_partitioned" ON "ledger_entries" ("id", "lead_created_at");
