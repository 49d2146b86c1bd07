-- Ping/post for sources (ADR 0032). (The snapshot had kept the indexes 20261202140000 dropped: not dropped again.)

-- AlterTable
ALTER TABLE "leads" ADD COLUMN     "ping" JSONB;

-- CreateTable
CREATE TABLE "pings" (
    "id" UUID NOT NULL,
    "source_id" UUID NOT NULL,
    "route_id" UUID,
    "status" VARCHAR(10) NOT NULL,
    "best_bid" DECIMAL(12,4),
    "source_bid" DECIMAL(12,4),
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "pings_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ping_bids" (
    "ping_id" UUID NOT NULL,
    "partner_id" UUID NOT NULL,
    "outcome" VARCHAR(10) NOT NULL,
    "bid" DECIMAL(12,4),
    "rank" INTEGER,
    "duration_ms" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ping_bids_pkey" PRIMARY KEY ("ping_id","partner_id")
);

-- CreateIndex
CREATE INDEX "pings_created_at_idx" ON "pings"("created_at");

-- CreateIndex
CREATE INDEX "pings_source_id_created_at_idx" ON "pings"("source_id", "created_at");

-- CreateIndex
CREATE INDEX "ping_bids_partner_id_created_at_idx" ON "ping_bids"("partner_id", "created_at");

-- CreateIndex
CREATE INDEX "ping_bids_created_at_idx" ON "ping_bids"("created_at");
