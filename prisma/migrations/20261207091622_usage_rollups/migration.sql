-- DropIndex
DROP INDEX "UsageRecord_userId_createdAt_idx";

-- CreateTable
CREATE TABLE "UsageRollup" (
    "userId" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "apiKeyId" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "inputTokens" BIGINT NOT NULL DEFAULT 0,
    "outputTokens" BIGINT NOT NULL DEFAULT 0,
    "costMicros" BIGINT NOT NULL DEFAULT 0,
    "refused402" INTEGER NOT NULL DEFAULT 0,
    "refused403" INTEGER NOT NULL DEFAULT 0,
    "refused429" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "UsageRollup_pkey" PRIMARY KEY ("userId","apiKeyId","model","day")
);

-- CreateIndex
CREATE INDEX "UsageRecord_userId_createdAt_id_idx" ON "UsageRecord"("userId", "createdAt" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "UsageRecord_createdAt_idx" ON "UsageRecord"("createdAt");

-- AddForeignKey
ALTER TABLE "UsageRollup" ADD CONSTRAINT "UsageRollup_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Backfill: the rollups of the usage already recorded, in the four grains the writer keeps ("" is "every key" or "every model"),
-- so totals equal the ledger from the first read.
INSERT INTO "UsageRollup" ("userId", "day", "apiKeyId", "model", "requests", "inputTokens", "outputTokens", "costMicros")
SELECT "userId", "createdAt"::date, COALESCE(CASE WHEN GROUPING("apiKeyId") = 0 THEN "apiKeyId" END, ''), COALESCE(CASE WHEN GROUPING("model") = 0 THEN "model" END, ''),
       COUNT(*), SUM("inputTokens"), SUM("outputTokens"), SUM("costMicros")
FROM "UsageRecord"
GROUP BY GROUPING SETS (("userId", "createdAt"::date, "apiKeyId", "model"), ("userId", "createdAt"::date, "apiKeyId"), ("userId", "createdAt"::date, "model"), ("userId", "createdAt"::date));
