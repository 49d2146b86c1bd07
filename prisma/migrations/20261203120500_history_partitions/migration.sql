-- lead_events and delivery_attempts become tables partitioned by month on lead_created_at (the same as
-- prisma/hand-written/partitions.sql). Every step is a catalog change: the keys are the indexes the earlier migrations
-- built, the validated CHECKs prove lead_created_at set (NOT NULL without a scan) and the old rows' range (ATTACH reads
-- none), and the foreign keys to leads and deliveries match and are attached, not checked again. The fill triggers of
-- these two tables go: a partitioned table routes a row by its key before any row trigger runs, and every statement
-- writes the column (ADR 0035 Decision 5, step 2). Their backfill is done (the CHECK proved it): marked so.
ALTER TABLE "lead_events" DROP CONSTRAINT "lead_events_pkey";
ALTER TABLE "lead_events" ADD CONSTRAINT "lead_events_pkey" PRIMARY KEY USING INDEX "lead_events_pkey_partitioned";
DROP TRIGGER "lead_events_lead_created_at" ON "lead_events";
SELECT switch_to_time_partitions('lead_events', 'lead_created_at', 'lead_events_before_partitioning_lead_created_at_check');
ALTER TABLE "lead_events_before_partitioning" DROP CONSTRAINT "lead_events_before_partitioning_lead_created_at_not_null";

ALTER TABLE "delivery_attempts" DROP CONSTRAINT "delivery_attempts_pkey";
ALTER TABLE "delivery_attempts" ADD CONSTRAINT "delivery_attempts_pkey" PRIMARY KEY USING INDEX "delivery_attempts_pkey_partitioned";
DROP INDEX "delivery_attempts_delivery_id_attempt_key";
DROP TRIGGER "delivery_attempts_lead_created_at" ON "delivery_attempts";
SELECT switch_to_time_partitions('delivery_attempts', 'lead_created_at', 'delivery_attempts_before_partitioning_lead_created_at_check');
ALTER TABLE "delivery_attempts_before_partitioning" DROP CONSTRAINT "delivery_attempts_before_partitioning_lead_created_at_not_null";

DROP FUNCTION fill_attempt_lead_created_at();
INSERT INTO "housekeeping_marks" ("name") VALUES ('backfill:lead_events'), ('backfill:delivery_attempts')
ON CONFLICT ("name") DO NOTHING;
