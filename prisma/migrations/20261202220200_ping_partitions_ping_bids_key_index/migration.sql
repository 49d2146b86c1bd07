-- The partitioned table's primary key must hold its partition key: (ping_id, partner_id, created_at). Built
-- CONCURRENTLY (reads and writes go on; this file is one statement, so it runs outside a transaction block).
CREATE UNIQUE INDEX CONCURRENTLY "ping_bids_before_partitioning_pkey" ON "ping_bids" ("ping_id", "partner_id", "created_at");
