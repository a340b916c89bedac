-- CreateEnum
CREATE TYPE "BudgetPeriod" AS ENUM ('day', 'week', 'month');

-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "budgetPeriod" "BudgetPeriod",
ADD COLUMN     "budgetPeriodSetAt" TIMESTAMP(3),
ADD COLUMN     "periodSpendMicros" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "periodStart" TIMESTAMP(3);

