-- Scans each table under a SHARE UPDATE EXCLUSIVE lock only: leads are taken and delivered meanwhile. A row without
-- lead_created_at (one the worker's housekeeping has not backfilled yet: it logs "lead_created_at backfill" as it
-- walks, and marks each table done in housekeeping_marks) stops the migration here, with nothing of it applied.
DO $$
DECLARE
  child text;
BEGIN
  FOREACH child IN ARRAY ARRAY['lead_events', 'delivery_attempts'] LOOP
    BEGIN
      EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', child, child || '_before_partitioning_lead_created_at_not_null');
    EXCEPTION WHEN check_violation THEN
      RAISE EXCEPTION '% has rows without lead_created_at: run the worker until its housekeeping has finished the backfill (housekeeping_marks has backfill:%), then migrate again (ADR 0035, Decision 7)', child, child
        USING ERRCODE = 'check_violation';
    END;
    EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', child, child || '_before_partitioning_lead_created_at_check');
  END LOOP;
END;
$$;
