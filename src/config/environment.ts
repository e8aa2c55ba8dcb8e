import { plainToInstance } from 'class-transformer';
import { existsSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

/**
 * Every environment variable the service reads (CONTRACT section 13), validated once at start-up.
 * A bad value stops the service with one message naming every bad variable.
 */
export class EnvironmentVariables {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV?: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT?: number;

  @IsOptional()
  @IsString()
  HOST?: string;

  /** Serve GET /metrics on this port of its own instead of on PORT. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  METRICS_PORT?: number;

  @IsOptional()
  @Matches(/^(sqlite:.+|mysql:\/\/.+|mariadb:\/\/.+)$/, {
    message:
      'DATABASE_URL must be sqlite:<file>, sqlite::memory: or mysql://user:pass@host:port/db',
  })
  DATABASE_URL?: string;

  /** Waiting for a pooled connection, also the connect timeout (a hung database is a 503 in time). */
  @IsOptional()
  @IsInt()
  @Min(100)
  DATABASE_ACQUIRE_TIMEOUT_MS?: number;

  /** One query; a query that outlives it gives up its connection. */
  @IsOptional()
  @IsInt()
  @Min(100)
  DATABASE_QUERY_TIMEOUT_MS?: number;

  /** How long start-up keeps retrying an unreachable database before the process gives up. */
  @IsOptional()
  @IsInt()
  @Min(0)
  DATABASE_STARTUP_TIMEOUT_MS?: number;

  /** On SIGTERM/SIGINT, the longest the drain of in-flight requests may take before the exit. */
  @IsOptional()
  @IsInt()
  @Min(0)
  SHUTDOWN_TIMEOUT_MS?: number;

  /** On SIGTERM/SIGINT, how long new connections are still accepted (behind a load balancer). */
  @IsOptional()
  @IsInt()
  @Min(0)
  SHUTDOWN_DELAY_MS?: number;

  /** A request body that has not fully arrived by then is answered 408. */
  @IsOptional()
  @IsInt()
  @Min(100)
  HTTP_BODY_TIMEOUT_MS?: number;

  /** One server, or the comma-separated seed nodes of a Redis Cluster. */
  @IsOptional()
  @Matches(/^rediss?:\/\/[^,\s]+(\s*,\s*rediss?:\/\/[^,\s]+)*$/, {
    message:
      'REDIS_URL must be redis://host:port or rediss://…, or a comma-separated list of cluster nodes',
  })
  REDIS_URL?: string;

  /** Redis Sentinel: the Sentinels that name the master of REDIS_SENTINEL_NAME. */
  @IsOptional()
  @Matches(/^[^,:\s]+:\d+(\s*,\s*[^,:\s]+:\d+)*$/, {
    message: 'REDIS_SENTINELS must be host:port,host:port,…',
  })
  REDIS_SENTINELS?: string;

  @IsOptional()
  @IsString()
  REDIS_SENTINEL_NAME?: string;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'AUTH_JWT_SECRET must be at least 16 characters' })
  AUTH_JWT_SECRET?: string;

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  AUTH_JWKS_URI?: string;

  /** The shortest time between two fetches of the JWKS that tokens with unknown `kid`s trigger. */
  @IsOptional()
  @IsInt()
  @Min(0)
  AUTH_JWKS_REFETCH_INTERVAL_MS?: number;

  @IsOptional()
  @IsString()
  AUTH_ISSUER?: string;

  @IsOptional()
  @IsString()
  AUTH_AUDIENCE?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  THROTTLE_LIMIT?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  THROTTLE_TTL_MS?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  THROTTLE_ANONYMOUS_LIMIT?: number;

  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  PUBLIC_BASE_URL?: string;

  @IsOptional()
  @Matches(/^\.[a-z0-9-]+(\.[a-z0-9-]+)+$/, {
    message: 'CUSTOMER_DOMAIN_SUFFIX must look like .onmicrosoft.com',
  })
  CUSTOMER_DOMAIN_SUFFIX?: string;

  // Without {requestId} every invitation would be the same URL, and none could be accepted.
  @IsOptional()
  @IsString()
  @Matches(/^https?:\/\/\S*\{requestId\}\S*$/, {
    message: 'RELATIONSHIP_REQUEST_URL_TEMPLATE must be an http(s) URL containing {requestId}',
  })
  RELATIONSHIP_REQUEST_URL_TEMPLATE?: string;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'PAGING_TOKEN_SECRET must be at least 16 characters' })
  PAGING_TOKEN_SECRET?: string;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;
}

