-- AlterTable
ALTER TABLE "UsageRecord" ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "upstream" TEXT;

