import { trace } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import { Metrics } from './metrics';

/** The label of requests that matched no route: one label, however many paths a scan tries. */
const UNMATCHED = '(unmatched)';

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
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url || UNMATCHED;
    const status = reply.statusCode;
    const seconds = reply.elapsedTime / 1000;
    metrics.requests.inc({ method: request.method, route, status });
    metrics.duration.observe({ method: request.method, route }, seconds);
    request.log.info(
      {
        method: request.method,
        route,
        status,
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        ...(request.tenantId && { tenantId: request.tenantId }),
      },
      'request completed',
    );
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
