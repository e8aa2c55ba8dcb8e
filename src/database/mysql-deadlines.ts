import type { DataSource } from 'typeorm';
import type { DatabaseTimeouts } from './data-source-options';

/**
 * The parts of mysql2's callback API that TypeORM's MysqlDriver uses: it takes connections with
 * `pool.getConnection(callback)` and runs every statement with `connection.query(…, callback)`.
 */
interface PooledConnection {
  query(...args: unknown[]): unknown;
  release(): void;
  destroy(): void;
}
type ConnectionCallback = (error: Error | null, connection?: PooledConnection) => void;
interface CallbackPool {
  getConnection(callback: ConnectionCallback): void;
}

const GUARDED = Symbol('deadlineGuarded');

/**
 * Bounds what a hung MySQL server can cost a request (CONTRACT section 4: a 503 within 5 s).
 * mysql2's pool has no acquire timeout, and its query timeout (TypeORM's `enableQueryTimeout`) fails
 * the statement but keeps the connection, with the hung statement still queued on it: the
 * transaction's ROLLBACK would then wait behind it, and the connection would go back to the pool.
 *
 * So, on the pool TypeORM created (this is the one place that reaches into the driver):
 * - a caller waits at most `acquireMs` for a connection; one that arrives later goes to the next
 *   waiter;
 * - a connection whose statement timed out (or whose transaction could not be rolled back) is
 *   destroyed at once, so what follows on it fails fast and the pool opens a fresh connection for
 *   the next request.
 *
 * `test/database-faults.e2e-spec.ts` fails if an upgrade of TypeORM or mysql2 changes these shapes.
 */
export function guardMysqlPool(dataSource: DataSource, timeouts: DatabaseTimeouts): void {
  const pool = (dataSource.driver as unknown as { pool?: CallbackPool }).pool;
  if (!pool || typeof pool.getConnection !== 'function') {
    throw new Error(
      'TypeORM MysqlDriver no longer exposes a mysql2 pool: update mysql-deadlines.ts',
    );
  }
  const getConnection = pool.getConnection.bind(pool);
  pool.getConnection = (callback) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      callback(databaseError('POOL_ACQUIRE_TIMEOUT', 'No database connection became free in time'));
    }, timeouts.acquireMs);
    getConnection((error, connection) => {
      if (settled) {
        connection?.release();
        return;
      }
      settled = true;
      clearTimeout(timer);
      if (error) return callback(withCode(error));
      destroyOnTimeout(connection!);
      callback(null, connection);
    });
  };
}

function destroyOnTimeout(connection: PooledConnection & { [GUARDED]?: true }): void {
  if (connection[GUARDED]) return;
  connection[GUARDED] = true;
  const query = connection.query.bind(connection);
  connection.query = (...args: unknown[]) => {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      const sql = typeof args[0] === 'string' ? args[0] : (args[0] as { sql?: string }).sql;
      args[last] = (error: { code?: string } | null, ...results: unknown[]) => {
        if (error && mustDiscard(error, sql)) connection.destroy();
        (callback as (...values: unknown[]) => void)(error, ...results);
      };
    }
    return query(...args);
  };
}

/**
 * A connection that must not go back to the pool: its statement hung (still queued on it), its
 * ROLLBACK failed (the transaction may still be open, and the next user's `SET TRANSACTION` fails
 * with ER_CANT_CHANGE_TX_CHARACTERISTICS), or it is in that state already.
 */
function mustDiscard(error: { code?: string }, sql: string | undefined): boolean {
  return (
    error.code === 'PROTOCOL_SEQUENCE_TIMEOUT' ||
    error.code === 'ER_CANT_CHANGE_TX_CHARACTERISTICS' ||
    sql === 'ROLLBACK'
  );
}

/** mysql2's pool errors carry no code; give them one so they are recognised as unavailability. */
function withCode(error: Error & { code?: string }): Error {
  if (error.code) return error;
  return Object.assign(error, { code: 'POOL_UNAVAILABLE' });
}

function databaseError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** mysql2 pool internals, read for the `db_pool_connections` gauge; undefined on SQLite. */
interface PoolInternals {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
}

export function mysqlPoolStats(
  dataSource: DataSource,
): { inUse: number; idle: number; waiting: number } | undefined {
  const pool = (dataSource.driver as unknown as { pool?: PoolInternals }).pool;
  if (!pool?._allConnections || !pool._freeConnections || !pool._connectionQueue) return undefined;
  const idle = pool._freeConnections.length;
  return {
    inUse: pool._allConnections.length - idle,
    idle,
    waiting: pool._connectionQueue.length,
  };
}
