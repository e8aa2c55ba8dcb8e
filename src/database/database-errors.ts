import { ApiError } from '../common/errors/error-catalogue';

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
}

function driverErrorOf(error: unknown): DriverError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const wrapped = (error as { driverError?: DriverError }).driverError;
  return wrapped ?? error;
}

/** A unique or primary key violation, on MySQL/MariaDB or SQLite. */
export function isUniqueViolation(error: unknown): boolean {
  const driver = driverErrorOf(error);
  return (
    driver?.code === 'ER_DUP_ENTRY' ||
    driver?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    driver?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/**
 * Which 409 a unique violation means, by constraint: MySQL names the index, SQLite the columns.
 * This is the backstop for races; services check explicitly first.
 */
const CONFLICTS: { pattern: RegExp; error: () => ApiError }[] = [
  {
    pattern: /uq_customers_domain|customers\.domain/,
    error: () => new ApiError('domainTaken', 'The domain is already taken'),
  },
  {
    pattern: /pk_idempotency_records|idempotency_records\./,
    error: () =>
      new ApiError('requestIdReused', 'The MS-RequestId is already used by another request'),
  },
];

export function conflictFor(error: unknown): ApiError | undefined {
  if (!isUniqueViolation(error)) return undefined;
  const message = driverErrorOf(error)?.message ?? '';
  return CONFLICTS.find(({ pattern }) => pattern.test(message))?.error();
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);

/** The database is down or overloaded: a 503 with Retry-After, not a 500. */
export function isUnavailable(error: unknown): boolean {
  const driver = driverErrorOf(error);
  return driver?.code !== undefined && UNAVAILABLE_CODES.has(driver.code);
}
