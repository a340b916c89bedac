-- AlterTable
ALTER TABLE "ApiKey" ADD COLUMN     "allowedModels" TEXT[] DEFAULT ARRAY[]::TEXT[];

