-- CreateEnum
CREATE TYPE "Provider" AS ENUM ('openai', 'anthropic');

-- AlterTable
ALTER TABLE "User" ADD COLUMN     "balanceMicros" BIGINT NOT NULL DEFAULT 0;

-- Backfill: the balance row starts as the ledger's sum.
UPDATE "User" u SET "balanceMicros" = COALESCE((SELECT SUM(l."amountMicros") FROM "LedgerEntry" l WHERE l."userId" = u."id"), 0);

-- CreateTable
CREATE TABLE "Model" (
    "model" TEXT NOT NULL,
    "provider" "Provider" NOT NULL,
    "upstreamModel" TEXT,
    "inputMicrosPerMTok" BIGINT NOT NULL,
    "outputMicrosPerMTok" BIGINT NOT NULL,
    "maxOutputTokens" INTEGER NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Model_pkey" PRIMARY KEY ("model")
);

-- CreateTable
CREATE TABLE "UsageRecord" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "apiKeyId" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "inputTokens" INTEGER NOT NULL,
    "outputTokens" INTEGER NOT NULL,
    "costMicros" BIGINT NOT NULL,
    "inputMicrosPerMTok" BIGINT NOT NULL,
    "outputMicrosPerMTok" BIGINT NOT NULL,
    "status" INTEGER NOT NULL,
    "latencyMs" INTEGER NOT NULL,
    "ttftMs" INTEGER,
    "streamed" BOOLEAN NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "UsageRecord_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "UsageRecord_userId_createdAt_idx" ON "UsageRecord"("userId", "createdAt");

-- CreateIndex
CREATE INDEX "UsageRecord_apiKeyId_createdAt_idx" ON "UsageRecord"("apiKeyId", "createdAt");

-- AddForeignKey
ALTER TABLE "UsageRecord" ADD CONSTRAINT "UsageRecord_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

