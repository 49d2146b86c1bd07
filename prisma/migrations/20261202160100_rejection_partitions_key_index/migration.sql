-- The partitioned table's primary key must hold its partition key: (id, at). Built CONCURRENTLY (reads and
-- writes go on; this file is one statement, so it runs outside a transaction block); the next migrations
-- make it the table's primary key without a scan.
CREATE UNIQUE INDEX CONCURRENTLY "ingest_rejections_before_partitioning_pkey" ON "ingest_rejections" ("id", "at");
