import { Cluster, Redis, Result } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { WindowResult } from './sliding-window';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    slidingWindowHit(
      key: string,
      limit: number,
      windowUs: number,
      member: string,
    ): Result<[number, number, number], Context>;
  }
}

/**
 * The same sliding log as MemorySlidingWindow, as a sorted set per tracker, in one atomic script:
 * every instance sees and updates one log, so together they admit the limit, not a multiple of it.
 * Times come from Redis's own clock (TIME), in microseconds, so instances with skewed clocks still
 * agree on the window; integer microseconds stay exact in a sorted-set score (a double).
 *
 * KEYS[1] the tracker's log; ARGV limit, window (µs), a member name unique across instances.
 * Returns { admitted 0|1, count in window, µs until one more request fits (0 below the limit) }.
 */
const SLIDING_WINDOW_HIT = `
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local admitted = 0
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  count = count + 1
  admitted = 1
end
local wait = 0
if count >= limit then
  local edge = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  wait = tonumber(edge[2]) + window - now
end
return { admitted, count, wait }
`;

/**
 * Redis must never slow a request down by more than a moment, nor hang it (CONTRACT section 9):
 * with the offline queue off, a command while disconnected fails at once instead of waiting for a
 * reconnection; a Redis that accepts connections but stops answering costs at most the command
 * timeout (and SlidingWindowStorage decides without it much sooner). Reconnection is retried
 * forever, at most a second apart, so shared counting resumes by itself when Redis is back.
 */
const CLIENT_OPTIONS = {
  enableOfflineQueue: false,
  connectTimeout: 1_000,
  commandTimeout: 200,
  maxRetriesPerRequest: 0,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
};

/** Where the shared counters live: one server, a Redis Cluster, or a master found by Sentinel. */
export interface RedisTopology {
  /** `redis://host:port`, or several comma-separated: the seed nodes of a Redis Cluster. */
  url?: string;
  /** `host:port,host:port`: Sentinels that name the current master. */
  sentinels?: string;
  sentinelName?: string;
}

type Client = Redis | Cluster;

/**
 * The shared counter: a sliding window in Redis. Every tenant's window is one key, hash-tagged
 * (`ratelimit:{tenant:<tid>}`), so on a Redis Cluster the script always runs on the one node that
 * owns the key's slot; the cluster client follows MOVED/ASK redirections, slot migrations and
 * failovers. A single URL that turns out to point at a cluster node is switched to a cluster
 * client when it first connects.
 */
export class RedisSlidingWindow {
  private client: Client;
  /** Sorted-set members must be unique across instances, also within one microsecond. */
  private readonly instance = randomBytes(6).toString('hex');
  private sequence = 0;
  /** The last connection error, for the log line that says why counting went local. */
  lastError?: string;

  constructor(private readonly topology: RedisTopology) {
    this.client = this.connect();
  }

  /** Connected and ready for commands; while not, callers count locally instead of waiting. */
  get ready(): boolean {
    return this.client.status === 'ready';
  }

  get isCluster(): boolean {
    return this.client instanceof Cluster;
  }

  async hit(key: string, limit: number, ttlMs: number): Promise<WindowResult> {
    const member = `${this.instance}:${++this.sequence}`;
    const [admitted, count, waitUs] = await this.client.slidingWindowHit(
      key,
      limit,
      Math.round(ttlMs * 1000),
      member,
    );
    return { admitted: admitted === 1, count, waitMs: waitUs / 1000 };
  }

  /**
   * Whether Redis answers now (for the readiness check and the limiter's probe). With a key, the
   * question goes to the node that owns the key's slot, which on a cluster may be the one down.
   */
  async ping(key?: string): Promise<boolean> {
    if (!this.ready) return false;
    try {
      if (key) await this.client.exists(key);
      else await this.client.ping();
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.client.disconnect();
  }

  private connect(): Client {
    const { url, sentinels, sentinelName } = this.topology;
    let client: Client;
    if (sentinels) {
      client = new Redis({
        ...CLIENT_OPTIONS,
        sentinels: sentinels.split(',').map((node) => {
          const [host, port] = node.trim().split(':');
          return { host, port: Number(port) };
        }),
        name: sentinelName,
      });
    } else if (url?.includes(',')) {
      client = this.clusterClient(url.split(',').map((seed) => seed.trim()));
    } else {
      const single = new Redis(url!, CLIENT_OPTIONS);
      single.once('ready', () => void this.switchToClusterIfNeeded(single));
      client = single;
    }
    return this.prepare(client);
  }

  private prepare<T extends Client>(client: T): T {
    client.defineCommand('slidingWindowHit', { numberOfKeys: 1, lua: SLIDING_WINDOW_HIT });
    // Without a listener ioredis reports every failed reconnection attempt as an unhandled error.
    client.on('error', (error: Error) => (this.lastError = error.message));
    return client;
  }

  private clusterClient(seeds: string[]): Cluster {
    const first = new URL(seeds[0]);
    return new Cluster(
      seeds.map((seed) => {
        const { hostname, port } = new URL(seed);
        return { host: hostname, port: Number(port || 6379) };
      }),
      {
        enableOfflineQueue: false,
        clusterRetryStrategy: CLIENT_OPTIONS.retryStrategy,
        slotsRefreshTimeout: CLIENT_OPTIONS.connectTimeout,
        redisOptions: {
          connectTimeout: CLIENT_OPTIONS.connectTimeout,
          commandTimeout: CLIENT_OPTIONS.commandTimeout,
          maxRetriesPerRequest: 0,
          username: decodeURIComponent(first.username) || undefined,
          password: decodeURIComponent(first.password) || undefined,
          ...(first.protocol === 'rediss:' && { tls: {} }),
        },
      },
    );
  }

  /** A single URL at a node of a Redis Cluster: MOVED answers would fail every other slot. */
  private async switchToClusterIfNeeded(client: Redis): Promise<void> {
    const info = await client.info('cluster').catch(() => '');
    if (!/^cluster_enabled:1/m.test(info) || client !== this.client) return;
    this.client = this.prepare(this.clusterClient([this.topology.url!]));
    client.disconnect();
  }
}
