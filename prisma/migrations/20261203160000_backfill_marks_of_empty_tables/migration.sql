-- The backfill of lead_created_at (ADR 0035 Decision 5) has nothing to fill in a table with no row: every row written
-- since its migration has the column (the fill triggers). So a table that is empty now is marked walked, and no
-- worker walks it later. A new installation never walks its tables — the walk of a table filled since (a bulk import,
-- the big-database bench's seeded year) read every row again in short transactions while leads were being routed:
-- about half a second of PostgreSQL time a batch, twenty batches a round. An installation with rows walks them once,
-- as before. Whether a table has a row reads one row at most.
DO $$
DECLARE
  t text;
  empty boolean;
BEGIN
  FOREACH t IN ARRAY ARRAY['deliveries', 'ledger_entries', 'feedback_events', 'returns', 'postbacks'] LOOP
    EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM %I)', t) INTO empty;
    IF empty THEN
      INSERT INTO "housekeeping_marks" ("name") VALUES ('backfill:' || t) ON CONFLICT DO NOTHING;
    END IF;
  END LOOP;
END $$;
