-- CreateTable
CREATE TABLE "idempotency_keys" (
    "source_id" UUID NOT NULL,
    "key" VARCHAR(200) NOT NULL,
    "lead_id" UUID NOT NULL,
    "lead_created_at" TIMESTAMPTZ(3) NOT NULL,
    "request_hash" CHAR(64) NOT NULL,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("source_id","key")
);

-- CreateIndex
CREATE INDEX "idempotency_keys_lead_created_at_idx" ON "idempotency_keys"("lead_created_at");

-- CreateIndex
CREATE INDEX "idempotency_keys_lead_id_idx" ON "idempotency_keys"("lead_id");

-- The keys still in their replay window (24 h, IDEMPOTENCY_WINDOW_HOURS) move from `leads`, which holds
-- them no more (ADR 0035 Decision 5); an older key would be released on reuse anyway. A lead recorded by
-- a process still running the code of before, after this copy, keeps its key in `leads` only: restart
-- the ingest processes with this version right after the migration (a retry of such a lead within its
-- window would be recorded as a new lead).
INSERT INTO "idempotency_keys" ("source_id", "key", "lead_id", "lead_created_at", "request_hash")
SELECT "source_id", "idempotency_key", "id", "created_at", "request_hash" FROM "leads"
WHERE "idempotency_key" IS NOT NULL AND "request_hash" IS NOT NULL AND "created_at" > now() - interval '24 hours';
