import { Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { configureApp, createAdapter, createLogger } from './app.setup';
import { appConfig, authConfig, pagingConfig } from './config/configuration';
import { loadEnvFile, readEnvironment } from './config/environment';
import { DatabaseStartup } from './database/database-startup';
import { GracefulShutdown } from './health/graceful-shutdown';

async function bootstrap(): Promise<void> {
  try {
    loadEnvFile();
    readEnvironment();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createAdapter(), {
    bodyParser: false,
    logger: createLogger(),
  });
  configureApp(app);
  const { shutdownTimeoutMs } = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void app
        .get(GracefulShutdown)
        .drain(app, signal, shutdownTimeoutMs)
        .finally(() => process.exit(0));
    });
  }

  const logger = new Logger('Bootstrap');
  if (app.get<ConfigType<typeof authConfig>>(authConfig.KEY).usesDevelopmentSecret) {
    logger.warn(
      'Development mode without AUTH_JWT_SECRET or AUTH_JWKS_URI: accepting tokens signed with the ' +
        'fixed development secret (npm run token -- <tenant-guid>).',
    );
  }
  if (app.get<ConfigType<typeof pagingConfig>>(pagingConfig.KEY).perProcessKey) {
    logger.warn(
      'No PAGING_TOKEN_SECRET set: continuation tokens verify only on the instance that issued them.',
    );
  }
  const { port, host } = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  await app.listen(port, host);
  logger.log(`Listening on http://${host}:${port} (Swagger UI at /docs)`);
  try {
    await app.get(DatabaseStartup).ready;
  } catch (error) {
    logger.fatal(`Cannot start: ${(error as Error).message}`);
    await app.close();
    process.exit(1);
  }
}

void bootstrap();
