# syntax=docker/dockerfile:1
# One image for both processes: ingest by default, the worker with
#   docker run … node services/worker/dist/main.js
# migrations with `npm run db:migrate`, and the operator's CLI with
#   docker compose exec ingest npx leadrouter dlq list
# docker-compose.yml runs the first three.
#
# Install scripts are not needed (prebuilt binaries come as optional
# dependencies; Prisma's scripts only download engines the project does not
# use), so every `npm ci` runs with --ignore-scripts, whatever npm version the
# base image ships (its npm predates package.json's allowScripts).

ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app

# The package manifests, and the workspaces' bin/ directories (npm links a
# workspace's command into node_modules/.bin only if its file exists when
# `npm ci` runs: without packages/cli/bin, the image has no `leadrouter`
# command), so that the `npm ci` layers below stay cached until a dependency
# changes (COPY --from compares file contents). test/ops/dockerfile.test.ts
# replays the stages and runs `npx leadrouter` from the runtime's files.
FROM base AS manifests
COPY . .
RUN mkdir /manifests \
 && cp package.json package-lock.json /manifests/ \
 && for dir in packages/* services/* tools/*; do \
      mkdir -p "/manifests/$dir" && cp "$dir/package.json" "/manifests/$dir/"; \
      if [ -d "$dir/bin" ]; then cp -R "$dir/bin" "/manifests/$dir/"; fi; \
    done

# Everything installed; the Prisma client generated (offline) and TypeScript compiled.
FROM base AS build
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build \
 && mkdir /out \
 && for dir in packages/* services/*; do \
      mkdir -p "/out/$dir" && cp -R "$dir/dist" "/out/$dir/"; \
    done

# Production dependencies of the two services and the `leadrouter` CLI (and the
# workspace packages they use), without the tools/ workspace and the dev toolchain.
FROM base AS production-deps
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
      --workspace services/ingest --workspace services/worker --workspace packages/cli

FROM base AS runtime
ENV NODE_ENV=production
# package.json files and bin/ directories, node_modules (with the workspace
# links, the `leadrouter` command and nested modules), then each workspace's
# dist/ beside its package.json.
COPY --from=production-deps /app/ ./
COPY --from=build /out/ ./
# What `npm run db:migrate` needs: its script, the schema (which marks the
# directory it looks for) and the migrations.
COPY scripts/run-migrate.js scripts/
COPY prisma/schema.prisma prisma/
COPY prisma/migrations prisma/migrations/
USER node
# Ingest (PORT) and the worker's health and metrics (WORKER_PORT).
EXPOSE 3000 3001
CMD ["node", "services/ingest/dist/main.js"]
