import type { DataSource } from 'typeorm';

const LOCK_NAME = 'customer_service_migrations';
const LOCK_TIMEOUT_SECONDS = 120;

/**
 * Runs pending migrations at start-up. On MySQL several instances may start at once: a named lock
 * makes them take turns, and each one after the first finds nothing left to run. SQLite is a single
 * file that its own write lock serialises.
 */
export async function runMigrations(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'mysql') {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  const lockHolder = dataSource.createQueryRunner();
  try {
    const [row] = (await lockHolder.query('SELECT GET_LOCK(?, ?) AS acquired', [
      LOCK_NAME,
      LOCK_TIMEOUT_SECONDS,
    ])) as { acquired: number | string | null }[];
    if (Number(row?.acquired) !== 1) {
      throw new Error(`Could not take the migration lock within ${LOCK_TIMEOUT_SECONDS}s`);
    }
    // MySQL cannot roll back DDL, so a transaction per migration buys nothing there.
    await dataSource.runMigrations({ transaction: 'none' });
  } finally {
    await lockHolder.query('SELECT RELEASE_LOCK(?)', [LOCK_NAME]).catch(() => undefined);
    await lockHolder.release();
  }
}
