-- Pings, bids, wins and the sum of the bids in the report rollups (ADR 0028, 0032). The deltas and the rollups
-- gain `bid_total` (a default, no rewrite); pings gain their geo and channel. report_rollup_add() and
-- report_fold() carry bid_total; leads_report_insert() counts a lead posted against a ping as one `wins` of its
-- row. The worker's PingLog appends the figures of the pings and bids it records, in the statement that records
-- them (packages/db/src/tables/pings.ts).
ALTER TABLE "report_daily" ADD COLUMN "bid_total" DECIMAL(18,4) NOT NULL DEFAULT 0;
ALTER TABLE "report_hourly" ADD COLUMN "bid_total" DECIMAL(18,4) NOT NULL DEFAULT 0;
ALTER TABLE "report_deltas" ADD COLUMN "bid_total" DECIMAL(18,4) NOT NULL DEFAULT 0;
ALTER TABLE "pings" ADD COLUMN "geo" VARCHAR(2), ADD COLUMN "channel" VARCHAR(100);

CREATE OR REPLACE FUNCTION report_rollup_add(deltas jsonb) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO report_daily AS r (day, source_id, partner_id, geo, channel, leads, accepted, duplicates, sold, unsold, unmatched, dead_lettered, converted, returned, reversed, pings, bids, wins, bid_total, revenue, cost)
  SELECT
    (d.at AT TIME ZONE 'UTC')::date,
    d.source_id,
    coalesce(d.partner_id, '00000000-0000-0000-0000-000000000000'),
    coalesce(d.geo, ''),
    coalesce(d.channel, ''),
    coalesce(sum(d.leads), 0),
    coalesce(sum(d.accepted), 0),
    coalesce(sum(d.duplicates), 0),
    coalesce(sum(d.sold), 0),
    coalesce(sum(d.unsold), 0),
    coalesce(sum(d.unmatched), 0),
    coalesce(sum(d.dead_lettered), 0),
    coalesce(sum(d.converted), 0),
    coalesce(sum(d.returned), 0),
    coalesce(sum(d.reversed), 0),
    coalesce(sum(d.pings), 0),
    coalesce(sum(d.bids), 0),
    coalesce(sum(d.wins), 0),
    coalesce(sum(d.bid_total), 0),
    coalesce(sum(d.revenue), 0),
    coalesce(sum(d.cost), 0)
  FROM jsonb_to_recordset(deltas) AS d (
    at timestamptz, source_id uuid, partner_id uuid, geo text, channel text,
    leads integer,
    accepted integer,
    duplicates integer,
    sold integer,
    unsold integer,
    unmatched integer,
    dead_lettered integer,
    converted integer,
    returned integer,
    reversed integer,
    pings integer,
    bids integer,
    wins integer,
    bid_total numeric,
    revenue numeric,
    cost numeric
  )
  GROUP BY 1, 2, 3, 4, 5
  ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (day, source_id, partner_id, geo, channel) DO UPDATE SET
    leads = r.leads + excluded.leads,
    accepted = r.accepted + excluded.accepted,
    duplicates = r.duplicates + excluded.duplicates,
    sold = r.sold + excluded.sold,
    unsold = r.unsold + excluded.unsold,
    unmatched = r.unmatched + excluded.unmatched,
    dead_lettered = r.dead_lettered + excluded.dead_lettered,
    converted = r.converted + excluded.converted,
    returned = r.returned + excluded.returned,
    reversed = r.reversed + excluded.reversed,
    pings = r.pings + excluded.pings,
    bids = r.bids + excluded.bids,
    wins = r.wins + excluded.wins,
    bid_total = r.bid_total + excluded.bid_total,
    revenue = r.revenue + excluded.revenue,
    cost = r.cost + excluded.cost;

  INSERT INTO report_hourly AS r (hour, source_id, partner_id, leads, accepted, duplicates, sold, unsold, unmatched, dead_lettered, converted, returned, reversed, pings, bids, wins, bid_total, revenue, cost)
  SELECT
    date_trunc('hour', d.at, 'UTC'),
    d.source_id,
    coalesce(d.partner_id, '00000000-0000-0000-0000-000000000000'),
    coalesce(sum(d.leads), 0),
    coalesce(sum(d.accepted), 0),
    coalesce(sum(d.duplicates), 0),
    coalesce(sum(d.sold), 0),
    coalesce(sum(d.unsold), 0),
    coalesce(sum(d.unmatched), 0),
    coalesce(sum(d.dead_lettered), 0),
    coalesce(sum(d.converted), 0),
    coalesce(sum(d.returned), 0),
    coalesce(sum(d.reversed), 0),
    coalesce(sum(d.pings), 0),
    coalesce(sum(d.bids), 0),
    coalesce(sum(d.wins), 0),
    coalesce(sum(d.bid_total), 0),
    coalesce(sum(d.revenue), 0),
    coalesce(sum(d.cost), 0)
  FROM jsonb_to_recordset(deltas) AS d (
    at timestamptz, source_id uuid, partner_id uuid,
    leads integer,
    accepted integer,
    duplicates integer,
    sold integer,
    unsold integer,
    unmatched integer,
    dead_lettered integer,
    converted integer,
    returned integer,
    reversed integer,
    pings integer,
    bids integer,
    wins integer,
    bid_total numeric,
    revenue numeric,
    cost numeric
  )
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3
  ON CONFLICT (hour, source_id, partner_id) DO UPDATE SET
    leads = r.leads + excluded.leads,
    accepted = r.accepted + excluded.accepted,
    duplicates = r.duplicates + excluded.duplicates,
    sold = r.sold + excluded.sold,
    unsold = r.unsold + excluded.unsold,
    unmatched = r.unmatched + excluded.unmatched,
    dead_lettered = r.dead_lettered + excluded.dead_lettered,
    converted = r.converted + excluded.converted,
    returned = r.returned + excluded.returned,
    reversed = r.reversed + excluded.reversed,
    pings = r.pings + excluded.pings,
    bids = r.bids + excluded.bids,
    wins = r.wins + excluded.wins,
    bid_total = r.bid_total + excluded.bid_total,
    revenue = r.revenue + excluded.revenue,
    cost = r.cost + excluded.cost;
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
           sum(pings) AS pings, sum(bids) AS bids, sum(wins) AS wins, sum(bid_total) AS bid_total,
           sum(revenue) AS revenue, sum(cost) AS cost
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

