-- ingest_rejections becomes a table partitioned by day (the same as prisma/hand-written/partitions.sql). Every
-- step is a catalog change: the primary key is the index the earlier migration built, and attaching the old
-- table as the partition of everything before its CHECK's bound scans nothing (the CHECK, validated, proves it).
ALTER TABLE "ingest_rejections" DROP CONSTRAINT "ingest_rejections_pkey",
  ADD CONSTRAINT "ingest_rejections_before_partitioning_pkey" PRIMARY KEY USING INDEX "ingest_rejections_before_partitioning_pkey";
-- The reports' trigger moves to the partitioned table (a statement trigger of a partition does not see
-- rows inserted through its table).
DROP TRIGGER "ingest_rejections_report" ON "ingest_rejections";
ALTER TABLE "ingest_rejections" RENAME TO "ingest_rejections_before_partitioning";
ALTER INDEX "ingest_rejections_at_idx" RENAME TO "ingest_rejections_before_partitioning_at_idx";
ALTER INDEX "ingest_rejections_source_id_at_idx" RENAME TO "ingest_rejections_before_partitioning_source_id_at_idx";
ALTER TABLE "ingest_rejections_before_partitioning"
  RENAME CONSTRAINT "ingest_rejections_source_id_fkey" TO "ingest_rejections_before_partitioning_source_id_fkey";
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
CREATE TRIGGER ingest_rejections_report
AFTER INSERT ON ingest_rejections
REFERENCING NEW TABLE AS new_rejections
FOR EACH STATEMENT EXECUTE FUNCTION ingest_rejections_report();
