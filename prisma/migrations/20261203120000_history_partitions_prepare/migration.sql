-- lead_events and delivery_attempts by the lead's creation month (ADR 0035 Decision 7): a lead's history (its events,
-- its deliveries' attempts with the partners' answers) lives in its month's partition and is dropped with it after
-- LEAD_HISTORY_RETENTION_MONTHS. Converted without a long lock as ingest_rejections was (Decision 4): a CHECK that
-- every row is before the start of the month after next and one that lead_created_at is set, both NOT VALID (no
-- scan; new rows are checked), validated by a later migration. Also the in-place switch the last one uses.
-- Partition DDL gives way to the leads' writers: a lock not granted in 100 ms (below deadlock_timeout) fails it, and
-- the housekeeping tries again.
CREATE OR REPLACE FUNCTION create_time_partitions(parent regclass, unit text, ahead int, at timestamptz DEFAULT now())
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  key_column name;
  default_part regclass;
  schema_name name;
  table_name name;
  part text;
  from_at timestamptz;
  to_at timestamptz;
BEGIN
  IF unit NOT IN ('day', 'month') THEN
    RAISE EXCEPTION 'create_time_partitions: unit must be day or month, not %', unit;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('time_partitions:' || parent::oid::text));
  -- Attaching a partition of lead_events or delivery_attempts adds its foreign key, which takes a SHARE ROW EXCLUSIVE
  -- lock on leads or deliveries: it waits for their writers, and every writer that comes after waits behind it. So it
  -- waits 100 ms at most (well below deadlock_timeout: it never deadlocks with a lead's transaction either) and the
  -- housekeeping tries again; a stall of the leads' writes is bounded by that.
  PERFORM set_config('lock_timeout', '100ms', true);
  SELECT a.attname, NULLIF(p.partdefid, 0)::regclass, n.nspname, c.relname
    INTO key_column, default_part, schema_name, table_name
  FROM pg_partitioned_table p
  JOIN pg_class c ON c.oid = p.partrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
  WHERE p.partrelid = parent AND p.partstrat = 'r';
  IF key_column IS NULL THEN
    RAISE EXCEPTION 'create_time_partitions: % is not partitioned by range', parent;
  END IF;
  FOR step IN 0..ahead LOOP
    from_at := time_partition_start(unit, at, step);
    to_at := time_partition_start(unit, at, step + 1);
    CONTINUE WHEN EXISTS (
      SELECT 1 FROM pg_inherits i, time_partition_bounds(i.inhrelid) b
      WHERE i.inhparent = parent AND b.lo < to_at AND b.hi > from_at);
    part := table_name || '_p' || to_char(from_at AT TIME ZONE 'UTC', CASE unit WHEN 'day' THEN 'YYYYMMDD' ELSE 'YYYYMM' END);
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS)', schema_name, part, parent);
    IF default_part IS NOT NULL THEN
      EXECUTE format('WITH moved AS (DELETE FROM %s WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %I.%I SELECT * FROM moved',
                     default_part, key_column, key_column, schema_name, part)
        USING from_at, to_at;
    END IF;
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)', parent, schema_name, part, from_at, to_at);
    RETURN NEXT part;
  END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION drop_time_partitions(parent regclass, before timestamptz)
