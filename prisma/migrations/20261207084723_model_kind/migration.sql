-- CreateEnum
CREATE TYPE "ModelKind" AS ENUM ('chat', 'embedding');

-- AlterTable
ALTER TABLE "Model" ADD COLUMN     "kind" "ModelKind" NOT NULL DEFAULT 'chat';

