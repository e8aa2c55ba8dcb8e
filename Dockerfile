# syntax=docker/dockerfile:1
#
# The service's container image (docs/deploying.md). Three stages: the two with the C++ toolchain
# that better-sqlite3 compiles with (when no prebuilt binary can be downloaded), and the runtime
# stage, which gets only their output: the compiled service, the production dependencies and
# package.json. No compiler, no dev dependency, no source and no npm ends up in the image.
#
#   docker build -t partner-center-customer-service .

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

# The production dependencies alone, installed clean from the lockfile (not a pruned dev install).
FROM toolchain AS deps
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

FROM toolchain AS build
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ormconfig.ts ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# The service needs only node: npm, npx, corepack and yarn are removed so that they are neither
# run nor reported by image scanners.
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx \
  /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
# production: the service refuses to start without AUTH_JWT_SECRET or AUTH_JWKS_URI.
ENV NODE_ENV=production \
  PORT=3000 \
  HOST=0.0.0.0
WORKDIR /app
# The default DATABASE_URL (sqlite:./data/customers.sqlite) writes here: the only directory the
# service user may write to. Everything else in /app belongs to root and is read-only for it.
RUN mkdir /app/data && chown node:node /app/data
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The base image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
VOLUME ["/app/data"]
EXPOSE 3000
# Ready = the database answers (503 while it does not, and at once when a drain starts on SIGTERM).
# The start period covers DATABASE_STARTUP_TIMEOUT_MS's retries of a database still coming up.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready', { signal: AbortSignal.timeout(3000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
