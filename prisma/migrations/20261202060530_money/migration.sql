-- CreateEnum
CREATE TYPE "PayoutModel" AS ENUM ('cpl', 'cpa', 'revshare');

-- CreateEnum
CREATE TYPE "LedgerParty" AS ENUM ('partner', 'source');

-- CreateEnum
CREATE TYPE "LedgerKind" AS ENUM ('sale', 'conversion', 'return', 'reversal', 'adjustment');

-- CreateEnum
CREATE TYPE "FeedbackEventKind" AS ENUM ('converted', 'returned', 'reversed', 'status');

-- CreateEnum
CREATE TYPE "FeedbackVia" AS ENUM ('push', 'pull', 'operator');

-- CreateEnum
CREATE TYPE "ReturnStatus" AS ENUM ('pending', 'approved', 'rejected');

-- CreateEnum
CREATE TYPE "CapPeriod" AS ENUM ('hour', 'day', 'week', 'month');

-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "LeadStatus" ADD VALUE 'converted';
ALTER TYPE "LeadStatus" ADD VALUE 'returned';

-- AlterTable
ALTER TABLE "sources" ADD COLUMN     "clawback" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "payout_amount" DECIMAL(12,4),
ADD COLUMN     "payout_geo" JSONB,
ADD COLUMN     "payout_model" "PayoutModel",
ADD COLUMN     "payout_percent" DECIMAL(7,4);

-- AlterTable
ALTER TABLE "partners" ADD COLUMN     "cap_daily_budget" DECIMAL(12,4),
ADD COLUMN     "cap_monthly" INTEGER,
ADD COLUMN     "cap_monthly_budget" DECIMAL(14,4),
ADD COLUMN     "cap_weekly" INTEGER,
ADD COLUMN     "conversion_price" DECIMAL(12,4),
ADD COLUMN     "feedback_key_hash" CHAR(64),
ADD COLUMN     "feedback_key_prefix" VARCHAR(16),
ADD COLUMN     "returns_auto_approve" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "returns_window_days" INTEGER NOT NULL DEFAULT 30,
ADD COLUMN     "status_map" JSONB,
ADD COLUMN     "status_pull" JSONB,
ADD COLUMN     "status_pull_cursor" JSONB,
ADD COLUMN     "status_pull_due_at" TIMESTAMPTZ(3),
ADD COLUMN     "status_pull_error" VARCHAR(1000),
ADD COLUMN     "status_pull_last_run_at" TIMESTAMPTZ(3),
ADD COLUMN     "status_pull_ok" BOOLEAN,
ADD COLUMN     "status_pull_updated" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "deliveries" ADD COLUMN     "partner_status" VARCHAR(200),
ADD COLUMN     "partner_status_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "lead_id" UUID NOT NULL,
    "party" "LedgerParty" NOT NULL,
    "party_id" UUID NOT NULL,
    "kind" "LedgerKind" NOT NULL,
    "amount" DECIMAL(12,4) NOT NULL,
    "delivery_id" UUID,
    "event_id" UUID NOT NULL,
    "note" VARCHAR(500),
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "feedback_events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "partner_id" UUID NOT NULL,
    "lead_id" UUID NOT NULL,
    "delivery_id" UUID NOT NULL,
    "event" "FeedbackEventKind" NOT NULL,
    "status" VARCHAR(200),
    "outcome" VARCHAR(50) NOT NULL,
    "amount" DECIMAL(12,4),
    "reason" VARCHAR(500),
    "event_id" VARCHAR(200),
    "via" "FeedbackVia" NOT NULL DEFAULT 'push',
    "at" TIMESTAMPTZ(3) NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "feedback_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "returns" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "lead_id" UUID NOT NULL,
    "delivery_id" UUID NOT NULL,
    "partner_id" UUID NOT NULL,
    "status" "ReturnStatus" NOT NULL DEFAULT 'pending',
    "reason" VARCHAR(500) NOT NULL,
    "filed_via" "FeedbackVia" NOT NULL,
    "decided_by" VARCHAR(200),
    "decided_at" TIMESTAMPTZ(3),
    "decision_reason" VARCHAR(500),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "returns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cap_counters" (
    "partner_id" UUID NOT NULL,
    "period" "CapPeriod" NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,
    "amount" DECIMAL(14,4) NOT NULL DEFAULT 0,

    CONSTRAINT "cap_counters_pkey" PRIMARY KEY ("partner_id","period","period_start")
);

