-- Hand-written: a child row's `lead_created_at` (docs/decisions/0035-postgresql-growth.md, Decision 5).
-- The migrations create these objects; the drift test (packages/db/src/migrations.test.ts) applies
-- every prisma/hand-written/*.sql after schema.prisma's own SQL and expects the same schema.
--
-- Every table that belongs to a lead holds the lead's created_at, the key its monthly partition will be
-- chosen by. The hot statements (the accept's `queued` event, the worker's advance step) write it; a
-- statement that leaves it out gets it here, from the lead (an attempt: from its delivery's lead), before
-- the row is written. Only while the tables are not partitioned: a partitioned table routes a row by its
-- key before any trigger of the partition runs, so before the switch every statement writes it itself.
-- lead_events and delivery_attempts are partitioned (partitions.sql; ADR 0035 Decision 7): no trigger fills theirs.

CREATE FUNCTION fill_lead_created_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  SELECT l.created_at INTO NEW.lead_created_at FROM leads l WHERE l.id = NEW.lead_id;
  RETURN NEW;
END;
$$;

CREATE TRIGGER deliveries_lead_created_at BEFORE INSERT ON deliveries
FOR EACH ROW WHEN (NEW.lead_created_at IS NULL) EXECUTE FUNCTION fill_lead_created_at();
CREATE TRIGGER postbacks_lead_created_at BEFORE INSERT ON postbacks
FOR EACH ROW WHEN (NEW.lead_created_at IS NULL) EXECUTE FUNCTION fill_lead_created_at();
CREATE TRIGGER ledger_entries_lead_created_at BEFORE INSERT ON ledger_entries
FOR EACH ROW WHEN (NEW.lead_created_at IS NULL) EXECUTE FUNCTION fill_lead_created_at();
CREATE TRIGGER feedback_events_lead_created_at BEFORE INSERT ON feedback_events
FOR EACH ROW WHEN (NEW.lead_created_at IS NULL) EXECUTE FUNCTION fill_lead_created_at();
CREATE TRIGGER returns_lead_created_at BEFORE INSERT ON returns
FOR EACH ROW WHEN (NEW.lead_created_at IS NULL) EXECUTE FUNCTION fill_lead_created_at();

-- The backfill of the rows written before the column existed, one batch: the next `batch` rows of
-- `child` by primary key after `after` (its id as text; NULL: from the start), those of them without
-- `lead_created_at` given their lead's. Returns how many it filled and the last id walked (NULL: the
-- table's end). New rows always have it, so a walk that passed an id never needs to come back. For the
-- ledger, under its narrow exception (money.sql: `leadrouter.ledger_backfill` for this transaction).
CREATE FUNCTION backfill_lead_created_at(child regclass, after text, batch int, OUT filled int, OUT last text)
LANGUAGE plpgsql AS $$
DECLARE
  id_type text := (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                   WHERE a.attrelid = child AND a.attname = 'id');
  lead_of text := CASE WHEN child = 'delivery_attempts'::regclass
                  THEN 'deliveries d, leads l WHERE d.id = c.delivery_id AND l.id = d.lead_id'
                  ELSE 'leads l WHERE l.id = c.lead_id' END;
BEGIN
  IF child = 'ledger_entries'::regclass THEN
    PERFORM set_config('leadrouter.ledger_backfill', 'lead_created_at', true);
  END IF;
  EXECUTE format(
    'WITH walked AS (SELECT id FROM %1$s %2$s ORDER BY id LIMIT $2),
     filled AS (
       UPDATE %1$s c SET lead_created_at = l.created_at FROM walked w, %3$s
         AND c.id = w.id AND c.lead_created_at IS NULL
       RETURNING 1)
     SELECT (SELECT count(*) FROM filled)::int, (SELECT id::text FROM walked ORDER BY id DESC LIMIT 1)',
    child, CASE WHEN after IS NULL THEN '' ELSE format('WHERE id > $1::%s', id_type) END, lead_of)
  INTO filled, last USING after, batch;
  IF child = 'ledger_entries'::regclass THEN
    PERFORM set_config('leadrouter.ledger_backfill', '', true);
  END IF;
END;
$$;
