-- Hand-written: partitions by time, which schema.prisma cannot describe
-- (docs/decisions/0035-postgresql-growth.md, Decision 3). The migrations create these objects; the
-- drift test (packages/db/src/migrations.test.ts) applies every prisma/hand-written/*.sql after
-- schema.prisma's own SQL and expects the same schema. The conversion of ingest_rejections below is
-- the same as the migrations' (20261202160000_rejection_partitions_prepare to
-- 20261202160300_rejection_partitions), which convert an existing table without a long lock.

-- The start of the UTC day or month `steps` days or months after the one `at` is in: the bounds of
-- the partitions (computed on UTC wall time, so a session's time zone and its daylight saving time
-- never shift them).
CREATE FUNCTION time_partition_start(unit text, at timestamptz, steps int) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (date_trunc(unit, at AT TIME ZONE 'UTC') + steps * ('1 ' || unit)::interval) AT TIME ZONE 'UTC'
$$;

-- The range of a partition of a table partitioned by RANGE on a timestamptz column: -infinity for
-- MINVALUE, infinity for MAXVALUE; NULL for the DEFAULT partition.
CREATE FUNCTION time_partition_bounds(part regclass, OUT lo timestamptz, OUT hi timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN b[1] = 'MINVALUE' THEN '-infinity' ELSE btrim(b[1], '''') END::timestamptz,
         CASE WHEN b[2] = 'MAXVALUE' THEN 'infinity' ELSE btrim(b[2], '''') END::timestamptz
  FROM (SELECT regexp_match(pg_get_expr(c.relpartbound, c.oid), '^FOR VALUES FROM \((.+)\) TO \((.+)\)$') AS b
        FROM pg_class c WHERE c.oid = part) AS s
$$;

-- Creates the partitions of `parent` (RANGE on a timestamptz column) for the UTC day or month (`unit`)
-- that `at` is in and the `ahead` next ones, those that no partition covers yet; returns the names
-- of those it created. Idempotent, and safe from several workers at once (a transaction-level lock
-- per table). A new partition is made beside the table and attached (ATTACH takes only a SHARE UPDATE
-- EXCLUSIVE lock on the table, which reads and writes do not wait for): the rows the DEFAULT partition
-- took meanwhile for its range (a worker down for days) are moved into it first. Named
-- <table>_p<yyyymmdd> or <table>_p<yyyymm>.
CREATE FUNCTION create_time_partitions(parent regclass, unit text, ahead int, at timestamptz DEFAULT now())
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

-- Drops the partitions of `parent` whose whole range is before `before` (never the DEFAULT one);
-- returns their names and how many rows each held (counted before the drop, for the housekeeping's
-- metric of rows deleted). Under the same lock as create_time_partitions. Dropping a partition takes an
-- ACCESS EXCLUSIVE lock on the table for a moment, and so does ATTACH on the DEFAULT partition: both
-- functions wait 100 ms at most for a lock (lock_timeout, for the transaction), then fail, and the
-- housekeeping tries again (a few times, then in its next round).
CREATE FUNCTION drop_time_partitions(parent regclass, before timestamptz)
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

-- ingest_rejections: one partition per UTC day, dropped once the whole day is older than the 30 days
-- rejections are kept (services/worker/src/housekeeping.ts). The rows before partitioning stay in
-- ingest_rejections_before_partitioning, a partition of everything before the start of the day after
-- next (so the day the conversion runs and the next are there); rows no day partition takes (a worker
-- down for long, a clock far off) go to ingest_rejections_default, and the housekeeping deletes those
-- after 30 days.
ALTER TABLE "ingest_rejections" RENAME TO "ingest_rejections_before_partitioning";
ALTER INDEX "ingest_rejections_pkey" RENAME TO "ingest_rejections_before_partitioning_pkey";
ALTER INDEX "ingest_rejections_at_idx" RENAME TO "ingest_rejections_before_partitioning_at_idx";
ALTER INDEX "ingest_rejections_source_id_at_idx" RENAME TO "ingest_rejections_before_partitioning_source_id_at_idx";
ALTER TABLE "ingest_rejections_before_partitioning"
  RENAME CONSTRAINT "ingest_rejections_source_id_fkey" TO "ingest_rejections_before_partitioning_source_id_fkey";
DO $$
BEGIN
  EXECUTE format('ALTER TABLE "ingest_rejections_before_partitioning" ADD CONSTRAINT "ingest_rejections_before_partitioning_at_check" CHECK ("at" < %L)',
                 time_partition_start('day', now(), 2));
END;
$$;
CREATE TABLE "ingest_rejections" (LIKE "ingest_rejections_before_partitioning" INCLUDING DEFAULTS) PARTITION BY RANGE ("at");
ALTER TABLE "ingest_rejections" ADD CONSTRAINT "ingest_rejections_pkey" PRIMARY KEY ("id", "at");
CREATE INDEX "ingest_rejections_at_idx" ON "ingest_rejections" ("at");
CREATE INDEX "ingest_rejections_source_id_at_idx" ON "ingest_rejections" ("source_id", "at");
ALTER TABLE "ingest_rejections" ADD CONSTRAINT "ingest_rejections_source_id_fkey"
  FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER SEQUENCE "ingest_rejections_id_seq" OWNED BY "ingest_rejections"."id";
DO $$
BEGIN
  EXECUTE format('ALTER TABLE "ingest_rejections" ATTACH PARTITION "ingest_rejections_before_partitioning" FOR VALUES FROM (MINVALUE) TO (%L)',
                 (SELECT substring(pg_get_constraintdef(oid) FROM '''(.+)''')::timestamptz FROM pg_constraint
                  WHERE conname = 'ingest_rejections_before_partitioning_at_check'));
END;
$$;
CREATE TABLE "ingest_rejections_default" PARTITION OF "ingest_rejections" DEFAULT;

-- pings and ping_bids (ADR 0032): one partition per UTC day on created_at, dropped once the whole day is older
-- than PING_RETENTION_DAYS (services/worker/src/housekeeping.ts). The same conversion as the migrations'
-- (20261202220000_ping_partitions_prepare to 20261202220400_ping_partitions): the rows before partitioning stay
-- in <table>_before_partitioning, the partition of everything before the start of the day after next.
ALTER TABLE "pings" RENAME TO "pings_before_partitioning";
ALTER INDEX "pings_pkey" RENAME TO "pings_before_partitioning_pkey";
ALTER INDEX "pings_created_at_idx" RENAME TO "pings_before_partitioning_created_at_idx";
ALTER INDEX "pings_source_id_created_at_idx" RENAME TO "pings_before_partitioning_source_id_created_at_idx";
ALTER TABLE "ping_bids" RENAME TO "ping_bids_before_partitioning";
ALTER INDEX "ping_bids_pkey" RENAME TO "ping_bids_before_partitioning_pkey";
ALTER INDEX "ping_bids_partner_id_created_at_idx" RENAME TO "ping_bids_before_partitioning_partner_id_created_at_idx";
ALTER INDEX "ping_bids_created_at_idx" RENAME TO "ping_bids_before_partitioning_created_at_idx";
DO $$
BEGIN
  EXECUTE format('ALTER TABLE "pings_before_partitioning" ADD CONSTRAINT "pings_before_partitioning_created_at_check" CHECK ("created_at" < %L)',
                 time_partition_start('day', now(), 2));
  EXECUTE format('ALTER TABLE "ping_bids_before_partitioning" ADD CONSTRAINT "ping_bids_before_partitioning_created_at_check" CHECK ("created_at" < %L)',
                 time_partition_start('day', now(), 2));
END;
$$;
CREATE TABLE "pings" (LIKE "pings_before_partitioning" INCLUDING DEFAULTS) PARTITION BY RANGE ("created_at");
ALTER TABLE "pings" ADD CONSTRAINT "pings_pkey" PRIMARY KEY ("id", "created_at");
CREATE INDEX "pings_created_at_idx" ON "pings" ("created_at");
CREATE INDEX "pings_source_id_created_at_idx" ON "pings" ("source_id", "created_at");
CREATE TABLE "ping_bids" (LIKE "ping_bids_before_partitioning" INCLUDING DEFAULTS) PARTITION BY RANGE ("created_at");
ALTER TABLE "ping_bids" ADD CONSTRAINT "ping_bids_pkey" PRIMARY KEY ("ping_id", "partner_id", "created_at");
CREATE INDEX "ping_bids_partner_id_created_at_idx" ON "ping_bids" ("partner_id", "created_at");
CREATE INDEX "ping_bids_created_at_idx" ON "ping_bids" ("created_at");
DO $$
BEGIN
  EXECUTE format('ALTER TABLE "pings" ATTACH PARTITION "pings_before_partitioning" FOR VALUES FROM (MINVALUE) TO (%L)',
                 (SELECT substring(pg_get_constraintdef(oid) FROM '''(.+)''')::timestamptz FROM pg_constraint
                  WHERE conname = 'pings_before_partitioning_created_at_check'));
  EXECUTE format('ALTER TABLE "ping_bids" ATTACH PARTITION "ping_bids_before_partitioning" FOR VALUES FROM (MINVALUE) TO (%L)',
                 (SELECT substring(pg_get_constraintdef(oid) FROM '''(.+)''')::timestamptz FROM pg_constraint
                  WHERE conname = 'ping_bids_before_partitioning_created_at_check'));
END;
$$;
CREATE TABLE "pings_default" PARTITION OF "pings" DEFAULT;
CREATE TABLE "ping_bids_default" PARTITION OF "ping_bids" DEFAULT;

-- lead_events and delivery_attempts (ADR 0035 Decision 7): one partition per UTC month of the lead's creation
-- (lead_created_at), made ahead by the worker's housekeeping and dropped once the whole month is older than
-- LEAD_HISTORY_RETENTION_MONTHS (0, the default: kept). The same conversion as the migrations'
-- (20261203120000_history_partitions_prepare to 20261203120500_history_partitions): the rows before partitioning stay
-- in <table>_before_partitioning, the partition of everything before the start of the month after next.
DO $$
DECLARE
  bound timestamptz := time_partition_start('month', now(), 2);
  child text;
BEGIN
  FOREACH child IN ARRAY ARRAY['lead_events', 'delivery_attempts'] LOOP
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK ("lead_created_at" < %L)',
                   child, child || '_before_partitioning_lead_created_at_check', bound);
  END LOOP;
END;
$$;
SELECT switch_to_time_partitions('lead_events', 'lead_created_at', 'lead_events_before_partitioning_lead_created_at_check');
SELECT switch_to_time_partitions('delivery_attempts', 'lead_created_at', 'delivery_attempts_before_partitioning_lead_created_at_check');
