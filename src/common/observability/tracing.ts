/**
 * OpenTelemetry traces, on when OTEL_EXPORTER_OTLP_ENDPOINT is set (the standard variable; the
 * other OTEL_* variables, such as OTEL_SERVICE_NAME and OTEL_EXPORTER_OTLP_HEADERS, work as
 * documented by OpenTelemetry). Spans: the HTTP request (continuing a W3C `traceparent` the client
 * sent, named after the route template), each MySQL query, each Redis command; every log line
 * written inside a span carries its `trace_id` and `span_id`. The SDK packages are required here
 * only when tracing is on, so that a service without it loads none of them.
 */
let shutdownTracing: () => Promise<void> = () => Promise.resolve();

/** Sends the spans still buffered (at most `timeoutMs`); main.ts calls it after the drain. */
export function flushTracing(timeoutMs = 2_000): Promise<void> {
  return Promise.race([
    shutdownTracing(),
    new Promise<void>((done) => setTimeout(done, timeoutMs).unref()),
  ]);
}

export function startTracingIfConfigured(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } =
    require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { MySQL2Instrumentation } =
    require('@opentelemetry/instrumentation-mysql2') as typeof import('@opentelemetry/instrumentation-mysql2');
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { PinoInstrumentation } =
    require('@opentelemetry/instrumentation-pino') as typeof import('@opentelemetry/instrumentation-pino');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME ?? 'customer-service',
    traceExporter: new OTLPTraceExporter(),
    // Spans only: logs stay on stdout, metrics at /metrics.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes are not worth a trace each.
        ignoreIncomingRequestHook: (request) => /^\/(health\/|metrics)/.test(request.url ?? ''),
      }),
      new MySQL2Instrumentation(),
      new IORedisInstrumentation(),
      new PinoInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();
  shutdownTracing = () => sdk.shutdown().catch(() => undefined);
}
