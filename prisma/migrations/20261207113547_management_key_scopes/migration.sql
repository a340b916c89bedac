-- AlterTable
ALTER TABLE "ManagementKey" ADD COLUMN     "scopes" TEXT[];

-- Keys made before scopes existed could do everything a management key can: they keep every scope (lib/keys/scopes.ts).
UPDATE "ManagementKey" SET "scopes" = ARRAY['keys:read', 'keys:write', 'billing:read', 'usage:read', 'pools:write', 'webhooks:write', 'audit:read']::TEXT[];
