-- Scans each table under a SHARE UPDATE EXCLUSIVE lock only: leads are taken and delivered meanwhile. A child row
-- without lead_created_at (one the worker's housekeeping has not backfilled yet: it logs "lead_created_at backfill"
-- as it walks, and each table is done once walked to its end) stops the migration here, with nothing of it applied.
DO $$
DECLARE
  child text;
BEGIN
  ALTER TABLE "leads" VALIDATE CONSTRAINT "leads_before_partitioning_created_at_check";
  FOREACH child IN ARRAY ARRAY['lead_events', 'deliveries', 'delivery_attempts', 'ledger_entries', 'feedback_events',
                               'returns', 'postbacks'] LOOP
    BEGIN
      EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', child, child || '_before_partitioning_lead_created_at_not_null');
    EXCEPTION WHEN check_violation THEN
      RAISE EXCEPTION '% has rows without lead_created_at: let the worker''s housekeeping finish its backfill (ADR 0035, Decision 5), then migrate again', child
        USING ERRCODE = 'check_violation';
    END;
    EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', child, child || '_before_partitioning_lead_created_at_check');
  END LOOP;
END;
$$;
