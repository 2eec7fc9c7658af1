# syntax=docker/dockerfile:1
# Herald image: one image for the API, the workers, the bot and the migrate job;
# compose picks the entry point per service. Production runs compiled JavaScript with plain node:
# the runtime stage holds dist/ and the production dependencies only (no src/, no tsx).
# test/production-artifact.test.ts installs and runs the same contents the same way, without Docker.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- npm: the project's package files and the npm the lockfile was made with ----------
FROM ${NODE_IMAGE} AS npm
# The base image's npm 10 ignores package.json's `allowScripts` and would run
# every dependency's install script (e.g. @prisma/engines downloading binaries);
# the npm the lockfile was made with enforces it.
RUN npm install -g npm@11.19.1 && npm cache clean --force
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma

# ---- deps: production node_modules (the prisma CLI among them, for the migrate job) ----
# `npm install`, not `npm ci`: `npm ci` has refused this lockfile (other-platform builds of
# @swc/core); install still resolves every version from the lockfile. No install script is needed
# at run time: the Prisma client is compiled into dist/ and the workflows come prebuilt.
FROM npm AS deps
RUN npm install --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- build: every dependency, then `npm run build` -> dist/ ------------------------------
# `postinstall` runs `prisma generate` (src/generated; no network: engine "js" with the PrismaPg
# adapter). `npm run build` compiles src/ to dist/, copies the static files of the preference center and
# the inbox's web component, and writes the workflow bundle (dist/workflow-bundle.js) from the compiled
# workflows, so the worker replays exactly the code it runs.
FROM npm AS build
RUN npm install --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime ----------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# CHECKPOINT_DISABLE: the Prisma CLI (migrate job) does not phone home.
ENV NODE_ENV=production \
    CHECKPOINT_DISABLE=1 \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Code stays root-owned (read-only to the app); only .data, where the app may
# keep generated state, is writable by the runtime user.
RUN mkdir -p .data && chown node:node .data
# The node user (uid 1000) of the base image: no process in the stack runs as root.
USER node
EXPOSE 3000
# The API; compose runs dist/workers/main.js, dist/bot/main.js and the prisma CLI from the same image.
CMD ["node", "dist/api/main.js"]
