-- The partitioned table's unique key must hold its partition key (ADR 0035 Decision 5). Built CONCURRENTLY (reads and
-- writes go on; this file is one statement, so it runs outside a transaction block).
CREATE UNIQUE INDEX CONCURRENTLY "postbacks_lead_id_lead_status_lead_created_at_key" ON "postbacks" ("lead_id", "lead_status", "lead_created_at");
