-- Hand-written: what schema.prisma cannot describe (docs/decisions/0023-money-model.md).
-- The migrations create these objects; the drift test (packages/db/src/migrations.test.ts)
-- applies every prisma/hand-written/*.sql after schema.prisma's own SQL and expects the
-- same schema, so a migration that changes one of them changes this file too.

-- The ledger is append-only: a correction is a new entry, never an edit. Any UPDATE,
-- DELETE or TRUNCATE statement on it fails, whatever rows it would touch, with one narrow
-- exception (docs/decisions/0035-postgresql-growth.md, Decision 5): the backfill of
-- `lead_created_at` in the entries written before that column existed. Its statements set
-- `leadrouter.ledger_backfill` to `lead_created_at` for their transaction, and each row they
-- update may only go from no `lead_created_at` to its lead's created_at, every other column
-- unchanged (`ledger_entries_backfill_only`); an entry's money is never touched.
CREATE FUNCTION ledger_entries_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND current_setting('leadrouter.ledger_backfill', true) = 'lead_created_at' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'ledger entries are immutable: % refused (record a new entry instead)', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE FUNCTION ledger_entries_backfill_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.lead_created_at IS NULL
     AND NEW.lead_created_at = (SELECT l.created_at FROM leads l WHERE l.id = NEW.lead_id)
     AND to_jsonb(NEW) - 'lead_created_at' = to_jsonb(OLD) - 'lead_created_at' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'ledger entries are immutable: UPDATE refused (record a new entry instead)'
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER ledger_entries_immutable
BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_entries
FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_refuse_change();

CREATE TRIGGER ledger_entries_backfill_only
BEFORE UPDATE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION ledger_entries_backfill_only();

-- Adds deltas to the report rollups: each to its UTC day's row (source, partner, geo,
-- channel) and its UTC hour's row (source, partner). `deltas` is a JSON array of
-- {"at", "source_id", "partner_id"?, "geo"?, "channel"?, "<figure>": <delta>, ...}: a missing
-- partner is the nil uuid (what belongs to no partner), a missing geo or channel '', a
-- missing figure 0; amounts as JSON numbers or decimal strings, both read exactly.
-- Set-based, and in two passes (every day row in key order, then every hour row), so
-- transactions adding to the same rows lock them in one order and cannot deadlock on them.
CREATE FUNCTION report_rollup_add(deltas jsonb) RETURNS void
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

-- The ledger keeps the rollups' money and the partners' sold/converted/returned/reversed
-- counts: every entry actually inserted is added once, in the inserting transaction (an
-- INSERT ... ON CONFLICT DO NOTHING that skips a repeat inserts, and adds, nothing).
-- Partner entries are revenue on that partner's row; source entries are cost on the row
-- of the partner whose sale they belong to (the nil partner when none); each partner
-- entry of a sale, conversion, return or reversal counts one event on its partner's row.
-- They are appended to report_deltas (reports.sql: report_fold() adds them to the
-- rollups), as the leads' figures are: adding to report_daily/report_hourly here made
-- every sale and feedback event of a partner wait for the one before it to commit, on
-- the same two rollup rows (docs/performance.md, "Partner feedback").
-- Its join has no parameters, so PL/pgSQL plans it once per connection and keeps the plan
-- until the tables' statistics change: planned while leads and deliveries were near empty
-- it would scan both on every later insert, at any size (docs/performance.md, "Where
-- PostgreSQL's time goes"). Without sequential scans and hash or merge joins the plan is
-- the key look-ups per inserted entry that are right at every size
-- (test/money/trigger-plans.test.ts).
CREATE FUNCTION ledger_entries_rollup() RETURNS trigger
LANGUAGE plpgsql
SET enable_seqscan = off SET enable_hashjoin = off SET enable_mergejoin = off
AS $$
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

CREATE TRIGGER ledger_entries_rollup
AFTER INSERT ON ledger_entries
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_rollup();
