-- The leads' tables by the lead's creation month (ADR 0035 Decision 5), converted without a long lock as
-- ingest_rejections was (Decision 4): a CHECK that every row is before the start of the month after next, NOT VALID
-- (no scan; new rows are checked), and in every child table one that lead_created_at is set (the statements write it,
-- the fill triggers fill it, the housekeeping's backfill filled the rows of before), validated by a later migration.
-- leads.idempotency_key and request_hash are read and written no more (step 1: idempotency_keys): dropped here, with
-- their unique index, which holds no partition key (a dropped column's values are no longer readable at once).
DROP INDEX "leads_source_id_idempotency_key_key";
ALTER TABLE "leads" DROP COLUMN "idempotency_key", DROP COLUMN "request_hash";
DO $$
DECLARE
  bound timestamptz := time_partition_start('month', now(), 2);
  child text;
BEGIN
  EXECUTE format('ALTER TABLE "leads" ADD CONSTRAINT "leads_before_partitioning_created_at_check" CHECK ("created_at" < %L) NOT VALID',
                 bound);
  FOREACH child IN ARRAY ARRAY['lead_events', 'deliveries', 'delivery_attempts', 'ledger_entries', 'feedback_events',
                               'returns', 'postbacks'] LOOP
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK ("lead_created_at" IS NOT NULL) NOT VALID,
                    ADD CONSTRAINT %I CHECK ("lead_created_at" < %L) NOT VALID',
                   child, child || '_before_partitioning_lead_created_at_not_null',
                   child || '_before_partitioning_lead_created_at_check', bound);
  END LOOP;
END;
$$;
