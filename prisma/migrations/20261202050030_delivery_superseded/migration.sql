-- AlterEnum
ALTER TYPE "DeliveryStatus" ADD VALUE 'superseded';