-- CreateTable
CREATE TABLE "report_daily" (
    "day" DATE NOT NULL,
    "source_id" UUID NOT NULL,
    "partner_id" UUID NOT NULL,
    "geo" VARCHAR(2) NOT NULL,
    "channel" VARCHAR(100) NOT NULL,
    "leads" INTEGER NOT NULL DEFAULT 0,
    "accepted" INTEGER NOT NULL DEFAULT 0,
    "duplicates" INTEGER NOT NULL DEFAULT 0,
    "sold" INTEGER NOT NULL DEFAULT 0,
    "unsold" INTEGER NOT NULL DEFAULT 0,
    "unmatched" INTEGER NOT NULL DEFAULT 0,
    "dead_lettered" INTEGER NOT NULL DEFAULT 0,
    "converted" INTEGER NOT NULL DEFAULT 0,
    "returned" INTEGER NOT NULL DEFAULT 0,
    "reversed" INTEGER NOT NULL DEFAULT 0,
    "pings" INTEGER NOT NULL DEFAULT 0,
    "bids" INTEGER NOT NULL DEFAULT 0,
    "wins" INTEGER NOT NULL DEFAULT 0,
    "revenue" DECIMAL(18,4) NOT NULL DEFAULT 0,
    "cost" DECIMAL(18,4) NOT NULL DEFAULT 0,

    CONSTRAINT "report_daily_pkey" PRIMARY KEY ("day","source_id","partner_id","geo","channel")
);

-- CreateTable
CREATE TABLE "report_hourly" (
    "hour" TIMESTAMPTZ(0) NOT NULL,
    "source_id" UUID NOT NULL,
    "partner_id" UUID NOT NULL,
    "leads" INTEGER NOT NULL DEFAULT 0,
    "accepted" INTEGER NOT NULL DEFAULT 0,
    "duplicates" INTEGER NOT NULL DEFAULT 0,
    "sold" INTEGER NOT NULL DEFAULT 0,
    "unsold" INTEGER NOT NULL DEFAULT 0,
    "unmatched" INTEGER NOT NULL DEFAULT 0,
    "dead_lettered" INTEGER NOT NULL DEFAULT 0,
    "converted" INTEGER NOT NULL DEFAULT 0,
    "returned" INTEGER NOT NULL DEFAULT 0,
    "reversed" INTEGER NOT NULL DEFAULT 0,
    "pings" INTEGER NOT NULL DEFAULT 0,
    "bids" INTEGER NOT NULL DEFAULT 0,
    "wins" INTEGER NOT NULL DEFAULT 0,
    "revenue" DECIMAL(18,4) NOT NULL DEFAULT 0,
    "cost" DECIMAL(18,4) NOT NULL DEFAULT 0,

    CONSTRAINT "report_hourly_pkey" PRIMARY KEY ("hour","source_id","partner_id")
);

-- CreateIndex
CREATE INDEX "ledger_entries_lead_id_at_idx" ON "ledger_entries"("lead_id", "at");

-- CreateIndex
CREATE INDEX "ledger_entries_delivery_id_idx" ON "ledger_entries"("delivery_id");

-- CreateIndex
CREATE INDEX "ledger_entries_party_id_at_idx" ON "ledger_entries"("party_id", "at");

-- CreateIndex
CREATE UNIQUE INDEX "ledger_entries_kind_event_id_party_key" ON "ledger_entries"("kind", "event_id", "party");

-- CreateIndex
CREATE INDEX "feedback_events_delivery_id_received_at_idx" ON "feedback_events"("delivery_id", "received_at");

-- CreateIndex
CREATE INDEX "feedback_events_lead_id_idx" ON "feedback_events"("lead_id");

-- CreateIndex
CREATE UNIQUE INDEX "feedback_events_partner_id_event_id_key" ON "feedback_events"("partner_id", "event_id");

-- CreateIndex
CREATE UNIQUE INDEX "returns_delivery_id_key" ON "returns"("delivery_id");

-- CreateIndex
CREATE INDEX "returns_status_created_at_idx" ON "returns"("status", "created_at");

-- CreateIndex
CREATE INDEX "returns_lead_id_idx" ON "returns"("lead_id");

-- CreateIndex
CREATE INDEX "returns_partner_id_created_at_idx" ON "returns"("partner_id", "created_at");

-- CreateIndex
CREATE INDEX "cap_counters_period_start_idx" ON "cap_counters"("period_start");

-- CreateIndex
CREATE INDEX "report_daily_source_id_day_idx" ON "report_daily"("source_id", "day");

-- CreateIndex
CREATE INDEX "report_daily_partner_id_day_idx" ON "report_daily"("partner_id", "day");

-- CreateIndex
CREATE INDEX "report_hourly_source_id_hour_idx" ON "report_hourly"("source_id", "hour");

-- CreateIndex
CREATE INDEX "report_hourly_partner_id_hour_idx" ON "report_hourly"("partner_id", "hour");

-- CreateIndex
CREATE UNIQUE INDEX "partners_feedback_key_hash_key" ON "partners"("feedback_key_hash");

