-- CreateEnum
CREATE TYPE "PostbackStatus" AS ENUM ('pending', 'delivered', 'failed');

-- AlterTable
ALTER TABLE "partners" ADD COLUMN     "response_map" JSONB;

-- AlterTable
ALTER TABLE "deliveries" ADD COLUMN     "attempts_base" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "dead_lettered_at" TIMESTAMPTZ(3),
ADD COLUMN     "reason" VARCHAR(500),
ADD COLUMN     "reference" VARCHAR(200),
ADD COLUMN     "retries" INTEGER NOT NULL DEFAULT 0;

-- CreateTable
CREATE TABLE "postbacks" (
    "id" UUID NOT NULL,
    "lead_id" UUID NOT NULL,
    "source_id" UUID NOT NULL,
    "lead_status" "LeadStatus" NOT NULL,
    "status" "PostbackStatus" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "last_error" VARCHAR(1000),
    "http_status" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "postbacks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "postbacks_status_next_attempt_at_idx" ON "postbacks"("status", "next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "postbacks_lead_id_lead_status_key" ON "postbacks"("lead_id", "lead_status");

-- CreateIndex
CREATE INDEX "leads_status_created_at_idx" ON "leads"("status", "created_at");

-- CreateIndex
CREATE INDEX "deliveries_status_dead_lettered_at_idx" ON "deliveries"("status", "dead_lettered_at");

-- CreateIndex
CREATE INDEX "deliveries_partner_id_created_at_idx" ON "deliveries"("partner_id", "created_at");

-- AddForeignKey
ALTER TABLE "postbacks" ADD CONSTRAINT "postbacks_lead_id_fkey" FOREIGN KEY ("lead_id") REFERENCES "leads"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "postbacks" ADD CONSTRAINT "postbacks_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE CASCADE ON UPDATE CASCADE;
