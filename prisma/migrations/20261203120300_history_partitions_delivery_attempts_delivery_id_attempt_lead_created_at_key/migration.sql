-- A delivery's attempt numbers stay unique: the lead's month is a function of the delivery (one delivery, one lead), so
-- the key with it added is the same guarantee, and it holds the partition key. Built CONCURRENTLY (one statement).
CREATE UNIQUE INDEX CONCURRENTLY "delivery_attempts_delivery_id_attempt_lead_created_at_key"
  ON "delivery_attempts" ("delivery_id", "attempt", "lead_created_at");
