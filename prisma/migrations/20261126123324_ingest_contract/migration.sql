-- AlterTable
ALTER TABLE "leads" ADD COLUMN     "request_hash" CHAR(64);

-- CreateTable
CREATE TABLE "ingest_rejections" (
    "id" BIGSERIAL NOT NULL,
    "source_id" UUID,
    "http_status" INTEGER NOT NULL,
    "reason" VARCHAR(50) NOT NULL,
    "errors" JSONB,
    "lead_id" UUID,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ingest_rejections_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ingest_rejections_at_idx" ON "ingest_rejections"("at");

-- CreateIndex
CREATE INDEX "ingest_rejections_source_id_at_idx" ON "ingest_rejections"("source_id", "at");

-- AddForeignKey
ALTER TABLE "ingest_rejections" ADD CONSTRAINT "ingest_rejections_source_id_fkey" FOREIGN KEY ("source_id") REFERENCES "sources"("id") ON DELETE CASCADE ON UPDATE CASCADE;
