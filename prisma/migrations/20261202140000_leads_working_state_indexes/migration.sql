-- Leads' indexes for HOT updates (ADR 0035): the same as prisma/hand-written/leads-working-states.sql.
DROP INDEX "leads_status_updated_at_idx";
DROP INDEX "leads_status_created_at_idx";
CREATE INDEX "leads_queued_created_at_idx" ON "leads" ("created_at") WHERE "status" = 'queued';
CREATE INDEX "leads_routing_id_idx" ON "leads" ("id") WHERE "status" = 'routing';
CREATE INDEX "leads_dead_lettered_created_at_idx" ON "leads" ("created_at") WHERE "status" = 'dead_lettered';

-- Room on each page for the new version of an updated row, so a HOT update stays on its page.
ALTER TABLE "leads" SET (fillfactor = 90);
