-- The leads' report trigger on updates as a row trigger that returns at once when no figure changes (the same as
-- prisma/hand-written/reports.sql; docs/performance.md, "The reports' trigger on leads' updates"). The statement
-- trigger built its transition tables and an aggregate over their join on every update of a lead, the worker's
-- route update too, which changes no figure. One transaction: the old trigger is dropped and the new one made
-- under the same lock on leads, so no update is counted twice or missed.
DROP TRIGGER leads_report_update ON leads;

CREATE OR REPLACE FUNCTION leads_report_update() RETURNS trigger
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
