import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isSqlite } from './data-source-options';
import { isRetryableConflict } from './database-errors';
import { setTimeout as sleep } from 'node:timers/promises';

/** Attempts of one transaction that keeps losing deadlocks before the request gets a 503. */
const MAX_ATTEMPTS = 8;
const BACKOFF_MS = { base: 5, max: 200 };

/**
 * Every write goes through here. On MySQL this is a READ COMMITTED transaction (no gap locks on
 * the rows a statement merely looks for, so concurrent inserts of different keys do not deadlock),
 * run again with jittered backoff when InnoDB or Galera rolls it back as a deadlock or a lock wait
 * timeout; one that outlives the retries surfaces as a 503 (database-errors.ts).
 *
 * On SQLite TypeORM shares one connection between all requests, so two overlapping transactions
 * would nest inside each other (and a lone UPDATE would join whichever transaction is open): writes
 * are queued and run one at a time, which is also how SQLite itself commits.
 */
@Injectable()
export class Transactions {
  private readonly serialise: boolean;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {
    this.serialise = isSqlite(dataSource.options);
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serialise) return this.withConflictRetry(work);
    const result = this.queue.then(() => this.dataSource.transaction(work));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async withConflictRetry<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction('READ COMMITTED', work);
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !isRetryableConflict(error)) throw error;
        await sleep(backoffMs(attempt));
      }
    }
  }
}

/** Full jitter: a random wait up to an exponentially growing cap, so retries spread out. */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(BACKOFF_MS.max, BACKOFF_MS.base * 2 ** attempt);
}
