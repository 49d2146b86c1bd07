-- Hand-written: what schema.prisma cannot describe of the ids (docs/decisions/0035-postgresql-growth.md).
-- The migrations create these objects; the drift test (packages/db/src/migrations.test.ts) applies
-- every prisma/hand-written/*.sql after schema.prisma's own SQL and expects the same schema.

-- A time-ordered id (RFC 9562 UUID version 7) for the rows the statements insert themselves
-- (leads, ledger entries, postbacks); the worker makes the deliveries' ids with the npm package
-- uuidv7, the same layout. The first 48 bits are the Unix time in milliseconds, the rest is
-- gen_random_uuid()'s randomness with the version set to 7 (its variant bits are already RFC
-- 9562's): new rows land at the right end of the primary key's index instead of on a random page.
-- PostgreSQL 18 has its own uuidv7(): pg_catalog comes first on every search_path, so there the
-- built-in is the one called, this function stays unused, and nothing needs to change.
CREATE FUNCTION uuidv7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;
