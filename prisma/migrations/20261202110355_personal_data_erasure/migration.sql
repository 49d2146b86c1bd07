-- AlterTable
ALTER TABLE "leads" ADD COLUMN     "personal_data_erased_at" TIMESTAMPTZ(3),
ALTER COLUMN "name" DROP NOT NULL,
ALTER COLUMN "phone" DROP NOT NULL;

-- CreateTable
CREATE TABLE "erased_contacts" (
    "digest" BYTEA NOT NULL,
    "lead_id" UUID NOT NULL,
    "source_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "erased_contacts_pkey" PRIMARY KEY ("digest","lead_id")
);

-- CreateTable
CREATE TABLE "contact_digest_key" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "key" BYTEA NOT NULL,

    CONSTRAINT "contact_digest_key_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "erased_contacts_created_at_idx" ON "erased_contacts"("created_at");

-- The digest key: random, made once here (gen_random_uuid() is core PostgreSQL: 2 x 122 random bits).
INSERT INTO "contact_digest_key" ("id", "key")
VALUES (1, decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

-- prisma/hand-written/personal-data.sql (ADR 0031)
CREATE INDEX "leads_personal_data_kept_idx" ON "leads" ("created_at") WHERE "personal_data_erased_at" IS NULL;

-- The keyed digest of a contact (kind 'phone' with an E.164 number, 'email' with a lower-case
-- address) that the duplicate check compares with the digests of erased leads. The key is the
-- one row of contact_digest_key, made at random by the migration: a digest cannot be tested
-- against guessed numbers without the database's own key. NULL for a NULL value.
CREATE FUNCTION contact_digest(kind text, value text) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT sha256(k.key || convert_to(kind || ':' || value, 'UTF8')) FROM contact_digest_key k WHERE k.id = 1
$$;

-- What of a lead's data could be echoed in free text (a partner's answer, reason or status, an
-- error): its email and the email's local part, its phone in E.164, as digits, and as digits
-- without a country code of one to three digits (seven digits or more), its name and each word
-- of it (three characters or more), and its custom fields' string and number values (four or
-- more). Longest first, so a whole phone goes before the digits inside it.
CREATE FUNCTION personal_data_needles(name text, phone text, email text, fields jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(n ORDER BY length(n) DESC, n), '{}')
  FROM (
    SELECT DISTINCT n FROM (
      SELECT email AS n, 1 AS min
      UNION ALL SELECT split_part(email, '@', 1), 4
      UNION ALL SELECT phone, 7
      UNION ALL SELECT substr(phone, s), 7 FROM generate_series(2, 5) AS s WHERE phone LIKE '+%'
      UNION ALL SELECT btrim(name), 3
      UNION ALL SELECT w, 3 FROM regexp_split_to_table(name, '\s+') AS w
      UNION ALL SELECT v #>> '{}', 4 FROM jsonb_each(CASE jsonb_typeof(fields) WHEN 'object' THEN fields END) AS f (k, v)
        WHERE jsonb_typeof(v) IN ('string', 'number')
    ) AS c
    WHERE n IS NOT NULL AND length(n) >= min
  ) AS d
$$;

-- `t` with every needle replaced by '[erased]', ignoring case. The caller cuts the result to
-- its column's length ('[erased]' may be longer than what it replaces).
CREATE FUNCTION erase_text(t text, needles text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  needle text;
BEGIN
  IF t IS NULL OR needles IS NULL THEN
    RETURN t;
  END IF;
  FOREACH needle IN ARRAY needles LOOP
    -- ***= : the rest of the pattern is a literal string.
    t := regexp_replace(t, '***=' || needle, '[erased]', 'gi');
  END LOOP;
  RETURN t;
END;
$$;

-- A JSON document with erase_text applied to every string in it (keys are left: they are names,
-- not data); a number with a needle in it becomes the string '[erased]'.
CREATE FUNCTION erase_jsonb(doc jsonb, needles text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  CASE jsonb_typeof(doc)
    WHEN 'string' THEN
      RETURN to_jsonb(erase_text(doc #>> '{}', needles));
    WHEN 'number' THEN
      RETURN CASE WHEN erase_text(doc::text, needles) = doc::text THEN doc ELSE to_jsonb('[erased]'::text) END;
    WHEN 'object' THEN
      RETURN (SELECT coalesce(jsonb_object_agg(e.k, erase_jsonb(e.v, needles)), '{}'::jsonb) FROM jsonb_each(doc) AS e (k, v));
    WHEN 'array' THEN
      RETURN (SELECT coalesce(jsonb_agg(erase_jsonb(a.v, needles) ORDER BY a.i), '[]'::jsonb)
              FROM jsonb_array_elements(doc) WITH ORDINALITY AS a (v, i));
    ELSE
      RETURN doc;
  END CASE;
END;
$$;
