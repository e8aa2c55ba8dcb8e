import { ApiError } from '../common/errors/error-catalogue';

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
  fatal?: boolean;
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

/** Driver error codes that mean "try again later", not "this request is wrong". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  // A statement that outlived DATABASE_QUERY_TIMEOUT_MS (mysql-deadlines.ts).
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'POOL_ACQUIRE_TIMEOUT',
  'POOL_UNAVAILABLE',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  // Galera: the node is not (yet) part of the primary component; a commit it could not certify.
  'ER_UNKNOWN_COM_ERROR',
  'ER_ERROR_DURING_COMMIT',
  // A pooled connection left inside a transaction (mysql-deadlines.ts then discards it).
  'ER_CANT_CHANGE_TX_CHARACTERISTICS',
  // Conflicts that outlived Transactions.run's retries.
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);

/**
 * The database is down, hung, overloaded, or a conflict outlived its retries: a 503 with
 * Retry-After, not a 500. mysql2 marks every error that broke the connection as fatal.
 */
export function isUnavailable(error: unknown): boolean {
  const driver = driverErrorOf(error);
  if (driver?.fatal === true) return true;
  return driver?.code !== undefined && UNAVAILABLE_CODES.has(driver.code);
}

/** A conflict InnoDB (or Galera's certification) resolved by rolling this transaction back. */
export function isRetryableConflict(error: unknown): boolean {
  const code = driverErrorOf(error)?.code;
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}
