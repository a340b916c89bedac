#!/usr/bin/env bash
# Creates prisma/migrations/<timestamp>_<name>/migration.sql from the change
# between the committed schema (HEAD) and the working copy. `prisma migrate dev`
# cannot be used here: its shadow database rejects multi-statement scripts
# through the driver adapters.
set -euo pipefail
name="${1:?usage: npm run db:new-migration -- <name>}"
prev="$(mktemp --suffix=.prisma)"
trap 'rm -f "$prev"' EXIT
if git cat-file -e HEAD:prisma/schema.prisma 2>/dev/null; then
  git show HEAD:prisma/schema.prisma > "$prev"
  from=(--from-schema-datamodel "$prev")
else
  from=(--from-empty)
fi
dir="prisma/migrations/$(date -u +%Y%m%d%H%M%S)_${name}"
mkdir -p "$dir"
npx prisma migrate diff "${from[@]}" --to-schema-datamodel prisma/schema.prisma --script > "$dir/migration.sql"
echo "wrote $dir/migration.sql"
