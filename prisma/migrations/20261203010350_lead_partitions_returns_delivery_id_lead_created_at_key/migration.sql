-- The partitioned table's unique key must hold its partition key (ADR 0035 Decision 5). Built CONCURRENTLY (reads and
-- writes go on; this file is one statement, so it runs outside a transaction block).
CREATE UNIQUE INDEX CONCURRENTLY "returns_delivery_id_lead_created_at_key" ON "returns" ("delivery_id", "lead_created_at");
