-- Hand-written: what schema.prisma cannot describe of the leads' indexes
-- (docs/decisions/0035-postgresql-growth.md). The migrations create these objects; the drift test
-- (packages/db/src/migrations.test.ts) applies every prisma/hand-written/*.sql after
-- schema.prisma's own SQL and expects the same schema.

-- Nothing indexes status or updated_at over every row: an update that changes neither (the routing
-- record, a money status kept) is HOT, and one that moves a lead between settled states is indexed
-- only where a partial index's state is entered. The sweeper's two look-ups and the search for dead
-- letters read these small indexes of the working and rare states; a search by a settled state
-- reads leads(created_at) newest first.
CREATE INDEX "leads_queued_created_at_idx" ON "leads" ("created_at") WHERE "status" = 'queued';
CREATE INDEX "leads_routing_id_idx" ON "leads" ("id") WHERE "status" = 'routing';
CREATE INDEX "leads_dead_lettered_created_at_idx" ON "leads" ("created_at") WHERE "status" = 'dead_lettered';

-- Room on each page for the new version of an updated row, so a HOT update stays on its page.
ALTER TABLE "leads" SET (fillfactor = 90);
