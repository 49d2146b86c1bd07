-- Scans pings and ping_bids under a SHARE UPDATE EXCLUSIVE lock only: pings are recorded meanwhile.
ALTER TABLE "pings" VALIDATE CONSTRAINT "pings_before_partitioning_created_at_check";
ALTER TABLE "ping_bids" VALIDATE CONSTRAINT "ping_bids_before_partitioning_created_at_check";
