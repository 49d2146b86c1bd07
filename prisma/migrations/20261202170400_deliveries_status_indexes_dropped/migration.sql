-- The indexes of every delivery's status, replaced by the partial indexes the migrations before built (ADR 0035,
-- Decision 6). Dropping an index takes a moment's ACCESS EXCLUSIVE lock, no scan.
DROP INDEX "deliveries_status_next_attempt_at_idx", "deliveries_status_dead_lettered_at_idx", "deliveries_partner_id_status_idx";
