import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { configureApp, createAdapter } from '../../src/app.setup';
import { DatabaseStartup } from '../../src/database/database-startup';
import { createTestDatabase, DatabaseKind, TestDatabase } from './databases';
import { TEST_JWT_SECRET } from './tokens';

export interface TestApp {
  app: NestFastifyApplication;
  /** The HTTP server, for supertest's request(). */
  server: Parameters<typeof import('supertest')>[0];
  dataSource: DataSource;
  database: TestDatabase;
}

/**
 * Boots the real AppModule through the production configureApp(), on a database of its own with
 * the real migrations, and tears it all down after the suite. Env overrides apply while it boots.
 */
export function useTestApp(kind: DatabaseKind, env: Record<string, string> = {}): TestApp {
  const handle = {} as TestApp;

  beforeAll(async () => {
    handle.database = await createTestDatabase(kind);
    Object.assign(process.env, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: handle.database.url,
      ...env,
    });
    handle.app = await startApp();
    handle.server = handle.app.getHttpServer();
    handle.dataSource = handle.app.get(DataSource);
  });

  afterAll(async () => {
    await handle.app?.close();
    await handle.database?.drop();
    for (const key of Object.keys(env)) delete process.env[key];
  });

  return handle;
}

/**
 * The app as main.ts builds it. By default it resolves once the database is connected and migrated;
 * with `waitForDatabase: false` as soon as the app is initialised, while DatabaseStartup keeps
 * connecting in the background (its `ready` says when it is done).
 */
export async function startApp({ waitForDatabase = true } = {}): Promise<NestFastifyApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createAdapter(), {
    bodyParser: false,
    logger: false,
  });
  configureApp(app);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  if (waitForDatabase) {
    try {
      await app.get(DatabaseStartup).ready;
    } catch (error) {
      await app.close();
      throw error;
    }
  }
  return app;
}