-- Inserts of leads wait from here until this migration commits, and it waits for those in flight: a lead
-- posted against a ping is counted either below or by the trigger's new function, never both, never neither.
LOCK TABLE "leads" IN SHARE MODE;

CREATE OR REPLACE FUNCTION leads_report_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_deltas (at, source_id, geo, channel, leads, accepted, sold, unsold, unmatched, dead_lettered, wins)
  SELECT date_trunc('hour', n.created_at, 'UTC'), n.source_id, coalesce(n.geo, ''), coalesce(n.sub_source, ''),
         count(*), count(*),
         count(*) FILTER (WHERE report_lead_outcome(n.status) = 'sold'),
         count(*) FILTER (WHERE report_lead_outcome(n.status) = 'unsold'),
         count(*) FILTER (WHERE report_lead_outcome(n.status) = 'unmatched'),
         count(*) FILTER (WHERE report_lead_outcome(n.status) = 'dead_lettered'),
         count(*) FILTER (WHERE n.ping IS NOT NULL)
  FROM new_leads AS n
  GROUP BY 1, 2, 3, 4;
  RETURN NULL;
END;
$$;

-- What was recorded before: the same figures as the statements that record them now (pings.ts), appended
-- as deltas for the fold. Pings recorded so far have no geo or channel (''). A lead posted against a ping is
-- newer than the oldest ping (the index on created_at, not a scan of every lead). Pings a worker of the
-- previous version records after this migration are in the stats, not in the reports.
LOCK TABLE "pings", "ping_bids" IN SHARE MODE;
-- A lead's own auction (a lead posted without a ping to an auction route) was recorded in pings too, under the
-- lead's id, and counted as its source's ping: it is no source's ping (its buyers' answers stay in ping_bids).
DELETE FROM pings AS p USING leads AS l WHERE l.id = p.id;
INSERT INTO report_deltas (at, source_id, pings, bids, bid_total)
SELECT date_trunc('hour', created_at, 'UTC'), source_id, count(*), count(*) FILTER (WHERE status = 'bid'),
       coalesce(sum(source_bid) FILTER (WHERE status = 'bid'), 0)
FROM pings
GROUP BY 1, 2;
INSERT INTO report_deltas (at, source_id, partner_id, geo, channel, pings, bids, wins, bid_total)
SELECT date_trunc('hour', b.created_at, 'UTC'), coalesce(l.source_id, p.source_id), b.partner_id,
       coalesce(l.geo, ''), coalesce(l.sub_source, ''), count(*), count(*) FILTER (WHERE b.outcome = 'bid'),
       count(*) FILTER (WHERE b.rank = 1), coalesce(sum(b.bid) FILTER (WHERE b.outcome = 'bid'), 0)
FROM ping_bids AS b
LEFT JOIN leads AS l ON l.id = b.ping_id
LEFT JOIN pings AS p ON p.id = b.ping_id
WHERE coalesce(l.source_id, p.source_id) IS NOT NULL
GROUP BY 1, 2, 3, 4, 5;
INSERT INTO report_deltas (at, source_id, geo, channel, wins)
SELECT date_trunc('hour', created_at, 'UTC'), source_id, coalesce(geo, ''), coalesce(sub_source, ''), count(*)
FROM leads
WHERE ping IS NOT NULL AND created_at >= (SELECT coalesce(min(created_at), 'infinity') FROM pings)
GROUP BY 1, 2, 3, 4;
