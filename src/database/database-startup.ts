import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyInstance } from 'fastify';
import { DataSource } from 'typeorm';
import { unavailable } from '../common/errors/error-catalogue';
import { databaseConfig } from '../config/configuration';
import { dataSourceOptions } from './data-source-options';
import { isUnavailable } from './database-errors';
import { runMigrations } from './migrate';
import { guardMysqlPool } from './mysql-deadlines';
import { setTimeout as sleep } from 'node:timers/promises';

const RETRY_DELAY_MS = { first: 250, max: 5_000 };

/**
 * Connects and migrates in the background, so that the process listens at once: `/health/live`
 * answers while the database is still unreachable, `/health/ready` and every `/v1` operation
 * answer 503 until it is ready. An unreachable database is retried until DATABASE_STARTUP_TIMEOUT_MS,
 * then `ready` rejects (main.ts exits); any other error (wrong password, unknown database, a
 * failing migration) rejects at once.
 *
 * Migrations run on a DataSource of their own without the query timeout: DDL and the migration
 * lock may rightly take longer than a request's statement.
 */
@Injectable()
export class DatabaseStartup implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private connected = false;
  private stopped = false;
  private settle!: { resolve: () => void; reject: (error: Error) => void };
  /** Resolves once the database is connected and migrated; rejects when start-up gives up. */
  readonly ready = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(databaseConfig.KEY) private readonly config: ConfigType<typeof databaseConfig>,
  ) {
    // Whoever needs the outcome awaits `ready`; an unobserved failure is not a crash.
    this.ready.catch(() => undefined);
  }

  get isReady(): boolean {
    return this.connected;
  }

  onModuleInit(): void {
    void this.start();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }

  private async start(): Promise<void> {
    const { startupTimeoutMs, timeouts } = this.config;
    const deadline = Date.now() + startupTimeoutMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.migrate();
        await this.dataSource.initialize();
        if (this.dataSource.options.type === 'mysql') guardMysqlPool(this.dataSource, timeouts);
        this.connected = true;
        if (attempt > 1) this.logger.log('The database answers: serving requests');
        return this.settle.resolve();
      } catch (error) {
        const reason = (error as Error).message;
        if (this.stopped)
          return this.settle.reject(new Error('Shut down before the database was ready'));
        if (!isUnavailable(error)) return this.settle.reject(error as Error);
        if (Date.now() >= deadline) {
          return this.settle.reject(
            new Error(
              `The database could not be reached within DATABASE_STARTUP_TIMEOUT_MS (${startupTimeoutMs} ms): ${reason}`,
            ),
          );
        }
        if (attempt === 1) this.logger.warn(`The database is unreachable (${reason}): retrying`);
        await sleep(Math.min(RETRY_DELAY_MS.first * 2 ** (attempt - 1), RETRY_DELAY_MS.max));
      }
    }
  }

  private async migrate(): Promise<void> {
    const migrator = new DataSource(
      dataSourceOptions(this.config.url, { acquireMs: this.config.timeouts.acquireMs }),
    );
    await migrator.initialize();
    try {
      await runMigrations(migrator);
    } finally {
      await migrator.destroy();
    }
  }
}

/** Until the database is ready, every /v1 operation is a 503; health and docs answer as usual. */
export function registerDatabaseGate(fastify: FastifyInstance, startup: DatabaseStartup): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (startup.isReady || !/^\/v1(\/|\?|$)/i.test(request.url)) return done();
    done(unavailable('The database is not ready yet'));
  });
}
