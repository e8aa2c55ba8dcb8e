import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { createTestDatabase, DatabaseKind, isAvailable, TestDatabase } from './support/databases';
import { buildCustomer } from './support/factories';
import { buildService, ServiceProcess } from './support/service-process';
import { bearer, newTenant } from './support/tokens';

/*
 * Issue #13, traces: the compiled service as a real process, exporting to an OTLP/HTTP receiver
 * of the test's own, with Redis (the shared one at 127.0.0.1:6379) for the limiter and, on
 * MariaDB, a database of its own. One request carries a W3C traceparent; its spans (HTTP server,
 * mysql2, ioredis) must arrive under that trace id, and its log line must carry it.
 */

const ROOT = resolve(__dirname, '..');
const CUSTOMER_ROUTE = '/v1/customers/:customerTenantId';
/** OTLP's SpanKind: 2 is SERVER. */
const SERVER = 2;

interface Received {
  method: string;
  path: string;
  contentType: string;
  body: Buffer;
}

interface Span {
  scope: string;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
}

/** A local OTLP/HTTP receiver: records every request, answers 200 with an empty JSON object. */
class OtlpReceiver {
  readonly received: Received[] = [];
  url = '';
  private readonly server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      this.received.push({
        method: request.method ?? '',
        path: request.url ?? '',
        contentType: request.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      });
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });

  async listen(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Every span of every POST /v1/traces so far (OTLP JSON: ids are hex strings). */
  spans(): Span[] {
    const spans: Span[] = [];
    for (const request of this.received) {
      if (request.path !== '/v1/traces') continue;
      const body = JSON.parse(request.body.toString()) as {
        resourceSpans: {
          scopeSpans: {
            scope: { name: string };
            spans: (Omit<Span, 'scope' | 'attributes'> & {
              attributes: { key: string; value: Record<string, unknown> }[];
            })[];
          }[];
        }[];
      };
      for (const resource of body.resourceSpans) {
        for (const scope of resource.scopeSpans) {
          for (const span of scope.spans) {
            spans.push({
              ...span,
              scope: scope.scope.name,
              attributes: Object.fromEntries(
                span.attributes.map(({ key, value }) => [key, Object.values(value)[0]]),
              ),
            });
          }
        }
      }
    }
    return spans;
  }

  close(): Promise<void> {
    return new Promise((done) => this.server.close(() => done()));
  }
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const result = await probe();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((wait) => setTimeout(wait, 50));
  }
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

/** Whether `span` lies under `ancestor` in the trace. */
function descendsFrom(span: Span, ancestor: Span, spans: Span[]): boolean {
  const byId = new Map(spans.map((each) => [each.spanId, each]));
  for (let at = span.parentSpanId; at; at = byId.get(at)?.parentSpanId) {
    if (at === ancestor.spanId) return true;
  }
  return false;
}

