import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { isRetryableConflict, isUniqueViolation } from './database-errors';
import { setTimeout as sleep } from 'node:timers/promises';

const TABLE = 'migration_lock';
/** A holder that stops renewing (killed, partitioned) loses the lease after this long. */
const LEASE_MS = 30_000;
const RENEW_EVERY_MS = LEASE_MS / 3;
const POLL_MS = 250;

/**
 * The migration lock on MySQL: one row in `migration_lock`, held for LEASE_MS and renewed while the
 * holder migrates. A row is a lock on every topology, because every node of a cluster sees it:
 * two instances that try to take it on different Galera nodes at once conflict at commit
 * (certification), and one of them loses; on one server the primary key decides. An instance that
 * dies holding the lease blocks the others only until it expires. Times are the database's own
 * clock (NOW(3)), so instances with skewed clocks agree.
 */
export class MigrationLease {
  private renewal?: NodeJS.Timeout;

  private constructor(
    private readonly dataSource: DataSource,
    private readonly holder: string,
  ) {}

  static async acquire(dataSource: DataSource, timeoutMs: number): Promise<MigrationLease> {
    await dataSource.query(
      `CREATE TABLE IF NOT EXISTS \`${TABLE}\` (` +
        '`id` int NOT NULL, `holder` varchar(64) NOT NULL, `expires_at` datetime(3) NOT NULL, ' +
        'CONSTRAINT `pk_migration_lock` PRIMARY KEY (`id`)' +
        ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci',
    );
    const lease = new MigrationLease(dataSource, randomUUID());
    const deadline = Date.now() + timeoutMs;
    while (!(await lease.tryTake())) {
      if (Date.now() > deadline) {
        throw new Error(`Could not take the migration lock within ${timeoutMs / 1000}s`);
      }
      await sleep(POLL_MS);
    }
    lease.renewal = setInterval(() => void lease.renew(), RENEW_EVERY_MS);
    lease.renewal.unref();
    return lease;
  }

  async release(): Promise<void> {
    clearInterval(this.renewal);
    await this.dataSource
      .query(`DELETE FROM \`${TABLE}\` WHERE id = 1 AND holder = ?`, [this.holder])
      .catch(() => undefined);
  }

  /** Takes a free or expired lease; false while another holder's lease runs. */
  private async tryTake(): Promise<boolean> {
    try {
      await this.dataSource.query(
        `INSERT INTO \`${TABLE}\` (id, holder, expires_at) ` +
          'VALUES (1, ?, NOW(3) + INTERVAL ? MICROSECOND)',
        [this.holder, LEASE_MS * 1000],
      );
      return true;
    } catch (error) {
      if (isRetryableConflict(error)) return false;
      if (!isUniqueViolation(error)) throw error;
    }
    const taken = (await this.dataSource
      .query(
        `UPDATE \`${TABLE}\` SET holder = ?, expires_at = NOW(3) + INTERVAL ? MICROSECOND ` +
          'WHERE id = 1 AND expires_at < NOW(3)',
        [this.holder, LEASE_MS * 1000],
      )
      .catch((error: unknown) => {
        if (isRetryableConflict(error)) return { affectedRows: 0 };
        throw error;
      })) as { affectedRows?: number };
    return taken.affectedRows === 1;
  }

  private async renew(): Promise<void> {
    await this.dataSource
      .query(
        `UPDATE \`${TABLE}\` SET expires_at = NOW(3) + INTERVAL ? MICROSECOND ` +
          'WHERE id = 1 AND holder = ?',
        [LEASE_MS * 1000, this.holder],
      )
      .catch(() => undefined);
  }
}
