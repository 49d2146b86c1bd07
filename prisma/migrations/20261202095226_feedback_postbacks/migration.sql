-- CreateEnum
CREATE TYPE "PostbackEvent" AS ENUM ('converted', 'returned', 'reversed');

-- AlterTable
ALTER TABLE "postbacks" ADD COLUMN     "event" "PostbackEvent",
ADD COLUMN     "event_at" TIMESTAMPTZ(3),
ADD COLUMN     "event_key" UUID,
ADD COLUMN     "payout" DECIMAL(12,4),
ADD COLUMN     "reason" VARCHAR(500),
ALTER COLUMN "lead_status" DROP NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "postbacks_event_event_key_key" ON "postbacks"("event", "event_key");

-- Hand-written: sales recorded before the ledger was written (docs/decisions/0026-feedback-returns-postbacks.md).
-- Every delivery accepted so far gets its partner's `sale` entry, at what it recorded as the price (0 when
-- none), keyed by the delivery as the worker keys it, so feedback about it finds a sale. No source line:
-- no source had a payout before this migration (nothing wrote payout_model).
INSERT INTO "ledger_entries" ("lead_id", "party", "party_id", "kind", "amount", "delivery_id", "event_id", "at", "recorded_at")
SELECT d."lead_id", 'partner', d."partner_id", 'sale', coalesce(d."price", 0), d."id", d."id", d."updated_at", now()
FROM "deliveries" d
WHERE d."status" = 'accepted'
ON CONFLICT ("kind", "event_id", "party") DO NOTHING;
