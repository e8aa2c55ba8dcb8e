import { Injectable } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Where the limiter counts, as the gauge `rate_limiter_store` labels it. */
export type LimiterStore = 'shared' | 'degraded' | 'local';

export interface PoolStats {
  inUse: number;
  idle: number;
  waiting: number;
}

/**
 * The service's Prometheus metrics, in a registry of its own (each app the tests boot has its own).
 * Route labels are route templates (`/v1/customers/:customerTenantId`), never raw paths, and
 * requests that matched no route share one label, so a scan cannot blow up the label set.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from the request arriving to the answer being sent, by method and route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly rateLimitDecisions = new Counter({
    name: 'rate_limit_decisions_total',
    help: 'Rate-limit decisions, by policy (customer, anonymous) and outcome (admitted, refused)',
    labelNames: ['policy', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly idempotentReplays = new Counter({
    name: 'idempotent_replays_total',
    help: 'POST /v1/customers answered with the stored answer of an earlier MS-RequestId',
    registers: [this.registry],
  });

  readonly etagConflicts = new Counter({
    name: 'etag_conflicts_total',
    help: 'Billing-profile writes refused with 412 because the etag was stale',
    registers: [this.registry],
  });

  private limiterStore: () => LimiterStore = () => 'local';
  private poolStats: () => PoolStats | undefined = () => undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const store: Gauge<'store'> = new Gauge({
      name: 'rate_limiter_store',
      help: 'Where rate limits are counted now: 1 for the current store (shared, degraded, local)',
      labelNames: ['store'] as const,
      registers: [this.registry],
      collect: () => {
        const current = this.limiterStore();
        for (const name of ['shared', 'degraded', 'local'] as const) {
          store.set({ store: name }, name === current ? 1 : 0);
        }
      },
    });
    const pool: Gauge<'state'> = new Gauge({
      name: 'db_pool_connections',
      help: 'MySQL pool connections by state: in_use, idle, and requests waiting for one',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect: () => {
        const stats = this.poolStats();
        if (!stats) return;
        pool.set({ state: 'in_use' }, stats.inUse);
        pool.set({ state: 'idle' }, stats.idle);
        pool.set({ state: 'waiting' }, stats.waiting);
      },
    });
  }

  /** The sources read at each scrape; set once the limiter and the database exist. */
  watch(sources: { limiterStore?: () => LimiterStore; poolStats?: () => PoolStats | undefined }) {
    if (sources.limiterStore) this.limiterStore = sources.limiterStore;
    if (sources.poolStats) this.poolStats = sources.poolStats;
  }
}

/**
 * With METRICS_PORT set, metrics are served on a listener of their own (for a scraper on an
 * internal network) instead of the service's port.
 */
export function serveMetrics(metrics: Metrics, port: number, host: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
