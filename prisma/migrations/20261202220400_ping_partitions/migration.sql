-- pings and ping_bids become tables partitioned by day on created_at (the same as prisma/hand-written/partitions.sql).
-- Every step is a catalog change: the primary keys are the indexes the earlier migrations built, and attaching
-- each old table as the partition of everything before its CHECK's bound scans nothing (the CHECK proves it).
-- Nothing references them and they have no trigger: the PingLog's statements append the report figures.
ALTER TABLE "pings" DROP CONSTRAINT "pings_pkey",
  ADD CONSTRAINT "pings_before_partitioning_pkey" PRIMARY KEY USING INDEX "pings_before_partitioning_pkey";
ALTER TABLE "pings" RENAME TO "pings_before_partitioning";
ALTER INDEX "pings_created_at_idx" RENAME TO "pings_before_partitioning_created_at_idx";
ALTER INDEX "pings_source_id_created_at_idx" RENAME TO "pings_before_partitioning_source_id_created_at_idx";
CREATE TABLE "pings" (LIKE "pings_before_partitioning" INCLUDING DEFAULTS) PARTITION BY RANGE ("created_at");
ALTER TABLE "pings" ADD CONSTRAINT "pings_pkey" PRIMARY KEY ("id", "created_at");
CREATE INDEX "pings_created_at_idx" ON "pings" ("created_at");
CREATE INDEX "pings_source_id_created_at_idx" ON "pings" ("source_id", "created_at");

ALTER TABLE "ping_bids" DROP CONSTRAINT "ping_bids_pkey",
  ADD CONSTRAINT "ping_bids_before_partitioning_pkey" PRIMARY KEY USING INDEX "ping_bids_before_partitioning_pkey";
ALTER TABLE "ping_bids" RENAME TO "ping_bids_before_partitioning";
ALTER INDEX "ping_bids_partner_id_created_at_idx" RENAME TO "ping_bids_before_partitioning_partner_id_created_at_idx";
ALTER INDEX "ping_bids_created_at_idx" RENAME TO "ping_bids_before_partitioning_created_at_idx";
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
