import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations';
import { DatabaseLogger } from './typeorm-logger';

export interface DatabaseTimeouts {
  /** Waiting for a pooled connection (and opening a new one). */
  acquireMs: number;
  /** One statement; undefined for migrations, whose DDL and lock waits may take long. */
  queryMs?: number;
}

/**
 * One source of truth for the connection, used by the app (database.module.ts) and by the TypeORM
 * CLI (ormconfig.ts). `mysql://` (or `mariadb://`) uses MySQL/MariaDB through mysql2; `sqlite:<file>`
 * an embedded SQLite file, created on first start.
 */
export function dataSourceOptions(
  url: string,
  timeouts: DatabaseTimeouts = { acquireMs: 2_000 },
): DataSourceOptions {
  const common = {
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    logging: false,
    logger: new DatabaseLogger(),
  } as const;

  if (/^(mysql|mariadb):\/\//.test(url)) {
    return {
      ...common,
      type: 'mysql',
      url: url.replace(/^mariadb:/, 'mysql:'),
      charset: 'utf8mb4_unicode_ci',
      timezone: 'Z',
      // A dead or hung database must not hang requests: give up in time and answer 503
      // (mysql-deadlines.ts bounds the wait for a pooled connection).
      connectTimeout: timeouts.acquireMs,
      ...(timeouts.queryMs && {
        enableQueryTimeout: true,
        maxQueryExecutionTime: timeouts.queryMs,
      }),
      extra: { connectionLimit: 20, waitForConnections: true, queueLimit: 1_000 },
    };
  }

  const file = url.replace(/^sqlite:/, '');
  if (file !== ':memory:') mkdirSync(dirname(resolve(file)), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: file,
    prepareDatabase: (db: { pragma(statement: string): unknown }) => {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
    },
  };
}

export function isSqlite(options: { type: string }): boolean {
  return options.type === 'better-sqlite3';
}
