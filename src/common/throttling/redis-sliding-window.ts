import { Redis, Result } from 'ioredis';
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
 * timeout. Reconnection is retried forever, at most a second apart, so shared counting resumes by
 * itself when Redis is back.
 */
const CLIENT_OPTIONS = {
  enableOfflineQueue: false,
  connectTimeout: 1_000,
  commandTimeout: 200,
  maxRetriesPerRequest: 0,
  retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
};

/** The shared counter: a sliding window in Redis. */
export class RedisSlidingWindow {
  private readonly client: Redis;
  /** Sorted-set members must be unique across instances, also within one microsecond. */
  private readonly instance = randomBytes(6).toString('hex');
  private sequence = 0;
  /** The last connection error, for the log line that says why counting went local. */
  lastError?: string;

  constructor(url: string) {
    this.client = new Redis(url, CLIENT_OPTIONS);
    this.client.defineCommand('slidingWindowHit', { numberOfKeys: 1, lua: SLIDING_WINDOW_HIT });
    // Without a listener ioredis reports every failed reconnection attempt as an unhandled error.
    this.client.on('error', (error: Error) => (this.lastError = error.message));
  }

  /** Connected and ready for commands; while not, callers count locally instead of waiting. */
  get ready(): boolean {
    return this.client.status === 'ready';
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

  /** Whether Redis answers now (for the readiness check). */
  async ping(): Promise<boolean> {
    if (!this.ready) return false;
    try {
      await this.client.ping();
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.client.disconnect();
  }
}
