-- The deliveries' partial indexes (ADR 0035, Decision 6; the same as prisma/hand-written/deliveries-working-states.sql),
-- built CONCURRENTLY: writes go on (the file is one statement, so it runs outside a transaction block).
CREATE INDEX CONCURRENTLY "deliveries_superseded_idx" ON "deliveries" ("dead_lettered_at", "id") WHERE "status" = 'superseded';