for (const kind of ['sqlite', 'mariadb'] as DatabaseKind[]) {
  (isAvailable(kind) ? describe : describe.skip)(`traces over OTLP/HTTP [${kind}]`, () => {
    let receiver: OtlpReceiver;
    let database: TestDatabase | undefined;
    let service: ServiceProcess;
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    let requestId: string;
    let trace: Span[];

    beforeAll(async () => {
      receiver = await new OtlpReceiver().listen();
      if (kind === 'mariadb') database = await createTestDatabase('mariadb');
      service = await ServiceProcess.start({
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        // Batches leave after 200 ms, not 5 s (spans), 1 s (logs) or 60 s (metrics).
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_BLRP_SCHEDULE_DELAY: '200',
        OTEL_METRIC_EXPORT_INTERVAL: '200',
        OTEL_METRIC_EXPORT_TIMEOUT: '200',
        REDIS_URL: 'redis://127.0.0.1:6379',
        ...(database && { DATABASE_URL: database.url }),
      });
      // The limiter counts in Redis once it has connected.
      await until('the limiter to reach Redis', async () => {
        const text = await (await fetch(`${service.baseUrl}/metrics`)).text();
        return /^rate_limiter_store\{store="shared"\} 1$/m.test(text) ? true : undefined;
      });
      const tenant = newTenant();
      const created = await fetch(`${service.baseUrl}/v1/customers`, {
        method: 'POST',
        headers: { ...bearer(tenant), 'Content-Type': 'application/json' },
        body: JSON.stringify(buildCustomer()),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };

      const response = await fetch(`${service.baseUrl}/v1/customers/${id}`, {
        headers: { ...bearer(tenant), traceparent: `00-${traceId}-${parentId}-01` },
      });
      expect(response.status).toBe(200);
      requestId = response.headers.get('ms-requestid')!;

      trace = await until('the spans of the traced request', () => {
        const spans = receiver.spans().filter((span) => span.traceId === traceId);
        const has = (scope: string) => spans.some((span) => span.scope === scope);
        const complete =
          has('@opentelemetry/instrumentation-http') &&
          has('@opentelemetry/instrumentation-ioredis') &&
          (kind === 'sqlite' || has('@opentelemetry/instrumentation-mysql2'));
        return complete ? spans : undefined;
      });
      // A moment more, for anything else the exporters would send.
      await new Promise((wait) => setTimeout(wait, 1_000));
    });

    afterAll(async () => {
      await service?.stop();
      await receiver?.close();
      await database?.drop();
    });

    const serverSpan = () => {
      const found = trace.filter((span) => span.kind === SERVER);
      expect(found).toHaveLength(1);
      return found[0];
    };

    it('exports the HTTP server span under the client’s trace id, named after the route template', () => {
      const traces = receiver.received.filter((request) => request.path === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      for (const request of traces) {
        expect(request.method).toBe('POST');
        expect(request.contentType).toMatch(/^application\/json/);
      }
      const span = serverSpan();
      expect(span).toMatchObject({
        scope: '@opentelemetry/instrumentation-http',
        name: `GET ${CUSTOMER_ROUTE}`,
        traceId,
        parentSpanId: parentId,
      });
      expect(span.attributes).toMatchObject({
        'http.route': CUSTOMER_ROUTE,
        'http.request.method': 'GET',
        'http.response.status_code': 200,
      });
    });

    it(`exports the ${kind === 'mariadb' ? 'mysql2 and ' : ''}ioredis spans of the request in the same trace`, () => {
      const server = serverSpan();
      const redis = trace.filter((span) => span.scope === '@opentelemetry/instrumentation-ioredis');
      expect(redis.length).toBeGreaterThan(0);
      for (const span of redis) expect(descendsFrom(span, server, trace)).toBe(true);
      expect(
        redis.some((span) => /ratelimit:/.test(String(span.attributes['db.query.text']))),
      ).toBe(true);
      const queries = trace.filter(
        (span) => span.scope === '@opentelemetry/instrumentation-mysql2',
      );
      if (kind === 'sqlite') {
        expect(queries).toEqual([]);
        return;
      }
      expect(queries.length).toBeGreaterThan(0);
      for (const span of queries) expect(descendsFrom(span, server, trace)).toBe(true);
      expect(
        queries.some((span) =>
          /customers/.test(
            String(span.attributes['db.query.text'] ?? span.attributes['db.statement']),
          ),
        ),
      ).toBe(true);
      // Only this request's spans are in its trace: everything descends from its server span.
      for (const span of trace) {
        if (span !== server) expect(descendsFrom(span, server, trace)).toBe(true);
      }
    });

    it('puts the trace id (and the server span id) in the request’s log line', () => {
      const all = service.output.split('\n').filter((line) => line !== '');
      const lines = all.filter(isJson).map((line) => JSON.parse(line) as Record<string, unknown>);
      const mine = lines.filter(
        (line) => line.msg === 'request completed' && line.requestId === requestId,
      );
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        trace_id: traceId,
        span_id: serverSpan().spanId,
        route: CUSTOMER_ROUTE,
        status: 200,
      });
      // With tracing on too, the process writes nothing but JSON log lines.
      expect(all.filter((line) => !isJson(line))).toEqual([]);
    });

    it('exports spans only: no OTLP logs or metrics are sent to the trace endpoint', () => {
      const paths = new Set(
        receiver.received.map((request) => `${request.method} ${request.path}`),
      );
      expect([...paths]).toEqual(['POST /v1/traces']);
    });
  });
}

describe('traces at shutdown [sqlite]', () => {
  let receiver: OtlpReceiver | undefined;
  let service: ServiceProcess | undefined;
  afterAll(async () => {
    await service?.stop();
    await receiver?.close();
  });

  it('sends the spans still buffered when the process is stopped with SIGTERM', async () => {
    receiver = await new OtlpReceiver().listen();
    // The batch span processor's default delay (5 s): the request's span is still buffered when
    // the signal arrives.
    service = await ServiceProcess.start({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    const traceId = randomBytes(16).toString('hex');
    const response = await fetch(`${service.baseUrl}/v1/customers`, {
      headers: {
        ...bearer(newTenant()),
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      },
    });
    expect(response.status).toBe(200);
    service.signal('SIGTERM');
    expect(await service.exited).toBe(0);
    const spans = receiver.spans().filter((span) => span.traceId === traceId);
    expect(spans.filter((span) => span.kind === SERVER)).toEqual([
      expect.objectContaining({ name: 'GET /v1/customers', traceId }),
    ]);
  });
});

describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  /** The OpenTelemetry packages loaded once preload.js and everything the app uses are required. */
  function loadedPackages(env: Record<string, string>): string[] {
    const script = `
      require('./dist/src/preload.js');
      require('./dist/src/app.setup.js');
      const names = Object.keys(require.cache)
        .map((file) => /node_modules\\/(@opentelemetry\\/[^/]+)\\//.exec(file)?.[1])
        .filter(Boolean);
      process.stdout.write(JSON.stringify([...new Set(names)].sort()));
      process.exit(0);
    `;
    const output = execFileSync(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
    });
    return JSON.parse(output) as string[];
  }

  beforeAll(() => buildService());

  it('loads no OpenTelemetry SDK (only the no-op API), which it does with the endpoint set', () => {
    const without = loadedPackages({});
    expect(without).not.toContain('@opentelemetry/sdk-node');
    expect(without.filter((name) => name !== '@opentelemetry/api')).toEqual([]);

    const withEndpoint = loadedPackages({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' });
    expect(withEndpoint).toEqual(
      expect.arrayContaining([
        '@opentelemetry/sdk-node',
        '@opentelemetry/exporter-trace-otlp-http',
        '@opentelemetry/instrumentation-http',
      ]),
    );
  });
});
