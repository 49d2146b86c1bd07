-- AlterTable
ALTER TABLE "deliveries" ADD COLUMN     "cap_amount" DECIMAL(12,4);
