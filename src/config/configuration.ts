import { registerAs } from '@nestjs/config';
import { createHash, randomBytes } from 'node:crypto';
import type { DatabaseTimeouts } from '../database/data-source-options';
import { EnvironmentVariables, readEnvironment } from './environment';

/**
 * The fixed development secret (CONTRACT section 3): used only in development mode
 * (NODE_ENV=development, which `npm start` and `npm run start:dev` select) when no key is
 * configured, so that `npm start` and `npm run token` work with no setup. scripts/token.js signs
 * with the same value. validateEnvironment refuses any other start without a key.
 */
export const DEVELOPMENT_JWT_SECRET =
  'customer-service-development-secret-do-not-use-in-production';

const env = () => readEnvironment();

export const appConfig = registerAs('app', () => {
  const e = env();
  return {
    nodeEnv: e.NODE_ENV ?? 'production',
    port: e.PORT ?? 3000,
    host: e.HOST ?? '0.0.0.0',
    metricsPort: e.METRICS_PORT,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? 'http://localhost:3000').replace(/\/+$/, ''),
    customerDomainSuffix: (e.CUSTOMER_DOMAIN_SUFFIX ?? '.onmicrosoft.com').toLowerCase(),
    logLevel: e.LOG_LEVEL ?? 'info',
    bodyTimeoutMs: e.HTTP_BODY_TIMEOUT_MS ?? 10_000,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS ?? 10_000,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS ?? 0,
  };
});

export const databaseConfig = registerAs('database', () => {
  const e = env();
  return {
    url: e.DATABASE_URL ?? 'sqlite:./data/customers.sqlite',
    timeouts: databaseTimeouts(e),
    startupTimeoutMs: e.DATABASE_STARTUP_TIMEOUT_MS ?? 60_000,
  };
});

/**
 * A hung database must be a 503 within 5 s (CONTRACT section 4): at most the acquire timeout to get
 * a connection, then at most the query timeout for the statement that hangs.
 */
export function databaseTimeouts(e: EnvironmentVariables): DatabaseTimeouts {
  return {
    acquireMs: e.DATABASE_ACQUIRE_TIMEOUT_MS ?? 2_000,
    queryMs: e.DATABASE_QUERY_TIMEOUT_MS ?? 2_500,
  };
}

export const authConfig = registerAs('auth', () => {
  const e = env();
  const usesDevelopmentSecret = !e.AUTH_JWT_SECRET && !e.AUTH_JWKS_URI;
  return {
    jwtSecret: e.AUTH_JWT_SECRET ?? (usesDevelopmentSecret ? DEVELOPMENT_JWT_SECRET : undefined),
    jwksUri: e.AUTH_JWKS_URI,
    jwksRefetchIntervalMs: e.AUTH_JWKS_REFETCH_INTERVAL_MS ?? 30_000,
    issuer: e.AUTH_ISSUER,
    audience: e.AUTH_AUDIENCE,
    usesDevelopmentSecret,
  };
});

export const throttleConfig = registerAs('throttle', () => {
  const e = env();
  return {
    limit: e.THROTTLE_LIMIT ?? 500,
    ttlMs: e.THROTTLE_TTL_MS ?? 60_000,
    anonymousLimit: e.THROTTLE_ANONYMOUS_LIMIT ?? 60,
    redisUrl: e.REDIS_URL,
    redisSentinels: e.REDIS_SENTINELS,
    redisSentinelName: e.REDIS_SENTINEL_NAME ?? 'mymaster',
  };
});

export const pagingConfig = registerAs('paging', () => {
  const e = env();
  // Continuation tokens must verify on every instance, so the key comes from shared configuration.
  // Only a JWKS-only deployment without PAGING_TOKEN_SECRET falls back to a per-process key
  // (main.ts warns: tokens then verify only on the instance that issued them).
  const material =
    e.PAGING_TOKEN_SECRET ??
    e.AUTH_JWT_SECRET ??
    (e.AUTH_JWKS_URI ? undefined : DEVELOPMENT_JWT_SECRET);
  return {
    tokenKey: material
      ? createHash('sha256').update(`paging-token:${material}`).digest()
      : PROCESS_PAGING_KEY,
    perProcessKey: material === undefined,
  };
});

const PROCESS_PAGING_KEY = randomBytes(32);

export const relationshipsConfig = registerAs('relationships', () => {
  const e = env();
  const base = (e.PUBLIC_BASE_URL ?? 'http://localhost:3000').replace(/\/+$/, '');
  return {
    urlTemplate:
      e.RELATIONSHIP_REQUEST_URL_TEMPLATE ??
      `${base}/v1/relationshiprequests/{requestId}/acceptance?partnerId={partnerId}`,
  };
});

export const ALL_CONFIG = [
  appConfig,
  databaseConfig,
  authConfig,
  throttleConfig,
  pagingConfig,
  relationshipsConfig,
];
