-- The partitioned table's unique key must hold its partition key (ADR 0035 Decision 5). Built CONCURRENTLY (reads and
-- writes go on; this file is one statement, so it runs outside a transaction block).
CREATE UNIQUE INDEX CONCURRENTLY "ledger_entries_kind_event_id_party_lead_created_at_key" ON "ledger_entries" ("kind", "event_id", "party", "lead_created_at");
