import Database from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryRunner } from 'typeorm';
import request from 'supertest';
import { describeEachDatabase } from './support/databases';
import { buildCustomer, createCustomer, buildBillingProfile } from './support/factories';
import { freePort, ServiceProcess } from './support/service-process';
import { TestApp, useTestApp } from './support/test-app';
import { bearer, newTenant, tokenFor } from './support/tokens';

/*
 * Issue #13, metrics and logs: the Prometheus answer of the real app (in process, through the
 * production configureApp) read before and after the requests a test sends, so that every counter
 * is checked to move by exactly what was sent; and the compiled service as a real process, whose
 * every output line is read back.
 */

// ---------------------------------------------------------------------------------------------
// The Prometheus text format, as far as these checks need it.

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Scrape {
  samples: Sample[];
  /** `# TYPE` lines: metric name → counter, gauge, histogram … */
  types: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parsePrometheus(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) types.set(type[1], type[2]);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) {
      labels[key] = raw.replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));
    }
    const value = { '+Inf': Infinity, '-Inf': -Infinity }[match[3]] ?? Number(match[3]);
    samples.push({ name: match[1], labels, value });
  }
  return { samples, types };
}

function series(scrape: Scrape, name: string, labels: Record<string, string> = {}): Sample[] {
  return scrape.samples.filter(
    (sample) =>
      sample.name === name &&
      Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
}

/** The value of one series; 0 when it does not exist yet (a counter not yet incremented). */
function valueOf(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = series(scrape, name, labels);
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} names several series`);
  return found[0]?.value ?? 0;
}

/** Every series of `name` that moved between two scrapes, keyed by the listed labels. */
function deltas(before: Scrape, after: Scrape, name: string, keys: string[]) {
  const key = (sample: Sample) => keys.map((label) => sample.labels[label]).join(' ');
  const old = new Map(series(before, name).map((sample) => [key(sample), sample.value]));
  const moved: Record<string, number> = {};
  for (const sample of series(after, name)) {
    const delta = sample.value - (old.get(key(sample)) ?? 0);
    if (delta !== 0) moved[key(sample)] = delta;
  }
  return moved;
}

async function scrape(server: TestApp['server']): Promise<Scrape> {
  const response = await request(server).get('/metrics').expect(200);
  return parsePrometheus(response.text);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 5_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await probe();
    if (result !== undefined) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((wait) => setTimeout(wait, 50));
  }
}

const CUSTOMER_ROUTE = '/v1/customers/:customerTenantId';
const UNMATCHED = '(unmatched)';
const NO_LIMITS = { THROTTLE_LIMIT: '100000', THROTTLE_ANONYMOUS_LIMIT: '100000' };

// ---------------------------------------------------------------------------------------------

describeEachDatabase('metrics', (kind) => {
  const t = useTestApp(kind, NO_LIMITS);

  it('counts every request by method, route template and status, and times it by route', async () => {
    const tenant = newTenant();
    const known = (await createCustomer(t.server, tenant)).id as string;
    const N = 3;
    const before = await scrape(t.server);
    for (let i = 0; i < N; i++) {
      await request(t.server).get(`/v1/customers/${known}`).set(bearer(tenant)).expect(200);
      await request(t.server).get(`/v1/customers/${randomUUID()}`).set(bearer(tenant)).expect(404);
      await request(t.server).get('/v1/customers/not-a-guid').set(bearer(tenant)).expect(400);
      await request(t.server)
        .post('/v1/customers')
        .set(bearer(tenant))
        .send(buildCustomer())
        .expect(201);
    }
    const after = await scrape(t.server);

    // Exactly these moved, by exactly this much: nothing else (the first scrape is the /metrics one).
    expect(deltas(before, after, 'http_requests_total', ['method', 'route', 'status'])).toEqual({
      [`GET ${CUSTOMER_ROUTE} 200`]: N,
      [`GET ${CUSTOMER_ROUTE} 404`]: N,
      [`GET ${CUSTOMER_ROUTE} 400`]: N,
      'POST /v1/customers 201': N,
      'GET /metrics 200': 1,
    });
    expect(
      deltas(before, after, 'http_request_duration_seconds_count', ['method', 'route']),
    ).toEqual({ [`GET ${CUSTOMER_ROUTE}`]: 3 * N, 'POST /v1/customers': N, 'GET /metrics': 1 });
    expect(after.types.get('http_request_duration_seconds')).toBe('histogram');

    for (const [method, route, count] of [
      ['GET', CUSTOMER_ROUTE, 3 * N],
      ['POST', '/v1/customers', N],
    ] as const) {
      const labels = { method, route };
      // Buckets are cumulative: each moved by at most the count, never less than the one below,
      // and +Inf by exactly the count.
      const le = (bucket: Sample) =>
        bucket.labels.le === '+Inf' ? Infinity : Number(bucket.labels.le);
      const buckets = series(after, 'http_request_duration_seconds_bucket', labels).sort(
        (a, b) => le(a) - le(b),
      );
      expect(buckets.length).toBeGreaterThan(5);
      expect(buckets[buckets.length - 1].labels.le).toBe('+Inf');
      const moved = buckets.map(
        (bucket) =>
          bucket.value -
          valueOf(before, 'http_request_duration_seconds_bucket', {
            ...labels,
            le: bucket.labels.le,
          }),
      );
      for (let i = 0; i < moved.length; i++) {
        expect(moved[i]).toBeGreaterThanOrEqual(i === 0 ? 0 : moved[i - 1]);
        expect(moved[i]).toBeLessThanOrEqual(count);
      }
      expect(moved[moved.length - 1]).toBe(count);
      expect(
        valueOf(after, 'http_request_duration_seconds_sum', labels) -
          valueOf(before, 'http_request_duration_seconds_sum', labels),
      ).toBeGreaterThan(0);
    }
  });

  it('idempotent_replays_total moves by 1 on a replayed POST, etag_conflicts_total by 1 on a 412', async () => {
    const tenant = newTenant();
    const before = await scrape(t.server);
    const body = buildCustomer();
    const requestId = `replay-${randomUUID()}`;
    const first = await request(t.server)
      .post('/v1/customers')
      .set(bearer(tenant))
      .set('MS-RequestId', requestId)
      .send(body)
      .expect(201);
    const replayed = await request(t.server)
      .post('/v1/customers')
      .set(bearer(tenant))
      .set('MS-RequestId', requestId)
      .send(body)
      .expect(201);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    const middle = await scrape(t.server);
    expect(
      valueOf(middle, 'idempotent_replays_total') - valueOf(before, 'idempotent_replays_total'),
    ).toBe(1);
    expect(valueOf(middle, 'etag_conflicts_total') - valueOf(before, 'etag_conflicts_total')).toBe(
      0,
    );

    const id = first.body.id as string;
    const path = `/v1/customers/${id}/profiles/billing`;
    const etag = (await request(t.server).get(path).set(bearer(tenant)).expect(200)).body.attributes
      .etag as string;
    const put = () =>
      request(t.server)
        .put(path)
        .set(bearer(tenant))
        .set('If-Match', `"${etag}"`)
        .send(buildBillingProfile(`Round ${randomUUID()}`));
    await put().expect(200);
    await put().expect(412);
    const after = await scrape(t.server);
    expect(valueOf(after, 'etag_conflicts_total') - valueOf(middle, 'etag_conflicts_total')).toBe(
      1,
    );
    expect(
      valueOf(after, 'idempotent_replays_total') - valueOf(middle, 'idempotent_replays_total'),
    ).toBe(0);
    expect(after.types.get('idempotent_replays_total')).toBe('counter');
    expect(after.types.get('etag_conflicts_total')).toBe('counter');
  });

  it('exports the database pool gauge on MariaDB only, and Node’s default metrics', async () => {
    const metrics = await scrape(t.server);
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_cpu_system_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_active_handles_total',
      'nodejs_gc_duration_seconds_count',
    ]) {
      expect(series(metrics, name).length).toBeGreaterThan(0);
    }
    expect(metrics.types.get('rate_limiter_store')).toBe('gauge');
    const pool = series(metrics, 'db_pool_connections');
    if (kind === 'sqlite') {
      expect(pool).toEqual([]);
      return;
    }
    expect(metrics.types.get('db_pool_connections')).toBe('gauge');
    expect(pool.map((sample) => sample.labels.state).sort()).toEqual(['idle', 'in_use', 'waiting']);
    for (const sample of pool) {
      expect(Number.isInteger(sample.value) && sample.value >= 0).toBe(true);
    }
  });

  if (kind === 'mariadb') {
    it('db_pool_connections follows connections taken from the pool and callers waiting for one', async () => {
      const state = (scraped: Scrape, name: string) =>
        valueOf(scraped, 'db_pool_connections', { state: name });
      const before = await scrape(t.server);
      const held: QueryRunner[] = [];
      const release = async (runner: QueryRunner) => {
        held.splice(held.indexOf(runner), 1);
        await runner.release();
      };
      try {
        const runner = t.dataSource.createQueryRunner();
        held.push(runner);
        await runner.connect();
        const one = await scrape(t.server);
        expect(state(one, 'in_use')).toBe(state(before, 'in_use') + 1);
        expect(state(one, 'waiting')).toBe(0);

        // Take the whole pool (connectionLimit 20), then one more caller has to wait.
        while (state(await scrape(t.server), 'in_use') < 20) {
          const next = t.dataSource.createQueryRunner();
          held.push(next);
          await next.connect();
        }
        const waiter = t.dataSource.createQueryRunner();
        held.push(waiter);
        const waiting = waiter.connect().catch(() => undefined);
        const full = await scrape(t.server);
        expect(state(full, 'in_use')).toBe(20);
        expect(state(full, 'idle')).toBe(0);
        expect(state(full, 'waiting')).toBe(1);
        await release(held[0]);
        await waiting;
      } finally {
        while (held.length > 0) await release(held[0]);
      }
      const after = await scrape(t.server);
      expect(state(after, 'waiting')).toBe(0);
      expect(state(after, 'in_use')).toBe(state(before, 'in_use'));
    });
  }
});

describe('GET /metrics and the rate-limit decisions [sqlite]', () => {
  const LIMIT = 3;
  const ANONYMOUS_LIMIT = 3;
  const t = useTestApp('sqlite', {
    THROTTLE_LIMIT: String(LIMIT),
    THROTTLE_ANONYMOUS_LIMIT: String(ANONYMOUS_LIMIT),
    THROTTLE_TTL_MS: '60000',
  });
  const decisions = (before: Scrape, after: Scrape) =>
    deltas(before, after, 'rate_limit_decisions_total', ['policy', 'outcome']);

  it('counts requests with a bad token under the anonymous policy, admitted then refused', async () => {
    // First in this app: the client IP's anonymous window is still empty.
    const before = await scrape(t.server);
    const statuses: number[] = [];
    for (let i = 0; i < ANONYMOUS_LIMIT + 2; i++) {
      const response = await request(t.server)
        .get('/v1/customers')
        .set('Authorization', 'Bearer not.a.token');
      statuses.push(response.status);
    }
    expect(statuses).toEqual([...Array(ANONYMOUS_LIMIT).fill(401), 429, 429]);
    expect(decisions(before, await scrape(t.server))).toEqual({
      'anonymous admitted': ANONYMOUS_LIMIT,
      'anonymous refused': 2,
    });
  });

  it('counts a tenant’s requests under the customer policy: admitted, then refused with 429', async () => {
    const tenant = newTenant();
    const before = await scrape(t.server);
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      statuses.push((await request(t.server).get('/v1/customers').set(bearer(tenant))).status);
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(200), 429, 429]);
    const after = await scrape(t.server);
    expect(decisions(before, after)).toEqual({
      'customer admitted': LIMIT,
      'customer refused': 2,
    });
    expect(deltas(before, after, 'http_requests_total', ['route', 'status'])).toEqual({
      '/v1/customers 200': LIMIT,
      '/v1/customers 429': 2,
      '/metrics 200': 1,
    });
  });

  it('answers GET /metrics 200 in the Prometheus text format, without a token, never rate limited', async () => {
    const before = await scrape(t.server);
    const count = 4 * Math.max(LIMIT, ANONYMOUS_LIMIT);
    for (let i = 0; i < count; i++) {
      const response = await request(t.server).get('/metrics');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(response.headers['ratelimit']).toBeUndefined();
      expect(response.text).toContain('# TYPE http_requests_total counter');
      expect(() => parsePrometheus(response.text)).not.toThrow();
    }
    const after = await scrape(t.server);
    expect(decisions(before, after)).toEqual({});
    expect(deltas(before, after, 'http_requests_total', ['route', 'status'])).toEqual({
      '/metrics 200': count + 1,
    });
  });

  it('keeps the route label set small under 1,000 random paths: templates, one label for the unmatched', async () => {
    const fastify = t.app.getHttpAdapter().getInstance();
    const before = await scrape(t.server);
    const segments: string[] = [];
    const segment = () => {
      const value = randomBytes(6).toString('hex');
      segments.push(value);
      return value;
    };
    const shapes = [
      () => `/v1/${segment()}`,
      () => `/v1/customers/${segment()}/${segment()}`,
      () => `/v1/customers/${segment()}`,
      () => `/v1/customers/${randomUUID()}/profiles/${segment()}`,
      () => `/v1/relationshiprequests/${segment()}/acceptance/${segment()}`,
      () => `/${segment()}`,
      () => `/${segment()}/${segment()}?q=${segment()}`,
      () => `/health/${segment()}`,
      () => `/v1/${segment()}%zz`,
      () => `/V1/CUSTOMERS/${segment()}`,
    ];
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD'] as const;
    const statuses = new Set<number>();
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          fastify.inject({
            method: methods[(batch + i) % methods.length],
            url: shapes[i % shapes.length](),
            headers: i % 2 ? bearer(newTenant()) : {},
          }),
        ),
      );
      for (const answer of answers) statuses.add(answer.statusCode);
    }
    expect(statuses.has(500)).toBe(false);
    const after = await scrape(t.server);

    const routesOf = (scraped: Scrape) =>
      new Set(series(scraped, 'http_requests_total').map((sample) => sample.labels.route));
    const routes = [...routesOf(after)];
    expect(routes).toContain(UNMATCHED);
    // Only routes the service declares, and the one shared label for everything else.
    for (const { labels } of series(after, 'http_requests_total')) {
      const { method, route } = labels;
      expect({
        method,
        route,
        declared: route === UNMATCHED || fastify.hasRoute({ method, url: route }),
      }).toEqual({ method, route, declared: true });
      expect(segments.some((value) => route.includes(value))).toBe(false);
      expect(route).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/i);
    }
    expect(routes.length).toBeLessThanOrEqual(20);
    expect(routes.length - routesOf(before).size).toBeLessThanOrEqual(10);
    const durationRoutes = new Set(
      series(after, 'http_request_duration_seconds_count').map((sample) => sample.labels.route),
    );
    expect([...durationRoutes].sort()).toEqual([...routes].sort());
    const requests = (scraped: Scrape) =>
      series(scraped, 'http_requests_total').reduce((sum, sample) => sum + sample.value, 0);
    expect(requests(after) - requests(before)).toBe(1_000 + 1);
  });
});

describe('rate_limiter_store', () => {
  const stores = async (server: TestApp['server']) => {
    const scraped = await scrape(server);
    return Object.fromEntries(
      series(scraped, 'rate_limiter_store').map((sample) => [sample.labels.store, sample.value]),
    );
  };

  describe('without REDIS_URL [sqlite]', () => {
    const t = useTestApp('sqlite');
    it('is local', async () => {
      expect(await stores(t.server)).toEqual({ shared: 0, degraded: 0, local: 1 });
    });
  });

  describe('with REDIS_URL at a Redis that answers [sqlite]', () => {
    const t = useTestApp('sqlite', { REDIS_URL: 'redis://127.0.0.1:6379' });
    it('is shared', async () => {
      await until('the limiter to reach Redis', async () => {
        const now = await stores(t.server);
        return now.shared === 1 ? now : undefined;
      });
      expect(await stores(t.server)).toEqual({ shared: 1, degraded: 0, local: 0 });
    });
  });

  describe('with REDIS_URL at a closed port [sqlite]', () => {
    // Port 1 (tcpmux) is not served on a test machine: every connection is refused.
    const t = useTestApp('sqlite', { REDIS_URL: 'redis://127.0.0.1:1' });
    it('is degraded', async () => {
      expect(await stores(t.server)).toEqual({ shared: 0, degraded: 1, local: 0 });
      await request(t.server).get('/v1/customers').set(bearer(newTenant())).expect(200);
      expect(await stores(t.server)).toEqual({ shared: 0, degraded: 1, local: 0 });
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The real process.

describe('METRICS_PORT (a real process)', () => {
  let service: ServiceProcess | undefined;
  afterAll(() => service?.stop());

  it('serves metrics on their own listener only, counting the requests of the main port', async () => {
    const metricsPort = await freePort();
    service = await ServiceProcess.start({ METRICS_PORT: String(metricsPort) });
    const metricsUrl = `http://127.0.0.1:${metricsPort}`;
    expect((await fetch(`${service.baseUrl}/metrics`)).status).toBe(404);
    await fetch(`${service.baseUrl}/v1/customers`, { headers: bearer(newTenant()) });

    const response = await fetch(`${metricsUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const scraped = parsePrometheus(await response.text());
    expect(valueOf(scraped, 'http_requests_total', { route: UNMATCHED, status: '404' })).toBe(1);
    expect(valueOf(scraped, 'http_requests_total', { route: '/v1/customers', status: '200' })).toBe(
      1,
    );
    expect(series(scraped, 'http_requests_total', { route: '/metrics' })).toEqual([]);
    expect(series(scraped, 'process_cpu_user_seconds_total').length).toBe(1);

    expect((await fetch(`${metricsUrl}/`)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/v1/customers`)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/metrics`, { method: 'POST' })).status).toBe(404);
  });
});

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/**
 * POSTs on one keep-alive connection whose bodies arrive a moment after their headers, as Node's
 * own HTTP client sends them: answered with their MS-* ids.
 */
async function slowBodies(
  port: number,
  path: string,
  headers: Record<string, string>,
  count: number,
) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const answers: { status: number; requestId: string; correlationId: string }[] = [];
  try {
    for (let i = 0; i < count; i++) {
      answers.push(
        await new Promise((resolveAnswer, reject) => {
          const body = '{}';
          const call = httpRequest(
            {
              host: '127.0.0.1',
              port,
              path,
              method: 'POST',
              agent,
              headers: {
                ...headers,
                'Content-Type': 'application/json',
                'Content-Length': body.length,
              },
            },
            (response) => {
              response.resume();
              response.once('end', () =>
                resolveAnswer({
                  status: response.statusCode!,
                  requestId: String(response.headers['ms-requestid']),
                  correlationId: String(response.headers['ms-correlationid']),
                }),
              );
            },
          );
          call.once('error', reject);
          call.flushHeaders();
          setTimeout(() => call.end(body), 20);
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  return answers;
}

interface LogLine {
  level: number;
  time: number;
  msg: string;
  [field: string]: unknown;
}

describe('the log stream (a real process)', () => {
  interface Sent {
    what: string;
    status: number;
    requestId: string;
    correlationId: string;
    route: string;
    method: string;
    tenantId?: string;
  }
  const sent: Sent[] = [];
  let service: ServiceProcess | undefined;
  let dir: string | undefined;
  /** Every line the process wrote (ServiceProcess.output holds stdout and stderr together). */
  let lines: string[] = [];
  let logs: LogLine[] = [];
  const clean = (raw: string) => raw.replace(CONTROL_CHARACTERS, '').trim().slice(0, 128);
  const rawRequestId = `tab\there\t${'r'.repeat(1_000)}`;
  const rawCorrelationId = `c\t${randomUUID()}${'c'.repeat(1_000)}`;
  const HISTORY_ROUTE = '/v1/customers/:customerTenantId/profiles/billing/history';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'observability-logs-'));
    const file = join(dir, 'customers.sqlite');
    service = await ServiceProcess.start({ LOG_LEVEL: 'info', DATABASE_URL: `sqlite:${file}` });
    const { baseUrl } = service;
    const tenant = newTenant();
    const auth = { Authorization: `Bearer ${tokenFor(tenant)}` };

    async function send(
      what: string,
      path: string,
      init: { method?: string; headers?: Record<string, string>; body?: string },
      route: string,
      tenantId?: string,
    ): Promise<Response> {
      const response = await fetch(`${baseUrl}${path}`, init);
      await response.arrayBuffer();
      sent.push({
        what,
        status: response.status,
        requestId: response.headers.get('ms-requestid')!,
        correlationId: response.headers.get('ms-correlationid')!,
        route,
        method: init.method ?? 'GET',
        tenantId,
      });
      return response;
    }
    const ids = (name: string) => ({
      'MS-RequestId': `${name}-${randomUUID()}`,
      'MS-CorrelationId': `corr-${name}-${randomUUID()}`,
    });

    const withIds = ids('live');
    const live = await send('live, ids sent', '/health/live', { headers: withIds }, '/health/live');
    expect(live.headers.get('ms-requestid')).toBe(withIds['MS-RequestId']);
    expect(live.headers.get('ms-correlationid')).toBe(withIds['MS-CorrelationId']);
    await send('live, no ids', '/health/live', {}, '/health/live');

    const created = await send(
      'create',
      '/v1/customers',
      {
        method: 'POST',
        headers: { ...auth, ...ids('create'), 'Content-Type': 'application/json' },
        body: JSON.stringify(buildCustomer()),
      },
      '/v1/customers',
      tenant,
    );
    expect(created.status).toBe(201);
    // (This list request is logged too; it is not one of the requests checked below.)
    const list = await fetch(`${baseUrl}/v1/customers?size=1`, { headers: auth });
    const id = ((await list.json()) as { items: { id: string }[] }).items[0].id;

    const read = await send(
      'read',
      `/v1/customers/${id}`,
      { headers: auth },
      CUSTOMER_ROUTE,
      tenant,
    );
    expect(read.status).toBe(200);
    const unknown = await send(
      'unknown id',
      `/v1/customers/${randomUUID()}`,
      { headers: { ...auth, ...ids('unknown') } },
      CUSTOMER_ROUTE,
      tenant,
    );
    expect(unknown.status).toBe(404);
    const badId = await send(
      'bad id',
      '/v1/customers/not-a-guid',
      { headers: auth },
      CUSTOMER_ROUTE,
      tenant,
    );
    expect(badId.status).toBe(400);
    expect((await send('no route', `/nowhere/${randomUUID()}`, {}, UNMATCHED)).status).toBe(404);
    expect((await send('no token', '/v1/customers', {}, '/v1/customers')).status).toBe(401);
    const badEncoding = await send(
      'bad percent-encoding',
      '/v1/customers%zz',
      { headers: auth },
      UNMATCHED,
    );
    expect(badEncoding.status).toBe(400);

    // Bodies that arrive after their headers, a dozen on one keep-alive connection.
    const validation = '/v1/validations/address';
    for (const answer of await slowBodies(service.port, validation, auth, 12)) {
      expect(answer.status).toBe(200);
      sent.push({
        what: 'slow body',
        ...answer,
        route: validation,
        method: 'POST',
        tenantId: tenant,
      });
    }

    // Ids with control characters (a tab is the only one HTTP lets through) and of 1,000
    // characters.
    await send(
      'hostile ids',
      '/health/live',
      { headers: { 'MS-RequestId': rawRequestId, 'MS-CorrelationId': rawCorrelationId } },
      '/health/live',
    );

    // A 500 (sent without ids): the history table is taken away under the running service.
    const database = new Database(file);
    database.exec('ALTER TABLE billing_profile_changes RENAME TO billing_profile_changes_gone');
    database.close();
    const failed = await send(
      'a 500',
      `/v1/customers/${id}/profiles/billing/history`,
      { headers: auth },
      HISTORY_ROUTE,
      tenant,
    );
    expect(failed.status).toBe(500);

    service.signal('SIGTERM');
    expect(await service.exited).toBe(0);
    lines = service.output.split('\n').filter((line) => line !== '');
    logs = lines.filter(isJson).map((line) => JSON.parse(line) as LogLine);
  });

  afterAll(async () => {
    await service?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes every line as JSON of one shape: numeric level and time, msg, the service', () => {
    expect(lines.filter((line) => !isJson(line))).toEqual([]);
    expect(logs.length).toBeGreaterThan(sent.length);
    for (const log of logs) {
      expect(log).toEqual(
        expect.objectContaining({
          level: expect.any(Number),
          time: expect.any(Number),
          msg: expect.any(String),
          service: 'customer-service',
        }),
      );
      expect(log).not.toHaveProperty('message');
      expect(log).not.toHaveProperty('timestamp');
    }
    // Nest's own lines (start-up, shutdown) are in the same stream and shape.
    expect(logs.some((log) => log.context === 'NestApplication')).toBe(true);
    expect(logs.some((log) => log.context === 'Shutdown')).toBe(true);
  });

  it('writes one "request completed" line per request: the ids as echoed, route, status, duration, tenant', () => {
    const completed = logs.filter((log) => log.msg === 'request completed');
    for (const request of sent) {
      expect(request.requestId).toEqual(expect.any(String));
      expect(request.correlationId).toEqual(expect.any(String));
    }
    expect(
      sent.map((request) => ({
        what: request.what,
        lines: completed.filter((log) => log.requestId === request.requestId),
      })),
    ).toEqual(
      sent.map((request) => ({
        what: request.what,
        lines: [
          {
            level: 30,
            time: expect.any(Number),
            service: 'customer-service',
            msg: 'request completed',
            requestId: request.requestId,
            correlationId: request.correlationId,
            method: request.method,
            route: request.route,
            status: request.status,
            durationMs: expect.any(Number),
            ...(request.tenantId && { tenantId: request.tenantId }),
          },
        ],
      })),
    );
    for (const log of completed) {
      expect(typeof log.requestId === 'string' && typeof log.correlationId === 'string').toBe(true);
      expect(log.durationMs).toBeGreaterThan(0);
    }
    // Generated ids are GUIDs, and they are what was echoed.
    const generated = sent.find((request) => request.what === 'live, no ids')!;
    expect(generated.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.requestId).not.toBe(generated.correlationId);
  });

  it('echoes and logs ids from clients stripped of control characters and cut to 128 characters', () => {
    const hostile = sent.find((request) => request.what === 'hostile ids')!;
    expect(clean(rawRequestId)).toHaveLength(128);
    expect(clean(rawRequestId).startsWith('tabhere')).toBe(true);
    expect(hostile.requestId).toBe(clean(rawRequestId));
    expect(hostile.correlationId).toBe(clean(rawCorrelationId));
    const line = logs.find((log) => log.requestId === hostile.requestId);
    expect(line).toMatchObject({ correlationId: clean(rawCorrelationId) });
    expect(lines.some((text) => text.includes('tab\\there'))).toBe(false);
  });

  it('logs a 500 at error level with the ids its answer carried, fresh ones included', () => {
    const failure = sent.find((request) => request.what === 'a 500')!;
    expect(logs.filter((log) => log.level >= 50)).toEqual([
      expect.objectContaining({
        level: 50,
        msg: 'Request failed',
        requestId: failure.requestId,
        correlationId: failure.correlationId,
        err: expect.objectContaining({
          message: expect.stringContaining('billing_profile_changes'),
        }),
      }),
    ]);
  });
});

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
