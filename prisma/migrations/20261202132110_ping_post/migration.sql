-- AlterEnum
ALTER TYPE "RouteStrategy" ADD VALUE 'auction';

-- AlterTable
ALTER TABLE "partners" ADD COLUMN     "ping" JSONB;

-- AlterTable
ALTER TABLE "routes" ADD COLUMN     "auction" JSONB;
