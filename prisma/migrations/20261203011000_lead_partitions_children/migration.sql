-- The other tables of a lead become partitioned by its month on lead_created_at, as deliveries was: their foreign keys
-- (validated) are attached, not checked again; the reports' and the ledger's triggers move to the partitioned tables;
-- the fill triggers and their functions go (every statement writes lead_created_at). The ledger's statement trigger
-- refuses UPDATE, DELETE and TRUNCATE of the partitioned table; a statement naming one partition fires only that
-- partition's triggers, so a row trigger on the partitioned table (cloned to every partition) refuses UPDATE and DELETE
-- there too (the backfill's one exception aside: a lead_created_at that is NULL, which the column no longer allows).

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

ALTER TABLE "postbacks" DROP CONSTRAINT "postbacks_pkey";
ALTER TABLE "postbacks" ADD CONSTRAINT "postbacks_pkey" PRIMARY KEY USING INDEX "postbacks_pkey_partitioned";
DROP INDEX "postbacks_lead_id_lead_status_key";
DROP INDEX "postbacks_event_event_key_key";
DROP TRIGGER "postbacks_lead_created_at" ON "postbacks";
SELECT switch_to_time_partitions('postbacks', 'lead_created_at', 'postbacks_before_partitioning_lead_created_at_check');
ALTER TABLE "postbacks_before_partitioning" DROP CONSTRAINT "postbacks_before_partitioning_lead_created_at_not_null";

ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_pkey";
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_pkey" PRIMARY KEY USING INDEX "ledger_entries_pkey_partitioned";
DROP INDEX "ledger_entries_kind_event_id_party_key";
DROP TRIGGER "ledger_entries_lead_created_at" ON "ledger_entries";
SELECT switch_to_time_partitions('ledger_entries', 'lead_created_at', 'ledger_entries_before_partitioning_lead_created_at_check');
ALTER TABLE "ledger_entries_before_partitioning" DROP CONSTRAINT "ledger_entries_before_partitioning_lead_created_at_not_null";

ALTER TABLE "feedback_events" DROP CONSTRAINT "feedback_events_pkey";
ALTER TABLE "feedback_events" ADD CONSTRAINT "feedback_events_pkey" PRIMARY KEY USING INDEX "feedback_events_pkey_partitioned";
DROP INDEX "feedback_events_partner_id_event_id_key";
DROP TRIGGER "feedback_events_lead_created_at" ON "feedback_events";
SELECT switch_to_time_partitions('feedback_events', 'lead_created_at', 'feedback_events_before_partitioning_lead_created_at_check');
ALTER TABLE "feedback_events_before_partitioning" DROP CONSTRAINT "feedback_events_before_partitioning_lead_created_at_not_null";

ALTER TABLE "returns" DROP CONSTRAINT "returns_pkey";
ALTER TABLE "returns" ADD CONSTRAINT "returns_pkey" PRIMARY KEY USING INDEX "returns_pkey_partitioned";
DROP INDEX "returns_delivery_id_key";
DROP TRIGGER "returns_lead_created_at" ON "returns";
SELECT switch_to_time_partitions('returns', 'lead_created_at', 'returns_before_partitioning_lead_created_at_check');
ALTER TABLE "returns_before_partitioning" DROP CONSTRAINT "returns_before_partitioning_lead_created_at_not_null";

DROP FUNCTION fill_lead_created_at();
DROP FUNCTION fill_attempt_lead_created_at();
CREATE TRIGGER ledger_entries_immutable_rows
BEFORE UPDATE OR DELETE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION ledger_entries_refuse_change();
