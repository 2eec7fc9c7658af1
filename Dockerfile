# syntax=docker/dockerfile:1
# Herald image: one image for the API, the workers, the bot and the migrate job;
# compose picks the entry point per service.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- deps: production node_modules and the generated Prisma client ----------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# The base image's npm 10 ignores package.json's `allowScripts` and would run
# every dependency's install script (e.g. @prisma/engines downloading binaries);
# the npm the lockfile was made with enforces it.
RUN npm install -g npm@11.19.1 && npm cache clean --force
COPY package.json package-lock.json ./
# `postinstall` runs `prisma generate`, which reads the schema and prisma.config.ts
# and needs no network (engine "js" with the PrismaPg adapter).
COPY prisma ./prisma
COPY prisma.config.ts ./
# `npm install`, not `npm ci`: the lockfile holds only the linux builds of @swc/core,
# and `npm ci` refuses it for that; install still resolves every version from the lockfile.
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- bundle: the workflow code, bundled once here instead of at every worker start ----
FROM deps AS bundle
COPY tsconfig.json ./
COPY src ./src
COPY src/workers/bundle-workflows.ts ./src/workers/
RUN node --import tsx src/workers/bundle-workflows.ts /app/dist/workflow-bundle.js

# ---- runtime ----------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# CHECKPOINT_DISABLE: the Prisma CLI (migrate job) does not phone home.
ENV NODE_ENV=production \
    CHECKPOINT_DISABLE=1 \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json prisma.config.ts ./
COPY prisma ./prisma
COPY src ./src
# The client is generated inside the image (src/generated is not in the build context).
COPY --from=deps /app/src/generated ./src/generated
# Built from the same src as above, so the worker replays exactly the code it runs.
COPY --from=bundle /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
# Code stays root-owned (read-only to the app); only .data, where the app may
# keep generated state, is writable by the runtime user.
RUN mkdir -p .data && chown node:node .data
# The node user (uid 1000) of the base image: no process in the stack runs as root.
USER node
EXPOSE 3000
# TypeScript runs through tsx; the workflows come prebuilt (WORKFLOW_BUNDLE_PATH).
CMD ["node", "--import", "tsx", "src/api/main.ts"]
