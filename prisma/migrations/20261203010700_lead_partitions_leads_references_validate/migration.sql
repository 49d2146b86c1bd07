-- Each scans its table under a SHARE UPDATE EXCLUSIVE lock only (and reads the leads' primary key): writes go on.
ALTER TABLE "lead_events" VALIDATE CONSTRAINT "lead_events_lead_id_lead_created_at_fkey";
ALTER TABLE "deliveries" VALIDATE CONSTRAINT "deliveries_lead_id_lead_created_at_fkey";
ALTER TABLE "postbacks" VALIDATE CONSTRAINT "postbacks_lead_id_lead_created_at_fkey";
ALTER TABLE "ledger_entries" VALIDATE CONSTRAINT "ledger_entries_lead_id_lead_created_at_fkey";
ALTER TABLE "feedback_events" VALIDATE CONSTRAINT "feedback_events_lead_id_lead_created_at_fkey";
ALTER TABLE "returns" VALIDATE CONSTRAINT "returns_lead_id_lead_created_at_fkey";
