-- The partitioned table's unique key must hold its partition key (ADR 0035 Decision 5). Built CONCURRENTLY (reads and
-- writes go on; this file is one statement, so it runs outside a transaction block).
CREATE UNIQUE INDEX CONCURRENTLY "delivery_attempts_delivery_id_attempt_lead_created_at_key" ON "delivery_attempts" ("delivery_id", "attempt", "lead_created_at");