RETURNS TABLE (partition text, rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
  part regclass;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('time_partitions:' || parent::oid::text));
  -- Attaching a partition of lead_events or delivery_attempts adds its foreign key, which takes a SHARE ROW EXCLUSIVE
  -- lock on leads or deliveries: it waits for their writers, and every writer that comes after waits behind it. So it
  -- waits 100 ms at most (well below deadlock_timeout: it never deadlocks with a lead's transaction either) and the
  -- housekeeping tries again; a stall of the leads' writes is bounded by that.
  PERFORM set_config('lock_timeout', '100ms', true);
  FOR part IN
    SELECT i.inhrelid::regclass FROM pg_inherits i, time_partition_bounds(i.inhrelid) b
    WHERE i.inhparent = parent AND b.hi <= before ORDER BY b.hi
  LOOP
    partition := part::text;
    EXECUTE format('SELECT count(*) FROM %s', part) INTO rows;
    EXECUTE format('DROP TABLE %s', part);
    RETURN NEXT;
  END LOOP;
END;
$$;

-- Converts table `tbl` into a table partitioned by RANGE on `key_column` in place, catalog changes only
-- (ADR 0035, Decision 5): the table and its indexes and foreign keys are renamed <table>_before_partitioning...,
-- a partitioned table is made with the old names, defaults (sequences included), primary key, indexes, foreign
-- keys and triggers, and the old table is attached as the partition of everything before the bound its CHECK
-- `bound_check` proves (validated: ATTACH reads no row; its indexes and foreign keys match and are attached, not
-- rebuilt), with a DEFAULT partition of its storage parameters. What it asks of the table: its primary key and
-- unique indexes hold `key_column`, its unique indexes that do not are dropped beforehand, no other table's
-- foreign key references it (those are made again against the partitioned table), `key_column` is NOT NULL or
-- a validated CHECK proves it is, and no row trigger of the table must not be on the partitioned one.
CREATE FUNCTION switch_to_time_partitions(tbl regclass, key_column name, bound_check name) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  table_name name := (SELECT relname FROM pg_class WHERE oid = tbl);
  old_name name := left(table_name || '_before_partitioning', 63);
  bound timestamptz;
  primary_key text;
  indexes text[];
  foreign_keys text[];
  triggers text[];
  r record;
  statement text;
BEGIN
  SELECT substring(pg_get_constraintdef(oid) FROM '''(.+)''')::timestamptz INTO bound
  FROM pg_constraint WHERE conrelid = tbl AND conname = bound_check AND contype = 'c' AND convalidated;
  IF bound IS NULL THEN
    RAISE EXCEPTION 'switch_to_time_partitions: % has no validated CHECK %', tbl, bound_check;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = tbl AND contype = 'f' AND conrelid <> tbl) THEN
    RAISE EXCEPTION 'switch_to_time_partitions: other tables'' foreign keys reference %', tbl;
  END IF;
  SELECT format('ALTER TABLE %I ADD CONSTRAINT %I %s', table_name, conname, pg_get_constraintdef(oid)) INTO primary_key
  FROM pg_constraint WHERE conrelid = tbl AND contype = 'p';
  SELECT array_agg(pg_get_indexdef(i.indexrelid) ORDER BY c.relname) INTO indexes
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = tbl AND NOT i.indisprimary;
  SELECT array_agg(format('ALTER TABLE %I ADD CONSTRAINT %I %s', table_name, conname, pg_get_constraintdef(oid)) ORDER BY conname)
    INTO foreign_keys FROM pg_constraint WHERE conrelid = tbl AND contype = 'f' AND conparentid = 0;
  SELECT array_agg(pg_get_triggerdef(oid) ORDER BY tgname) INTO triggers
  FROM pg_trigger WHERE tgrelid = tbl AND NOT tgisinternal;

  FOR r IN SELECT tgname FROM pg_trigger WHERE tgrelid = tbl AND NOT tgisinternal LOOP
    EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, tbl);
  END LOOP;
  FOR r IN SELECT conname FROM pg_constraint WHERE conrelid = tbl AND contype = 'f' AND conparentid = 0 LOOP
    EXECUTE format('ALTER TABLE %s RENAME CONSTRAINT %I TO %I', tbl, r.conname,
                   left(old_name || substr(r.conname, length(table_name) + 1), 63));
  END LOOP;
  FOR r IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = tbl LOOP
    EXECUTE format('ALTER INDEX %I RENAME TO %I', r.relname, left(old_name || substr(r.relname, length(table_name) + 1), 63));
  END LOOP;
  EXECUTE format('ALTER TABLE %s RENAME TO %I', tbl, old_name);
  EXECUTE format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', tbl, key_column);

  EXECUTE format('CREATE TABLE %I (LIKE %s INCLUDING DEFAULTS) PARTITION BY RANGE (%I)', table_name, tbl, key_column);
  EXECUTE primary_key;
  FOREACH statement IN ARRAY coalesce(indexes, '{}') LOOP
    EXECUTE statement;
  END LOOP;
  FOREACH statement IN ARRAY coalesce(foreign_keys, '{}') LOOP
    EXECUTE statement;
  END LOOP;
  FOREACH statement IN ARRAY coalesce(triggers, '{}') LOOP
    EXECUTE statement;
  END LOOP;
  FOR r IN SELECT s.oid::regclass AS seq, a.attname FROM pg_depend d
           JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
           JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
           WHERE d.classid = 'pg_class'::regclass AND d.refobjid = tbl AND d.deptype = 'a' LOOP
    EXECUTE format('ALTER SEQUENCE %s OWNED BY %I.%I', r.seq, table_name, r.attname);
  END LOOP;
  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %s FOR VALUES FROM (MINVALUE) TO (%L)', table_name, tbl, bound);
  EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT%s', left(table_name || '_default', 63), table_name,
                 coalesce((SELECT ' WITH (' || array_to_string(reloptions, ', ') || ')' FROM pg_class
                           WHERE oid = tbl AND reloptions IS NOT NULL), ''));
END;
$$;

DO $$
DECLARE
  bound timestamptz := time_partition_start('month', now(), 2);
  child text;
BEGIN
  FOREACH child IN ARRAY ARRAY['lead_events', 'delivery_attempts'] LOOP
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK ("lead_created_at" IS NOT NULL) NOT VALID,
                    ADD CONSTRAINT %I CHECK ("lead_created_at" < %L) NOT VALID',
                   child, child || '_before_partitioning_lead_created_at_not_null',
                   child || '_before_partitioning_lead_created_at_check', bound);
  END LOOP;
END;
$$;