-- CreateIndex
CREATE INDEX "partners_status_pull_due_at_idx" ON "partners"("status_pull_due_at");

-- CreateIndex
CREATE INDEX "deliveries_partner_id_reference_idx" ON "deliveries"("partner_id", "reference");

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_lead_id_fkey" FOREIGN KEY ("lead_id") REFERENCES "leads"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "feedback_events" ADD CONSTRAINT "feedback_events_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "feedback_events" ADD CONSTRAINT "feedback_events_lead_id_fkey" FOREIGN KEY ("lead_id") REFERENCES "leads"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "feedback_events" ADD CONSTRAINT "feedback_events_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "returns" ADD CONSTRAINT "returns_lead_id_fkey" FOREIGN KEY ("lead_id") REFERENCES "leads"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "returns" ADD CONSTRAINT "returns_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "returns" ADD CONSTRAINT "returns_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cap_counters" ADD CONSTRAINT "cap_counters_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written (prisma/hand-written/money.sql, as of this migration)
-- Hand-written: what schema.prisma cannot describe (docs/decisions/0023-money-model.md).
-- The migrations create these objects; the drift test (packages/db/src/migrations.test.ts)
-- applies every prisma/hand-written/*.sql after schema.prisma's own SQL and expects the
-- same schema, so a migration that changes one of them changes this file too.

-- The ledger is append-only: a correction is a new entry, never an edit. Any UPDATE,
-- DELETE or TRUNCATE statement on it fails, whatever rows it would touch.
CREATE FUNCTION ledger_entries_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger entries are immutable: % refused (record a new entry instead)', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER ledger_entries_immutable
BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_entries
FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_refuse_change();

-- Adds deltas to the report rollups: each to its UTC day's row (source, partner, geo,
-- channel) and its UTC hour's row (source, partner). `deltas` is a JSON array of
-- {"at", "source_id", "partner_id"?, "geo"?, "channel"?, "<figure>": <delta>, ...}: a missing
-- partner is the nil uuid (what belongs to no partner), a missing geo or channel '', a
-- missing figure 0; amounts as JSON numbers or decimal strings, both read exactly.
-- Set-based, and in two passes (every day row in key order, then every hour row), so
-- transactions adding to the same rows lock them in one order and cannot deadlock on them.
CREATE FUNCTION report_rollup_add(deltas jsonb) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO report_daily AS r (day, source_id, partner_id, geo, channel, leads, accepted, duplicates, sold, unsold, unmatched, dead_lettered, converted, returned, reversed, pings, bids, wins, revenue, cost)
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
    revenue = r.revenue + excluded.revenue,
    cost = r.cost + excluded.cost;

  INSERT INTO report_hourly AS r (hour, source_id, partner_id, leads, accepted, duplicates, sold, unsold, unmatched, dead_lettered, converted, returned, reversed, pings, bids, wins, revenue, cost)
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
    revenue = r.revenue + excluded.revenue,
    cost = r.cost + excluded.cost;
$$;

-- The ledger keeps the rollups' money and the partners' sold/converted/returned/reversed
-- counts: every entry actually inserted is added once, in the inserting transaction (an
-- INSERT ... ON CONFLICT DO NOTHING that skips a repeat inserts, and adds, nothing).
-- Partner entries are revenue on that partner's row; source entries are cost on the row
-- of the partner whose sale they belong to (the nil partner when none); each partner
-- entry of a sale, conversion, return or reversal counts one event on its partner's row.
CREATE FUNCTION ledger_entries_rollup() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM report_rollup_add(coalesce(jsonb_agg(jsonb_build_object(
    'at', e.at,
    'source_id', l.source_id,
    'partner_id', CASE WHEN e.party = 'partner' THEN e.party_id ELSE d.partner_id END,
    'geo', l.geo,
    'channel', l.sub_source,
    'sold', CASE WHEN e.party = 'partner' AND e.kind = 'sale' THEN 1 ELSE 0 END,
    'converted', CASE WHEN e.party = 'partner' AND e.kind = 'conversion' THEN 1 ELSE 0 END,
    'returned', CASE WHEN e.party = 'partner' AND e.kind = 'return' THEN 1 ELSE 0 END,
    'reversed', CASE WHEN e.party = 'partner' AND e.kind = 'reversal' THEN 1 ELSE 0 END,
    'revenue', CASE WHEN e.party = 'partner' THEN e.amount ELSE 0 END,
    'cost', CASE WHEN e.party = 'source' THEN e.amount ELSE 0 END
  )), '[]'))
  FROM inserted AS e
  JOIN leads AS l ON l.id = e.lead_id
  LEFT JOIN deliveries AS d ON d.id = e.delivery_id;
  RETURN NULL;
END;
$$;

CREATE TRIGGER ledger_entries_rollup
AFTER INSERT ON ledger_entries
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_rollup();
