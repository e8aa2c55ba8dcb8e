import { trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Metrics } from './metrics';

/** The label of requests that matched no route: one label, however many paths a scan tries. */
const UNMATCHED = '(unmatched)';

export const REQUEST_COMPLETED = 'requestCompleted';

/**
 * One log line and one set of metrics per answered request: method, route template, status,
 * duration, and the tenant once authenticated. The line's bindings carry `requestId` and
 * `correlationId`, exactly as echoed to the client (request-ids.ts).
 */
export function registerRequestTelemetry(fastify: FastifyInstance, metrics: Metrics): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    // With tracing on, the HTTP server span is named after the route template, not the raw path.
    if (route)
      trace
        .getActiveSpan()
        ?.updateName(`${request.method} ${route}`)
        .setAttribute('http.route', route);
    done();
  });
  const completed = (
    request: FastifyRequest,
    reply: FastifyReply,
    elapsedMs = reply.elapsedTime,
  ) => {
    const route = request.routeOptions.url || UNMATCHED;
    const status = reply.statusCode;
    const seconds = elapsedMs / 1000;
    metrics.requests.inc({ method: request.method, route, status });
    metrics.duration.observe({ method: request.method, route }, seconds);
    request.log.info(
      {
        method: request.method,
        route,
        status,
        durationMs: Math.round(elapsedMs * 100) / 100,
        ...(request.tenantId && { tenantId: request.tenantId }),
      },
      'request completed',
    );
  };
  // Answers Fastify gives before routing (frameworkErrors) run no hooks: they call this instead.
  fastify.decorate(REQUEST_COMPLETED, completed);
  fastify.addHook('onResponse', (request, reply, done) => {
    completed(request, reply);
    done();
  });
}

/** `GET /metrics` on the service's own port: no token, not rate limited (it is not under /v1). */
export function registerMetricsRoute(fastify: FastifyInstance, metrics: Metrics): void {
  fastify.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    reply.header('Content-Type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
