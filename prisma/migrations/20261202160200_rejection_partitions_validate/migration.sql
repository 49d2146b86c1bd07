-- Scans ingest_rejections under a SHARE UPDATE EXCLUSIVE lock only: rejections are written meanwhile.
ALTER TABLE "ingest_rejections" VALIDATE CONSTRAINT "ingest_rejections_before_partitioning_at_check";
