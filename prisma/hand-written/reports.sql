-- Hand-written: the lead figures of the report rollups (docs/decisions/0028-reports.md). The ledger appends
-- its money and the partners' events to report_deltas too (money.sql); the figures of
-- leads are appended to report_deltas by the triggers below, in the transaction of the change, and
-- report_fold() moves them into the rollups. Appending takes no lock another transaction waits for, so
-- the ingest's group commit (many leads of many sources in one transaction, the others in flight beside
-- it) neither waits for a hot rollup row nor deadlocks on two; the fold adds a batch in key order.

-- Which of a report's lead outcomes a status counts in: sold (also once converted or returned: it was
-- sold), unsold, unmatched, dead_lettered; none while the lead is on its way (queued, routing).
CREATE FUNCTION report_lead_outcome(status "LeadStatus") RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE status
    WHEN 'delivered' THEN 'sold'
    WHEN 'converted' THEN 'sold'
    WHEN 'returned' THEN 'sold'
    WHEN 'unsold' THEN 'unsold'
    WHEN 'unmatched' THEN 'unmatched'
    WHEN 'dead_lettered' THEN 'dead_lettered'
  END
$$;

-- A lead counts on the row of the hour it arrived (its source, geo and channel): one lead, accepted,
-- and one in its outcome once it has one. A lead is inserted `queued`; the outcome is counted here too
-- so a lead inserted in another status (a restore, a test) is counted as it is. A lead posted against
-- a source's ping (`ping` set) is one `wins` of that row: the source's pings that were posted (ADR 0032).
CREATE FUNCTION leads_report_insert() RETURNS trigger
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

CREATE TRIGGER leads_report_insert
AFTER INSERT ON leads
REFERENCING NEW TABLE AS new_leads
FOR EACH STATEMENT EXECUTE FUNCTION leads_report_insert();

-- A lead whose outcome changed (routing -> sold, dead_lettered -> routing when an operator retries it,
-- ...) or whose row keys changed moves: its old contribution is taken off its old row and its new one
-- added to its new row, so the rollups always count each lead once, in its outcome of now, at its
-- arrival. Updates that change neither (routing -> its offer's record, queued -> routing, converted <->
-- delivered) add nothing and return at once. A row trigger without transition tables and without a
-- WHEN (docs/performance.md, "The reports' trigger on leads' updates"): the worker updates one lead
-- per statement, twice a lead, and only the second changes its outcome. A statement trigger built its
-- transition tables and an aggregate over their join on both, inserting nothing on the first; a WHEN
-- is parsed and planned again for every statement, which cost more than the call it saves.
CREATE FUNCTION leads_report_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  was text := report_lead_outcome(OLD.status);
  is_now text := report_lead_outcome(NEW.status);
BEGIN
  IF (OLD.created_at, OLD.source_id, OLD.geo, OLD.sub_source)
     IS NOT DISTINCT FROM (NEW.created_at, NEW.source_id, NEW.geo, NEW.sub_source) THEN
    IF was IS NOT DISTINCT FROM is_now THEN
      RETURN NULL;
    END IF;
    INSERT INTO report_deltas (at, source_id, geo, channel, leads, accepted, sold, unsold, unmatched, dead_lettered)
    VALUES (date_trunc('hour', NEW.created_at, 'UTC'), NEW.source_id, coalesce(NEW.geo, ''), coalesce(NEW.sub_source, ''),
            0, 0,
            (is_now IS NOT DISTINCT FROM 'sold')::int - (was IS NOT DISTINCT FROM 'sold')::int,
            (is_now IS NOT DISTINCT FROM 'unsold')::int - (was IS NOT DISTINCT FROM 'unsold')::int,
            (is_now IS NOT DISTINCT FROM 'unmatched')::int - (was IS NOT DISTINCT FROM 'unmatched')::int,
            (is_now IS NOT DISTINCT FROM 'dead_lettered')::int - (was IS NOT DISTINCT FROM 'dead_lettered')::int);
  ELSE
    INSERT INTO report_deltas (at, source_id, geo, channel, leads, accepted, sold, unsold, unmatched, dead_lettered)
    VALUES (date_trunc('hour', OLD.created_at, 'UTC'), OLD.source_id, coalesce(OLD.geo, ''), coalesce(OLD.sub_source, ''),
            -1, -1,
            -(was IS NOT DISTINCT FROM 'sold')::int, -(was IS NOT DISTINCT FROM 'unsold')::int,
            -(was IS NOT DISTINCT FROM 'unmatched')::int, -(was IS NOT DISTINCT FROM 'dead_lettered')::int),
           (date_trunc('hour', NEW.created_at, 'UTC'), NEW.source_id, coalesce(NEW.geo, ''), coalesce(NEW.sub_source, ''),
            1, 1,
            (is_now IS NOT DISTINCT FROM 'sold')::int, (is_now IS NOT DISTINCT FROM 'unsold')::int,
            (is_now IS NOT DISTINCT FROM 'unmatched')::int, (is_now IS NOT DISTINCT FROM 'dead_lettered')::int);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER leads_report_update
AFTER UPDATE ON leads
FOR EACH ROW EXECUTE FUNCTION leads_report_update();

-- A source's post that was not accepted counts as a lead when it was one: a duplicate (409) or a lead
-- that failed validation (422 `invalid`); a duplicate also in `duplicates`, with the posted lead's geo
-- and channel. Requests refused before a lead was read (401, 413, 415, 429, malformed JSON) are not leads.
CREATE FUNCTION ingest_rejections_report() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO report_deltas (at, source_id, geo, channel, leads, duplicates)
  SELECT date_trunc('hour', r.at, 'UTC'), r.source_id, coalesce(r.geo, ''), coalesce(r.channel, ''),
         sum(r.count), coalesce(sum(r.count) FILTER (WHERE r.reason = 'duplicate'), 0)
  FROM new_rejections AS r
  WHERE r.source_id IS NOT NULL AND r.reason IN ('duplicate', 'invalid')
  GROUP BY 1, 2, 3, 4;
  RETURN NULL;
END;
$$;

CREATE TRIGGER ingest_rejections_report
AFTER INSERT ON ingest_rejections
REFERENCING NEW TABLE AS new_rejections
FOR EACH STATEMENT EXECUTE FUNCTION ingest_rejections_report();

-- Moves up to `max_rows` of the oldest deltas into the rollups, in one transaction (the deltas deleted
-- and their sums added together, so a report, which reads both in one snapshot, never sees a figure
-- twice or not at all); rows another fold holds are skipped. Returns how many deltas it moved.
-- Planned without sequential scans and hash or merge joins, as ledger_entries_rollup()
-- (money.sql) is: a plan made on an empty queue would otherwise read every pending delta
-- on each later fold.
CREATE FUNCTION report_fold(max_rows integer) RETURNS integer
LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
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
