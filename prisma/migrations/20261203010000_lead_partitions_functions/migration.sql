-- ADR 0035 Decision 5, step 3: the leads' tables partitioned by the lead's creation month. New partitions copy the
-- DEFAULT partition's storage parameters (leads' fillfactor); a partition is detached before it is dropped (a partition
-- of a table that foreign keys reference cannot be dropped while attached; rows that cannot be moved out of a DEFAULT
-- partition stay there); the backfill stops at once on a table partitioned by lead_created_at; the in-place switch.
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
  unmovable boolean;
  held boolean;
BEGIN
  IF unit NOT IN ('day', 'month') THEN
    RAISE EXCEPTION 'create_time_partitions: unit must be day or month, not %', unit;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('time_partitions:' || parent::oid::text));
  -- Shorter than deadlock_timeout (1 s): a partition's ATTACH or DETACH waits for locks that the leads' writers hold
  -- (their tables' foreign keys), and gives up before a deadlock with one of them could cost the writer its work.
  PERFORM set_config('lock_timeout', '500ms', true);
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
  unmovable := EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = parent AND contype = 'f')
               OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = parent AND NOT tgisinternal AND (tgtype & 8) <> 0);
  FOR step IN 0..ahead LOOP
    from_at := time_partition_start(unit, at, step);
    to_at := time_partition_start(unit, at, step + 1);
    CONTINUE WHEN EXISTS (
      SELECT 1 FROM pg_inherits i, time_partition_bounds(i.inhrelid) b
      WHERE i.inhparent = parent AND b.lo < to_at AND b.hi > from_at);
    part := table_name || '_p' || to_char(from_at AT TIME ZONE 'UTC', CASE unit WHEN 'day' THEN 'YYYYMMDD' ELSE 'YYYYMM' END);
    IF unmovable AND default_part IS NOT NULL THEN
      EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE %I >= $1 AND %I < $2)', default_part, key_column, key_column)
        INTO held USING from_at, to_at;
      IF held THEN
        RAISE WARNING 'create_time_partitions: % holds rows from % to %, which cannot be moved: the range stays there',
          default_part, from_at, to_at;
        CONTINUE;
      END IF;
    END IF;
    -- The storage parameters of the DEFAULT partition (a partitioned table has none of its own: leads' fillfactor).
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS)%s', schema_name, part, parent,
                   coalesce((SELECT ' WITH (' || array_to_string(reloptions, ', ') || ')' FROM pg_class
                             WHERE oid = default_part AND reloptions IS NOT NULL), ''));
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
  -- Shorter than deadlock_timeout (1 s): a partition's ATTACH or DETACH waits for locks that the leads' writers hold
  -- (their tables' foreign keys), and gives up before a deadlock with one of them could cost the writer its work.
  PERFORM set_config('lock_timeout', '500ms', true);
  FOR part IN
    SELECT i.inhrelid::regclass FROM pg_inherits i, time_partition_bounds(i.inhrelid) b
    WHERE i.inhparent = parent AND b.hi <= before ORDER BY b.hi
  LOOP
    partition := part::text;
    EXECUTE format('SELECT count(*) FROM %s', part) INTO rows;
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', parent, part);
    EXECUTE format('DROP TABLE %s', part);
    RETURN NEXT;
  END LOOP;
END;
$$;

CREATE OR REPLACE FUNCTION backfill_lead_created_at(child regclass, after text, batch int, OUT filled int, OUT last text)
LANGUAGE plpgsql AS $$
DECLARE
  id_type text := (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                   WHERE a.attrelid = child AND a.attname = 'id');
  lead_of text := CASE WHEN child = 'delivery_attempts'::regclass
                  THEN 'deliveries d, leads l WHERE d.id = c.delivery_id AND l.id = d.lead_id'
                  ELSE 'leads l WHERE l.id = c.lead_id' END;
BEGIN
  -- Once the table is partitioned by it, the column is NOT NULL: nothing to fill, the walk is done.
  IF (SELECT a.attnotnull FROM pg_attribute a WHERE a.attrelid = child AND a.attname = 'lead_created_at') THEN
    filled := 0;
    last := NULL;
    RETURN;
  END IF;
  IF child = 'ledger_entries'::regclass THEN
    PERFORM set_config('leadrouter.ledger_backfill', 'lead_created_at', true);
  END IF;
  EXECUTE format(
    'WITH walked AS (SELECT id FROM %1$s %2$s ORDER BY id LIMIT $2),
     filled AS (
       UPDATE %1$s c SET lead_created_at = l.created_at FROM walked w, %3$s
         AND c.id = w.id AND c.lead_created_at IS NULL
       RETURNING 1)
     SELECT (SELECT count(*) FROM filled)::int, (SELECT id::text FROM walked ORDER BY id DESC LIMIT 1)',
    child, CASE WHEN after IS NULL THEN '' ELSE format('WHERE id > $1::%s', id_type) END, lead_of)
  INTO filled, last USING after, batch;
  IF child = 'ledger_entries'::regclass THEN
    PERFORM set_config('leadrouter.ledger_backfill', '', true);
  END IF;
END;
$$;

CREATE FUNCTION first_time_partition_with_rows(parent regclass, before timestamptz) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
  part record;
  held boolean;
BEGIN
  FOR part IN
    SELECT i.inhrelid::regclass AS rel, b.lo FROM pg_inherits i, time_partition_bounds(i.inhrelid) b
    WHERE i.inhparent = parent AND b.hi <= before ORDER BY b.lo
  LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', part.rel) INTO held;
    IF held THEN
      RETURN part.lo;
    END IF;
  END LOOP;
  RETURN NULL;
END;
$$;

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
