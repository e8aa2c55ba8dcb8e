import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isSqlite } from './data-source-options';

/**
 * Every write goes through here. On MySQL this is a plain transaction. On SQLite TypeORM shares one
 * connection between all requests, so two overlapping transactions would nest inside each other
 * (and a lone UPDATE would join whichever transaction is open): writes are queued and run one at a
 * time, which is also how SQLite itself commits.
 */
@Injectable()
export class Transactions {
  private readonly serialise: boolean;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.serialise = isSqlite(dataSource.options);
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serialise) return this.withDeadlockRetry(work);
    const result = this.queue.then(() => this.dataSource.transaction(work));
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** InnoDB resolves a deadlock by rolling one transaction back; that one is simply run again. */
  private async withDeadlockRetry<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction(work);
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !isDeadlock(error)) throw error;
      }
    }
  }
}

const MAX_ATTEMPTS = 3;

function isDeadlock(error: unknown): boolean {
  const driver = (error as { driverError?: { code?: string } }).driverError;
  return driver?.code === 'ER_LOCK_DEADLOCK';
}
