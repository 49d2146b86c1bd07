-- Data, written by hand (ADR 0007, addendum): dead letters of leads already
-- sold to as many partners as their route allows become `superseded`, as the
-- worker now marks them at the sale. maxDeliveries is read from
-- `leads.routing` as the operations read it: 1 unless a whole number >= 1.
-- A migration of its own: PostgreSQL lets a new enum value be used only once
-- the transaction that added it has committed.
UPDATE "deliveries" AS d
SET "status" = 'superseded', "next_attempt_at" = NULL, "updated_at" = now()
FROM "leads" AS l
WHERE d."status" = 'dead_lettered'
  AND l."id" = d."lead_id"
  AND (SELECT count(*) FROM "deliveries" AS a WHERE a."lead_id" = l."id" AND a."status" = 'accepted')
      >= CASE
           -- CASE evaluates in order: the cast runs only on a JSON number.
           WHEN jsonb_typeof(l."routing" -> 'maxDeliveries') IS DISTINCT FROM 'number' THEN 1
           WHEN (l."routing" ->> 'maxDeliveries')::numeric >= 1
                AND (l."routing" ->> 'maxDeliveries')::numeric % 1 = 0
           THEN (l."routing" ->> 'maxDeliveries')::numeric
           ELSE 1
         END;
