-- deliveries becomes partitioned by its lead's month on lead_created_at, as leads was: its foreign key to the
-- partitioned leads (validated) is attached, not checked again; every foreign key to deliveries(id) is made again on
-- (delivery_id, lead_created_at), NOT VALID, and validated by the next migration. The fill trigger goes: a
-- partitioned table routes a row by its key before any trigger of a partition runs, and every statement writes it.
ALTER TABLE "delivery_attempts" DROP CONSTRAINT "delivery_attempts_delivery_id_fkey";
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_delivery_id_fkey";
ALTER TABLE "feedback_events" DROP CONSTRAINT "feedback_events_delivery_id_fkey";
ALTER TABLE "returns" DROP CONSTRAINT "returns_delivery_id_fkey";
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_pkey";
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_pkey" PRIMARY KEY USING INDEX "deliveries_pkey_partitioned";
DROP INDEX "deliveries_lead_id_partner_id_key";
DROP TRIGGER "deliveries_lead_created_at" ON "deliveries";
SELECT switch_to_time_partitions('deliveries', 'lead_created_at', 'deliveries_before_partitioning_lead_created_at_check');
ALTER TABLE "deliveries_before_partitioning" DROP CONSTRAINT "deliveries_before_partitioning_lead_created_at_not_null";
ALTER TABLE "delivery_attempts" ADD CONSTRAINT "delivery_attempts_delivery_id_lead_created_at_fkey" FOREIGN KEY ("delivery_id", "lead_created_at")
  REFERENCES "deliveries"("id", "lead_created_at") ON DELETE CASCADE ON UPDATE CASCADE NOT VALID;
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_delivery_id_lead_created_at_fkey" FOREIGN KEY ("delivery_id", "lead_created_at")
  REFERENCES "deliveries"("id", "lead_created_at") ON DELETE RESTRICT ON UPDATE NO ACTION NOT VALID;
ALTER TABLE "feedback_events" ADD CONSTRAINT "feedback_events_delivery_id_lead_created_at_fkey" FOREIGN KEY ("delivery_id", "lead_created_at")
  REFERENCES "deliveries"("id", "lead_created_at") ON DELETE CASCADE ON UPDATE CASCADE NOT VALID;
ALTER TABLE "returns" ADD CONSTRAINT "returns_delivery_id_lead_created_at_fkey" FOREIGN KEY ("delivery_id", "lead_created_at")
  REFERENCES "deliveries"("id", "lead_created_at") ON DELETE CASCADE ON UPDATE CASCADE NOT VALID;
