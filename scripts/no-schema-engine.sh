#!/bin/sh
# Stands in for Prisma's schema engine, which cannot be downloaded on the build
# machines. Client generation does not need it; anything that does fails loudly
# instead of silently doing nothing (docs/decisions/0002-migrations.md).
echo "prisma schema engine is not available here: use npm run db:migrate / db:new-migration" >&2
exit 1
