-- AlterTable
ALTER TABLE "lead_events" ADD COLUMN     "lead_created_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "deliveries" ADD COLUMN     "lead_created_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "delivery_attempts" ADD COLUMN     "lead_created_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "postbacks" ADD COLUMN     "lead_created_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "ledger_entries" ADD COLUMN     "lead_created_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "feedback_events" ADD COLUMN     "lead_created_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "returns" ADD COLUMN     "lead_created_at" TIMESTAMPTZ(3);

-- A child row's lead_created_at, when a statement leaves it out (prisma/hand-written/lead-created-at.sql);
-- the rows of before are filled by the worker's housekeeping in batches.

CREATE FUNCTION fill_lead_created_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  SELECT l.created_at INTO NEW.lead_created_at FROM leads l WHERE l.id = NEW.lead_id;
  RETURN NEW;
END;
$$;

CREATE FUNCTION fill_attempt_lead_created_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  SELECT l.created_at INTO NEW.lead_created_at
  FROM deliveries d JOIN leads l ON l.id = d.lead_id WHERE d.id = NEW.delivery_id;
  RETURN NEW;
END;
$$;

CREATE TRIGGER lead_events_lead_created_at BEFORE INSERT ON lead_events
FOR EACH ROW WHEN (NEW.lead_created_at IS NULL) EXECUTE FUNCTION fill_lead_created_at();
CREATE TRIGGER deliveries_lead_created_at BEFORE INSERT ON deliveries
FOR EACH ROW WHEN (NEW.lead_created_at IS NULL) EXECUTE FUNCTION fill_lead_created_at();
CREATE TRIGGER delivery_attempts_lead_created_at BEFORE INSERT ON delivery_attempts
FOR EACH ROW WHEN (NEW.lead_created_at IS NULL) EXECUTE FUNCTION fill_attempt_lead_created_at();
CREATE TRIGGER postbacks_lead_created_at BEFORE INSERT ON postbacks
FOR EACH ROW WHEN (NEW.lead_created_at IS NULL) EXECUTE FUNCTION fill_lead_created_at();
CREATE TRIGGER ledger_entries_lead_created_at BEFORE INSERT ON ledger_entries
FOR EACH ROW WHEN (NEW.lead_created_at IS NULL) EXECUTE FUNCTION fill_lead_created_at();
CREATE TRIGGER feedback_events_lead_created_at BEFORE INSERT ON feedback_events
FOR EACH ROW WHEN (NEW.lead_created_at IS NULL) EXECUTE FUNCTION fill_lead_created_at();
CREATE TRIGGER returns_lead_created_at BEFORE INSERT ON returns
FOR EACH ROW WHEN (NEW.lead_created_at IS NULL) EXECUTE FUNCTION fill_lead_created_at();

-- The ledger is append-only: a correction is a new entry, never an edit. Any UPDATE,
-- DELETE or TRUNCATE statement on it fails, whatever rows it would touch, with one narrow
-- exception (docs/decisions/0035-postgresql-growth.md, Decision 5): the backfill of
-- `lead_created_at` in the entries written before that column existed. Its statements set
-- `leadrouter.ledger_backfill` to `lead_created_at` for their transaction, and each row they
-- update may only go from no `lead_created_at` to its lead's created_at, every other column
-- unchanged (`ledger_entries_backfill_only`); an entry's money is never touched.
CREATE OR REPLACE FUNCTION ledger_entries_refuse_change() RETURNS trigger
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

CREATE TRIGGER ledger_entries_backfill_only
BEFORE UPDATE ON ledger_entries
FOR EACH ROW EXECUTE FUNCTION ledger_entries_backfill_only();

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
