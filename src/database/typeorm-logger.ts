import { Logger as NestLogger } from '@nestjs/common';
import type { Logger } from 'typeorm';

/**
 * TypeORM's own logger writes slow queries to the console with their parameters (tenant ids,
 * customer data) even with `logging: false`. This one sends what matters to the service's log:
 * slow statements without their parameters, migrations and warnings. Failed queries are not logged
 * here: they reach the error filter, which logs the 5xx with the request ids.
 */
export class DatabaseLogger implements Logger {
  private readonly logger = new NestLogger('Database');

  logQuery(): void {}

  logQueryError(): void {}

  logQuerySlow(time: number, query: string): void {
    this.logger.warn(`Slow query (${time} ms): ${query.slice(0, 200)}`);
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.logger.log(message);
  }

  /** TypeORM's chatter ('3 migrations were found…') is left out; its warnings are kept. */
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(String(message));
  }
}
