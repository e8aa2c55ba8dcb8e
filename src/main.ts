// First: .env, and OpenTelemetry's hooks before the modules it instruments are loaded.
import './preload';
import { Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { configureApp, createAdapter, createRootLogger } from './app.setup';
import { NestPinoLogger } from './common/observability/logging';
import { Metrics, serveMetrics } from './common/observability/metrics';
import { appConfig, authConfig, pagingConfig } from './config/configuration';
import { readEnvironment } from './config/environment';
import { DatabaseStartup } from './database/database-startup';
import { GracefulShutdown } from './health/graceful-shutdown';
import { flushTracing } from './common/observability/tracing';

async function bootstrap(): Promise<void> {
  try {
    readEnvironment();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const rootLogger = createRootLogger();
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule,
    createAdapter(rootLogger),
    {
      bodyParser: false,
      logger: new NestPinoLogger(rootLogger),
    },
  );
  configureApp(app);
  const { shutdownTimeoutMs, shutdownDelayMs } = app.get<ConfigType<typeof appConfig>>(
    appConfig.KEY,
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void app
        .get(GracefulShutdown)
        .drain(app, signal, { timeoutMs: shutdownTimeoutMs, delayMs: shutdownDelayMs })
        .then(() => flushTracing())
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
  const { port, host, metricsPort } = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  await app.listen(port, host);
  if (metricsPort !== undefined) {
    const metricsServer = await serveMetrics(app.get(Metrics), metricsPort, host);
    logger.log(`Metrics on http://${host}:${metricsPort}/metrics`);
    app.get(GracefulShutdown).onDrained(() => metricsServer.close());
  }
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
