-- Hand-written: the leads' tables partitioned by the lead's creation month (docs/decisions/0035-postgresql-growth.md,
-- Decision 5), which schema.prisma cannot describe. The same conversion as the migrations'
-- (20261203010000_lead_partitions_functions to 20261203011000_lead_partitions_children), which convert existing tables
-- without a long lock; the drift test (packages/db/src/migrations.test.ts) applies this file after every other one.
--
-- leads by RANGE (created_at), and every table that belongs to a lead by RANGE (lead_created_at), one partition per UTC
-- month made ahead by the worker's housekeeping and dropped after LEAD_RETENTION_MONTHS (0: kept). The rows of before
-- stay in <table>_before_partitioning, the partition of everything before the start of the month after next (of the
-- migration's day); rows no month partition takes go to <table>_default. A foreign key to a partitioned table follows
-- it through a rename, so each is made again against the partitioned table after its switch.
DO $$
DECLARE
  bound timestamptz := time_partition_start('month', now(), 2);
  child text;
BEGIN
  EXECUTE format('ALTER TABLE "leads" ADD CONSTRAINT "leads_before_partitioning_created_at_check" CHECK ("created_at" < %L)',
                 bound);
  FOREACH child IN ARRAY ARRAY['lead_events', 'deliveries', 'delivery_attempts', 'ledger_entries', 'feedback_events',
                               'returns', 'postbacks'] LOOP
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK ("lead_created_at" < %L)',
                   child, child || '_before_partitioning_lead_created_at_check', bound);
  END LOOP;
END;
$$;

ALTER TABLE "lead_events" DROP CONSTRAINT "lead_events_lead_id_lead_created_at_fkey";
ALTER TABLE "deliveries" DROP CONSTRAINT "deliveries_lead_id_lead_created_at_fkey";
ALTER TABLE "postbacks" DROP CONSTRAINT "postbacks_lead_id_lead_created_at_fkey";
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_lead_id_lead_created_at_fkey";
ALTER TABLE "feedback_events" DROP CONSTRAINT "feedback_events_lead_id_lead_created_at_fkey";
ALTER TABLE "returns" DROP CONSTRAINT "returns_lead_id_lead_created_at_fkey";
SELECT switch_to_time_partitions('leads', 'created_at', 'leads_before_partitioning_created_at_check');
ALTER TABLE "lead_events" ADD CONSTRAINT "lead_events_lead_id_lead_created_at_fkey" FOREIGN KEY ("lead_id", "lead_created_at")
  REFERENCES "leads"("id", "created_at") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_lead_id_lead_created_at_fkey" FOREIGN KEY ("lead_id", "lead_created_at")
  REFERENCES "leads"("id", "created_at") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "postbacks" ADD CONSTRAINT "postbacks_lead_id_lead_created_at_fkey" FOREIGN KEY ("lead_id", "lead_created_at")
  REFERENCES "leads"("id", "created_at") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_lead_id_lead_created_at_fkey" FOREIGN KEY ("lead_id", "lead_created_at")
  REFERENCES "leads"("id", "created_at") ON DELETE RESTRICT ON UPDATE NO ACTION;
ALTER TABLE "feedback_events" ADD CONSTRAINT "feedback_events_lead_id_lead_created_at_fkey" FOREIGN KEY ("lead_id", "lead_created_at")
  REFERENCES "leads"("id", "created_at") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "returns" ADD CONSTRAINT "returns_lead_id_lead_created_at_fkey" FOREIGN KEY ("lead_id", "lead_created_at")
  REFERENCES "leads"("id", "created_at") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "delivery_attempts" DROP CONSTRAINT "delivery_attempts_delivery_id_lead_created_at_fkey";
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_delivery_id_lead_created_at_fkey";
ALTER TABLE "feedback_events" DROP CONSTRAINT "feedback_events_delivery_id_lead_created_at_fkey";
ALTER TABLE "returns" DROP CONSTRAINT "returns_delivery_id_lead_created_at_fkey";
SELECT switch_to_time_partitions('deliveries', 'lead_created_at', 'deliveries_before_partitioning_lead_created_at_check');
ALTER TABLE "delivery_attempts" ADD CONSTRAINT "delivery_attempts_delivery_id_lead_created_at_fkey" FOREIGN KEY ("delivery_id", "lead_created_at")
  REFERENCES "deliveries"("id", "lead_created_at") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_delivery_id_lead_created_at_fkey" FOREIGN KEY ("delivery_id", "lead_created_at")
  REFERENCES "deliveries"("id", "lead_created_at") ON DELETE RESTRICT ON UPDATE NO ACTION;
ALTER TABLE "feedback_events" ADD CONSTRAINT "feedback_events_delivery_id_lead_created_at_fkey" FOREIGN KEY ("delivery_id", "lead_created_at")
  REFERENCES "deliveries"("id", "lead_created_at") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "returns" ADD CONSTRAINT "returns_delivery_id_lead_created_at_fkey" FOREIGN KEY ("delivery_id", "lead_created_at")
  REFERENCES "deliveries"("id", "lead_created_at") ON DELETE CASCADE ON UPDATE CASCADE;

SELECT switch_to_time_partitions('lead_events', 'lead_created_at', 'lead_events_before_partitioning_lead_created_at_check');
SELECT switch_to_time_partitions('delivery_attempts', 'lead_created_at', 'delivery_attempts_before_partitioning_lead_created_at_check');
SELECT switch_to_time_partitions('postbacks', 'lead_created_at', 'postbacks_before_partitioning_lead_created_at_check');
SELECT switch_to_time_partitions('ledger_entries', 'lead_created_at', 'ledger_entries_before_partitioning_lead_created_at_check');
SELECT switch_to_time_partitions('feedback_events', 'lead_created_at', 'feedback_events_before_partitioning_lead_created_at_check');
SELECT switch_to_time_partitions('returns', 'lead_created_at', 'returns_before_partitioning_lead_created_at_check');

-- The ledger's statement trigger (money.sql) fires for statements on the partitioned table only; this row trigger,
-- cloned to every partition, refuses an UPDATE or DELETE that names a partition.
CREATE TRIGGER ledger_entries_immutable_rows
BEFORE UPDATE OR DELETE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION ledger_entries_refuse_change();
