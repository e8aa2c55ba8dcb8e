import type { DataSource } from 'typeorm';
import { MigrationLease } from './migration-lease';
import { setTimeout as sleep } from 'node:timers/promises';

const LOCK_TIMEOUT_SECONDS = 120;

/**
 * Runs pending migrations at start-up. Several instances may start at once: a lock makes them take
 * turns, and each one after the first finds nothing left to run. On MySQL that is a lease in a
 * table (migration-lease.ts), which holds on every topology: GET_LOCK is local to one server, so
 * on a multi-primary cluster (Galera, Group Replication) instances on different nodes would migrate
 * at once. On SQLite it is the file's own write lock, taken before TypeORM looks at its migrations
 * table.
 */
export async function runMigrations(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type === 'mysql') await runWithLease(dataSource);
  else await runWithSqliteWriteLock(dataSource);
}

async function runWithLease(dataSource: DataSource): Promise<void> {
  const lease = await MigrationLease.acquire(dataSource, LOCK_TIMEOUT_SECONDS * 1000);
  try {
    // MySQL cannot roll back DDL, so a transaction per migration buys nothing there; each step is
    // safe to run again instead (migration-steps.ts).
    await dataSource.runMigrations({ transaction: 'none' });
  } finally {
    await lease.release();
  }
}

async function runWithSqliteWriteLock(dataSource: DataSource): Promise<void> {
  // better-sqlite3 has one connection per DataSource, so this transaction holds every query below.
  await takeSqliteWriteLock(dataSource);
  try {
    await dataSource.runMigrations({ transaction: 'none' });
    await dataSource.query('COMMIT');
  } catch (error) {
    await dataSource.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * BEGIN IMMEDIATE, retried without blocking: better-sqlite3 waits for a busy lock synchronously,
 * which would stall the event loop of a process that holds the lock in another DataSource.
 */
async function takeSqliteWriteLock(dataSource: DataSource): Promise<void> {
  const [{ timeout }] = await dataSource.query<{ timeout: number }[]>('PRAGMA busy_timeout');
  await dataSource.query('PRAGMA busy_timeout = 0');
  const deadline = Date.now() + LOCK_TIMEOUT_SECONDS * 1000;
  try {
    for (;;) {
      try {
        await dataSource.query('BEGIN IMMEDIATE');
        return;
      } catch (error) {
        if (!isBusy(error) || Date.now() > deadline) throw error;
        await sleep(25);
      }
    }
  } finally {
    await dataSource.query(`PRAGMA busy_timeout = ${Number(timeout)}`);
  }
}

function isBusy(error: unknown): boolean {
  const cause = (error as { driverError?: { code?: string } }).driverError;
  return cause?.code === 'SQLITE_BUSY';
}
