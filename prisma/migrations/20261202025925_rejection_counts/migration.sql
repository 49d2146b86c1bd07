-- AlterTable
ALTER TABLE "ingest_rejections" ADD COLUMN     "count" INTEGER NOT NULL DEFAULT 1;
