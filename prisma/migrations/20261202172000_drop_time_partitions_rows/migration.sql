-- drop_time_partitions also says how many rows each dropped partition held (the same as
-- prisma/hand-written/partitions.sql): its result type changes, so it is dropped and made again.
DROP FUNCTION drop_time_partitions(regclass, timestamptz);
-- Drops the partitions of `parent` whose whole range is before `before` (never the DEFAULT one);
-- returns their names and how many rows each held (counted before the drop, for the housekeeping's
-- metric of rows deleted). Under the same lock as create_time_partitions. Dropping a partition takes an
-- ACCESS EXCLUSIVE lock on the table for a moment, and so does ATTACH on the DEFAULT partition: both
-- functions wait 5 s at most for a lock (lock_timeout, for the transaction), then fail, and the
-- housekeeping tries again in its next round.
CREATE FUNCTION drop_time_partitions(parent regclass, before timestamptz)
RETURNS TABLE (partition text, rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
  part regclass;
BEGIN
  PERFORM set_config('lock_timeout', '5s', true), pg_advisory_xact_lock(hashtext('time_partitions:' || parent::oid::text));
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

