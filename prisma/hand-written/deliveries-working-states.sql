-- Hand-written: what schema.prisma cannot describe of the deliveries' indexes
-- (docs/decisions/0035-postgresql-growth.md, Decision 6). The migrations create these objects; the drift test
-- (packages/db/src/migrations.test.ts) applies every prisma/hand-written/*.sql after schema.prisma's own SQL and
-- expects the same schema.

-- Nothing indexes status over every row: the sweeper's look-ups (overdue and parked deliveries, a resumed
-- partner's parked retries) read the pending deliveries' indexes, the dead letters' list, count and bulk
-- actions theirs (superseded ones only when asked for); the accepted and rejected deliveries, nearly all of
-- them, are in none of these.
CREATE INDEX "deliveries_pending_next_attempt_at_idx" ON "deliveries" ("next_attempt_at") WHERE "status" = 'pending';
CREATE INDEX "deliveries_pending_partner_id_idx" ON "deliveries" ("partner_id") WHERE "status" = 'pending';
CREATE INDEX "deliveries_dead_lettered_idx" ON "deliveries" ("dead_lettered_at", "id") WHERE "status" = 'dead_lettered';
CREATE INDEX "deliveries_superseded_idx" ON "deliveries" ("dead_lettered_at", "id") WHERE "status" = 'superseded';
