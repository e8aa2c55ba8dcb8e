import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { LogController } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { DataSource } from 'typeorm';
import { useContainer } from 'class-validator';
import { ConfigType } from '@nestjs/config';
import { AppModule } from './app.module';
import { appConfig } from './config/configuration';
import { withFreshExampleDomains } from './customers/dto/examples';
import { readEnvironment } from './config/environment';
import { DatabaseStartup, registerDatabaseGate } from './database/database-startup';
import { GracefulShutdown } from './health/graceful-shutdown';
import { GlobalExceptionFilter } from './common/errors/global-exception.filter';
import { BODY_LIMIT_BYTES, registerBodyParsers } from './common/http/body-parsers';
import { requestIdOf, registerRequestIds } from './common/http/request-ids';
import { RouteMethods } from './common/http/route-methods';
import {
  answerClientError,
  answerFrameworkError,
  registerBodyTimeout,
} from './common/http/transport-errors';
import { createRootLogger as createPinoLogger } from './common/observability/logging';
import { Metrics } from './common/observability/metrics';
import {
  registerMetricsRoute,
  registerRequestTelemetry,
} from './common/observability/request-telemetry';
import { PreRouteThrottle } from './common/throttling/pre-route-throttle';
import { SlidingWindowStorage } from './common/throttling/sliding-window.storage';
import { mysqlPoolStats } from './database/mysql-deadlines';
import { RequestBodyPipe } from './common/json/request-body.pipe';
import { TooManyRequestsFilter } from './common/throttling/too-many-requests.filter';

/** The process's one logger (logging.ts), at LOG_LEVEL. */
export function createRootLogger(): PinoLogger {
  return createPinoLogger(readEnvironment().LOG_LEVEL ?? 'info');
}

/**
 * The Fastify adapter with the contract's transport settings; used by main.ts and the tests. Fastify
 * logs through `logger`; main.ts hands the same logger to Nest (NestPinoLogger), so there is one
 * stream of one shape.
 */
export function createAdapter(logger: PinoLogger = createRootLogger()): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: {
      // Long ids must reach the handler to be answered 400 / 900118 like any other non-GUID: the
      // limit is above what fits in Node's 16 KiB of request headers.
      maxParamLength: 16 * 1024,
      // `/v1/customers/` is `/v1/customers` (not a 405 that names GET as allowed).
      ignoreTrailingSlash: true,
    },
    frameworkErrors: answerFrameworkError,
    // During a drain, requests on open connections are served (with Connection: close), not
    // refused in Fastify's own shape (graceful-shutdown.ts).
    return503OnClosing: false,
    clientErrorHandler: answerClientError,
    genReqId: requestIdOf,
    // One line per request, written when it is answered (request-telemetry.ts), instead of
    // Fastify's two.
    logController: new LogController({
      requestIdLogLabel: 'requestId',
      disableRequestLogging: true,
    }),
    loggerInstance: logger,
  });
}

/** Everything main.ts and the e2e tests share: hooks, parsers, pipe, filter, Swagger. */
export function configureApp(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const routes = new RouteMethods();
  fastify.addHook('onRoute', (route) => routes.add(route.url, route.method));
  registerRequestIds(fastify);
  const metrics = app.get(Metrics);
  registerRequestTelemetry(fastify, metrics);
  const rateLimits = app.get(SlidingWindowStorage);
  const dataSource = app.get(DataSource);
  metrics.watch({
    limiterStore: () => rateLimits.store,
    poolStats: () => (dataSource.isInitialized ? mysqlPoolStats(dataSource) : undefined),
  });
  if (app.get<ConfigType<typeof appConfig>>(appConfig.KEY).metricsPort === undefined) {
    registerMetricsRoute(fastify, metrics);
  }
  app.get(GracefulShutdown).register(fastify);
  registerDatabaseGate(fastify, app.get(DatabaseStartup));
  registerBodyParsers(fastify);
  registerBodyTimeout(fastify, app.get<ConfigType<typeof appConfig>>(appConfig.KEY).bodyTimeoutMs);

  app.useGlobalPipes(new RequestBodyPipe());
  // Nest tries the filter registered last first: a 429 gets Partner Center's throttling body
  // (CONTRACT section 9); everything else falls through to the catch-all error filter.
  app.useGlobalFilters(
    new GlobalExceptionFilter(routes, metrics, app.get(PreRouteThrottle)),
    new TooManyRequestsFilter(),
  );
  // Validators that need configuration (the customer domain suffix) come from Nest's container.
  useContainer(app.select(AppModule), { fallbackOnErrors: true });
  setUpSwagger(app);
}

function setUpSwagger(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Partner Center Customer service')
    .setDescription(
      'A self-hostable implementation of the Microsoft Partner Center Customer REST API (v1). ' +
        'Authorize with a bearer token whose `tid` claim is your partner tenant ' +
        '(in development: `npm run token -- <tenant-guid>`).',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  const { customerDomainSuffix } = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
    patchDocumentOnRequest: (_request, _reply, served) =>
      withFreshExampleDomains(served, customerDomainSuffix),
  });
}
