-- AlterTable
ALTER TABLE "report_deltas" ADD COLUMN     "converted" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "cost" DECIMAL(18,4) NOT NULL DEFAULT 0,
ADD COLUMN     "returned" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "revenue" DECIMAL(18,4) NOT NULL DEFAULT 0,
ADD COLUMN     "reversed" INTEGER NOT NULL DEFAULT 0;

-- Hand-written (prisma/hand-written/money.sql, reports.sql; docs/decisions/0028-reports.md): the ledger's
-- money and the partners' events go to report_deltas, as the leads' figures do, and the fold adds them to
-- the rollups. Adding them to report_daily/report_hourly in the entry's transaction made every sale and
-- feedback event of a partner wait on the same two rollup rows for the one before it to commit.
CREATE OR REPLACE FUNCTION ledger_entries_rollup() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_deltas (at, source_id, partner_id, geo, channel, sold, converted, returned, reversed, revenue, cost)
  SELECT date_trunc('hour', e.at, 'UTC'),
         l.source_id,
         coalesce(CASE WHEN e.party = 'partner' THEN e.party_id ELSE d.partner_id END,
                  '00000000-0000-0000-0000-000000000000'),
         coalesce(l.geo, ''),
         coalesce(l.sub_source, ''),
         count(*) FILTER (WHERE e.party = 'partner' AND e.kind = 'sale'),
         count(*) FILTER (WHERE e.party = 'partner' AND e.kind = 'conversion'),
         count(*) FILTER (WHERE e.party = 'partner' AND e.kind = 'return'),
         count(*) FILTER (WHERE e.party = 'partner' AND e.kind = 'reversal'),
         coalesce(sum(e.amount) FILTER (WHERE e.party = 'partner'), 0),
         coalesce(sum(e.amount) FILTER (WHERE e.party = 'source'), 0)
  FROM inserted AS e
  JOIN leads AS l ON l.id = e.lead_id
  LEFT JOIN deliveries AS d ON d.id = e.delivery_id
  GROUP BY 1, 2, 3, 4, 5;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION report_fold(max_rows integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  moved_rows integer;
  deltas jsonb;
BEGIN
  WITH moved AS (
    DELETE FROM report_deltas
    WHERE id IN (SELECT id FROM report_deltas ORDER BY id LIMIT max_rows FOR UPDATE SKIP LOCKED)
    RETURNING *
  ), summed AS (
    SELECT at, source_id, partner_id, geo, channel, count(*) AS n,
           sum(leads) AS leads, sum(accepted) AS accepted, sum(duplicates) AS duplicates, sum(sold) AS sold,
           sum(unsold) AS unsold, sum(unmatched) AS unmatched, sum(dead_lettered) AS dead_lettered,
           sum(converted) AS converted, sum(returned) AS returned, sum(reversed) AS reversed,
           sum(pings) AS pings, sum(bids) AS bids, sum(wins) AS wins, sum(revenue) AS revenue, sum(cost) AS cost
    FROM moved
    GROUP BY at, source_id, partner_id, geo, channel
  )
  SELECT coalesce(sum(n), 0)::integer, coalesce(jsonb_agg(to_jsonb(s) - 'n'), '[]')
  INTO moved_rows, deltas
  FROM summed AS s;
  PERFORM report_rollup_add(deltas);
  RETURN moved_rows;
END;
$$;
