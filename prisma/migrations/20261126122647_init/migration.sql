-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "RouteStrategy" AS ENUM ('priority', 'round_robin', 'weighted');

-- CreateEnum
CREATE TYPE "LeadStatus" AS ENUM ('queued', 'routing', 'delivered', 'unsold', 'unmatched', 'dead_lettered');

-- CreateEnum
CREATE TYPE "DeliveryStatus" AS ENUM ('pending', 'accepted', 'rejected', 'dead_lettered');

-- CreateEnum
CREATE TYPE "AttemptOutcome" AS ENUM ('accepted', 'rejected', 'retry', 'failed');

-- CreateTable
CREATE TABLE "sources" (
    "id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "api_key_hash" CHAR(64) NOT NULL,
    "api_key_prefix" VARCHAR(16) NOT NULL,
    "postback_url" VARCHAR(2048),
    "postback_secret" VARCHAR(200),
    "rate_limit_per_minute" INTEGER,
    "duplicate_window_hours" INTEGER NOT NULL DEFAULT 0,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sources_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "partners" (
    "id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "url" VARCHAR(2048) NOT NULL,
    "method" VARCHAR(10) NOT NULL DEFAULT 'POST',
    "headers" JSONB NOT NULL DEFAULT '{}',
    "secret" VARCHAR(200),
    "field_map" JSONB,
    "accept_when" JSONB,
    "timeout_ms" INTEGER NOT NULL DEFAULT 10000,
    "max_attempts" INTEGER NOT NULL DEFAULT 8,
    "backoff_delay_ms" INTEGER NOT NULL DEFAULT 1000,
    "backoff_max_delay_ms" INTEGER NOT NULL DEFAULT 3600000,
    "cap_hourly" INTEGER,
    "cap_daily" INTEGER,
    "schedule" JSONB,
    "filters" JSONB,
    "concurrency" INTEGER,
    "price" DECIMAL(12,4),
    "active" BOOLEAN NOT NULL DEFAULT true,
    "pause_after_failures" INTEGER NOT NULL DEFAULT 20,
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "paused_at" TIMESTAMPTZ(3),
    "pause_reason" VARCHAR(500),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "partners_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "routes" (
    "id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "filters" JSONB,
    "strategy" "RouteStrategy" NOT NULL DEFAULT 'priority',
    "max_deliveries" INTEGER NOT NULL DEFAULT 1,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "routes_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "route_partners" (
    "route_id" UUID NOT NULL,
    "partner_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "weight" INTEGER NOT NULL DEFAULT 1,

    CONSTRAINT "route_partners_pkey" PRIMARY KEY ("route_id","partner_id")
);

-- CreateTable
CREATE TABLE "leads" (
    "id" UUID NOT NULL,
    "source_id" UUID NOT NULL,
    "status" "LeadStatus" NOT NULL DEFAULT 'queued',
    "name" VARCHAR(200) NOT NULL,
    "phone" VARCHAR(20) NOT NULL,
    "email" VARCHAR(320),
    "geo" CHAR(2),
    "sub_source" VARCHAR(100),
    "fields" JSONB NOT NULL DEFAULT '{}',
    "consent" JSONB,
    "idempotency_key" VARCHAR(200),
    "routing" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "leads_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "lead_events" (
    "id" BIGSERIAL NOT NULL,
    "lead_id" UUID NOT NULL,
    "status" "LeadStatus" NOT NULL,
    "partner_id" UUID,
    "detail" JSONB,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "lead_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "deliveries" (
    "id" UUID NOT NULL,
    "lead_id" UUID NOT NULL,
    "partner_id" UUID NOT NULL,
    "status" "DeliveryStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "last_error" VARCHAR(1000),
    "price" DECIMAL(12,4),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "delivery_attempts" (
    "id" BIGSERIAL NOT NULL,
    "delivery_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "outcome" "AttemptOutcome" NOT NULL,
    "http_status" INTEGER,
    "duration_ms" INTEGER NOT NULL,
    "error" VARCHAR(1000),
    "response_excerpt" VARCHAR(2048),
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "delivery_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "sources_name_key" ON "sources"("name");

-- CreateIndex
CREATE UNIQUE INDEX "sources_api_key_hash_key" ON "sources"("api_key_hash");

-- CreateIndex
CREATE UNIQUE INDEX "partners_name_key" ON "partners"("name");

-- CreateIndex
CREATE UNIQUE INDEX "routes_name_key" ON "routes"("name");

-- CreateIndex
CREATE INDEX "routes_active_priority_idx" ON "routes"("active", "priority");

-- CreateIndex
CREATE INDEX "route_partners_partner_id_idx" ON "route_partners"("partner_id");

-- CreateIndex
CREATE INDEX "leads_status_updated_at_idx" ON "leads"("status", "updated_at");

-- CreateIndex
CREATE INDEX "leads_source_id_created_at_idx" ON "leads"("source_id", "created_at");

-- CreateIndex
CREATE INDEX "leads_created_at_idx" ON "leads"("created_at");

-- CreateIndex
CREATE INDEX "leads_phone_created_at_idx" ON "leads"("phone", "created_at");

-- CreateIndex
CREATE INDEX "leads_email_created_at_idx" ON "leads"("email", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "leads_source_id_idempotency_key_key" ON "leads"("source_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "lead_events_lead_id_id_idx" ON "lead_events"("lead_id", "id");

-- CreateIndex
CREATE INDEX "deliveries_status_next_attempt_at_idx" ON "deliveries"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "deliveries_partner_id_status_idx" ON "deliveries"("partner_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "deliveries_lead_id_partner_id_key" ON "deliveries"("lead_id", "partner_id");

-- CreateIndex
CREATE UNIQUE INDEX "delivery_attempts_delivery_id_attempt_key" ON "delivery_attempts"("delivery_id", "attempt");

-- AddForeignKey
ALTER TABLE "route_partners" ADD CONSTRAINT "route_partners_route_id_fkey" FOREIGN KEY ("route_id") REFERENCES "routes"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "route_partners" ADD CONSTRAINT "route_partners_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "leads" ADD CONSTRAINT "leads_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "lead_events" ADD CONSTRAINT "lead_events_lead_id_fkey" FOREIGN KEY ("lead_id") REFERENCES "leads"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_lead_id_fkey" FOREIGN KEY ("lead_id") REFERENCES "leads"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "deliveries" ADD CONSTRAINT "deliveries_partner_id_fkey" FOREIGN KEY ("partner_id") REFERENCES "partners"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "delivery_attempts" ADD CONSTRAINT "delivery_attempts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE;
