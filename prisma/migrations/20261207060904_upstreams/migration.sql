-- CreateTable
CREATE TABLE "Upstream" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "protocol" "Provider" NOT NULL,
    "baseUrl" TEXT NOT NULL,
    "apiKeyCiphertext" TEXT NOT NULL,
    "apiKeyLast4" TEXT NOT NULL,
    "headersCiphertext" TEXT,
    "headerNames" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "timeoutMs" INTEGER,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Upstream_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ModelRoute" (
    "id" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "upstream" TEXT NOT NULL,
    "upstreamModel" TEXT,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "weight" INTEGER NOT NULL DEFAULT 1,
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "ModelRoute_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Upstream_name_key" ON "Upstream"("name");

-- CreateIndex
CREATE INDEX "ModelRoute_model_idx" ON "ModelRoute"("model");

-- CreateIndex
CREATE INDEX "ModelRoute_upstream_idx" ON "ModelRoute"("upstream");

-- AddForeignKey
ALTER TABLE "ModelRoute" ADD CONSTRAINT "ModelRoute_model_fkey" FOREIGN KEY ("model") REFERENCES "Model"("model") ON DELETE CASCADE ON UPDATE CASCADE;

