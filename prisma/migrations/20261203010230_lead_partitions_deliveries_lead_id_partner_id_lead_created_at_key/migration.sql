-- The partitioned table's unique key must hold its partition key (ADR 0035 Decision 5). Built CONCURRENTLY (reads and
-- writes go on; this file is one statement, so it runs outside a transaction block).
CREATE UNIQUE INDEX CONCURRENTLY "deliveries_lead_id_partner_id_lead_created_at_key" ON "deliveries" ("lead_id", "partner_id", "lead_created_at");
