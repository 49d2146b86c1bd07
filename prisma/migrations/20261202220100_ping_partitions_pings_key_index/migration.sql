-- The partitioned table's primary key must hold its partition key: (id, created_at). Built CONCURRENTLY (reads and
-- writes go on; this file is one statement, so it runs outside a transaction block).
CREATE UNIQUE INDEX CONCURRENTLY "pings_before_partitioning_pkey" ON "pings" ("id", "created_at");
