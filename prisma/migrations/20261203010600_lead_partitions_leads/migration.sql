-- leads becomes partitioned by month on created_at (ADR 0035 Decision 5), catalog changes only: the primary key
-- (id, created_at) is the index built concurrently, and switch_to_time_partitions (partitions.sql) attaches the old
-- table as the partition of everything before its validated CHECK's bound, with its indexes, foreign key and the
-- reports' triggers on the partitioned table. Every foreign key to leads(id) is made again on (lead_id,
-- lead_created_at) against the partitioned table, NOT VALID (no scan; new rows are checked), and validated by the
-- next migration; once validated, each child's switch attaches it instead of checking the child's rows again.
ALTER TABLE "lead_events" DROP CONSTRAINT "lead_events_lead_id_fkey";
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_lead_id_fkey";
ALTER TABLE "postbacks" DROP CONSTRAINT "postbacks_lead_id_fkey";
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_lead_id_fkey";
ALTER TABLE "feedback_events" DROP CONSTRAINT "feedback_events_lead_id_fkey";
ALTER TABLE "returns" DROP CONSTRAINT "returns_lead_id_fkey";
ALTER TABLE "leads" DROP CONSTRAINT "leads_pkey";
ALTER TABLE "leads" ADD CONSTRAINT "leads_pkey" PRIMARY KEY USING INDEX "leads_pkey_partitioned";
SELECT switch_to_time_partitions('leads', 'created_at', 'leads_before_partitioning_created_at_check');
ALTER TABLE "lead_events" ADD CONSTRAINT "lead_events_lead_id_lead_created_at_fkey" FOREIGN KEY ("lead_id", "lead_created_at")
  REFERENCES "leads"("id", "created_at") ON DELETE CASCADE ON UPDATE CASCADE NOT VALID;
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_lead_id_lead_created_at_fkey" FOREIGN KEY ("lead_id", "lead_created_at")
  REFERENCES "leads"("id", "created_at") ON DELETE CASCADE ON UPDATE CASCADE NOT VALID;
ALTER TABLE "postbacks" ADD CONSTRAINT "postbacks_lead_id_lead_created_at_fkey" FOREIGN KEY ("lead_id", "lead_created_at")
  REFERENCES "leads"("id", "created_at") ON DELETE CASCADE ON UPDATE CASCADE NOT VALID;
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_lead_id_lead_created_at_fkey" FOREIGN KEY ("lead_id", "lead_created_at")
  REFERENCES "leads"("id", "created_at") ON DELETE RESTRICT ON UPDATE NO ACTION NOT VALID;
ALTER TABLE "feedback_events" ADD CONSTRAINT "feedback_events_lead_id_lead_created_at_fkey" FOREIGN KEY ("lead_id", "lead_created_at")
  REFERENCES "leads"("id", "created_at") ON DELETE CASCADE ON UPDATE CASCADE NOT VALID;
ALTER TABLE "returns" ADD CONSTRAINT "returns_lead_id_lead_created_at_fkey" FOREIGN KEY ("lead_id", "lead_created_at")
  REFERENCES "leads"("id", "created_at") ON DELETE CASCADE ON UPDATE CASCADE NOT VALID;