/** Every variable the service reads: the deployment files may set these and no others. */
export const ENV_KEYS = [
  'NODE_ENV',
  'PORT',
  'HOST',
  'METRICS_PORT',
  'DATABASE_URL',
  'DATABASE_ACQUIRE_TIMEOUT_MS',
  'DATABASE_QUERY_TIMEOUT_MS',
  'DATABASE_STARTUP_TIMEOUT_MS',
  'HTTP_BODY_TIMEOUT_MS',
  'SHUTDOWN_TIMEOUT_MS',
  'SHUTDOWN_DELAY_MS',
  'REDIS_URL',
  'REDIS_SENTINELS',
  'REDIS_SENTINEL_NAME',
  'AUTH_JWT_SECRET',
  'AUTH_JWKS_URI',
  'AUTH_JWKS_REFETCH_INTERVAL_MS',
  'AUTH_ISSUER',
  'AUTH_AUDIENCE',
  'THROTTLE_LIMIT',
  'THROTTLE_TTL_MS',
  'THROTTLE_ANONYMOUS_LIMIT',
  'PUBLIC_BASE_URL',
  'CUSTOMER_DOMAIN_SUFFIX',
  'RELATIONSHIP_REQUEST_URL_TEMPLATE',
  'PAGING_TOKEN_SECRET',
  'LOG_LEVEL',
] as const;

/** Environment variables are strings; numbers are converted here so "abc" fails as "must be an integer". */
const NUMERIC = [
  'PORT',
  'AUTH_JWKS_REFETCH_INTERVAL_MS',
  'METRICS_PORT',
  'DATABASE_ACQUIRE_TIMEOUT_MS',
  'DATABASE_QUERY_TIMEOUT_MS',
  'DATABASE_STARTUP_TIMEOUT_MS',
  'HTTP_BODY_TIMEOUT_MS',
  'SHUTDOWN_TIMEOUT_MS',
  'SHUTDOWN_DELAY_MS',
  'THROTTLE_LIMIT',
  'THROTTLE_TTL_MS',
  'THROTTLE_ANONYMOUS_LIMIT',
] as const;

export interface ValidationOptions {
  /**
   * Whether a way to verify tokens is required (serving requests: yes; the migration CLI: no).
   * Only development mode (`npm start`, `npm run start:dev`) may run without one: it then accepts
   * tokens signed with the fixed development secret (CONTRACT section 3).
   */
  requireTokenKeys?: boolean;
}

export const NO_TOKEN_KEYS_PROBLEM =
  'AUTH_JWT_SECRET (an HS256 secret of at least 16 characters) or AUTH_JWKS_URI (your identity ' +
  "provider's keys) must be set; only NODE_ENV=development, which npm start selects, accepts " +
  'tokens signed with the fixed development secret';

export function validateEnvironment(
  raw: Record<string, unknown>,
  { requireTokenKeys = true }: ValidationOptions = {},
): EnvironmentVariables {
  const input: Record<string, unknown> = {};
  for (const key of ENV_KEYS) {
    const value = raw[key];
    if (value === undefined || value === '') continue;
    input[key] = (NUMERIC as readonly string[]).includes(key) ? toNumber(value) : value;
  }
  const env = plainToInstance(EnvironmentVariables, input);
  const errors = validateSync(env, { skipMissingProperties: false });
  const problems = errors.flatMap((error) => Object.values(error.constraints ?? {}));
  const hasKeys = Boolean(env.AUTH_JWT_SECRET || env.AUTH_JWKS_URI);
  if (requireTokenKeys && !hasKeys && env.NODE_ENV !== 'development') {
    problems.push(NO_TOKEN_KEYS_PROBLEM);
  }
  if (problems.length > 0) {
    throw new Error(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return env;
}

let cached: { key: string; env: EnvironmentVariables } | undefined;

/**
 * The validated environment of this process, validated once: every reader (the config namespaces,
 * the HTTP adapter, the logger) gets the same typed result. Validated again only when a variable
 * changed, as the e2e tests do between the apps they boot.
 */
export function readEnvironment(raw: Record<string, unknown> = process.env): EnvironmentVariables {
  const key = ENV_KEYS.map((name) => JSON.stringify(raw[name] ?? null)).join(',');
  if (cached?.key !== key) cached = { key, env: validateEnvironment(raw) };
  return cached.env;
}

/**
 * Reads `.env` from the working directory into process.env, if there is one. Variables already in
 * the environment win over the file's.
 */
export function loadEnvFile(path = '.env', env: NodeJS.ProcessEnv = process.env): void {
  if (!existsSync(path)) return;
  for (const [name, value] of Object.entries(parseEnv(readFileSync(path, 'utf8')))) {
    if (env[name] === undefined) env[name] = value;
  }
}

function toNumber(value: unknown): unknown {
  return typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
}
