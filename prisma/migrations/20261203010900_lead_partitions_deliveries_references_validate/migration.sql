-- Each scans its table under a SHARE UPDATE EXCLUSIVE lock only (and reads the deliveries' primary key): writes go on.
ALTER TABLE "delivery_attempts" VALIDATE CONSTRAINT "delivery_attempts_delivery_id_lead_created_at_fkey";
ALTER TABLE "ledger_entries" VALIDATE CONSTRAINT "ledger_entries_delivery_id_lead_created_at_fkey";
ALTER TABLE "feedback_events" VALIDATE CONSTRAINT "feedback_events_delivery_id_lead_created_at_fkey";
ALTER TABLE "returns" VALIDATE CONSTRAINT "returns_delivery_id_lead_created_at_fkey";
