-- pings and ping_bids by day (ADR 0032, 0035 Decision 4), converted without a long lock as ingest_rejections was:
-- first a CHECK that every row is before the start of the day after next, NOT VALID (no scan; new rows are
-- checked), validated by a later migration, so attaching each table as the partition of that range scans nothing.
DO $$
BEGIN
  EXECUTE format('ALTER TABLE "pings" ADD CONSTRAINT "pings_before_partitioning_created_at_check" CHECK ("created_at" < %L) NOT VALID',
                 time_partition_start('day', now(), 2));
  EXECUTE format('ALTER TABLE "ping_bids" ADD CONSTRAINT "ping_bids_before_partitioning_created_at_check" CHECK ("created_at" < %L) NOT VALID',
                 time_partition_start('day', now(), 2));
END;
$$;
