import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { MemorySlidingWindow, toWholeSeconds, WindowResult } from './sliding-window';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** The part of RedisSlidingWindow this storage relies on (a fake in the unit specs). */
export interface SharedSlidingWindow {
  readonly ready: boolean;
  readonly lastError?: string;
  hit(key: string, limit: number, ttlMs: number): Promise<WindowResult>;
  /** Whether Redis answers; with a key, the node that owns its slot (Redis Cluster). */
  ping(key?: string): Promise<boolean>;
  close(): void;
}

/** After a failed or slow Redis command, count locally at least this long. */
const SUSPEND_MS = 1_000;

/**
 * How long a request waits for Redis's verdict before it is decided locally. A healthy Redis on
 * the same network answers in well under a millisecond; one that is hung (SIGSTOP, a stalled
 * failover) answers never, and only the requests in flight when it stopped pay this wait: after it,
 * Redis is left alone until a background ping answers again.
 */
const DECISION_TIMEOUT_MS = 50;

export type SharedState = 'up' | 'down';

/**
 * Where rate limits are counted right now: in Redis (`shared`), per instance although Redis is
 * configured (`degraded`: it is down, hung or failing), or per instance by configuration (`local`).
 */
export type LimiterState = 'shared' | 'degraded' | 'local';

export function limiterStateOf(shared: SharedState | undefined): LimiterState {
  if (shared === undefined) return 'local';
  return shared === 'up' ? 'shared' : 'degraded';
}

/**
 * The ThrottlerStorage behind TenantThrottlerGuard: an exact sliding window, in Redis when
 * REDIS_URL is set, else in process memory (CONTRACT section 9).
 *
 * Every instance also keeps the log of what it admitted itself, and a request must fit both that
 * log (the per-instance budget) and Redis's (the shared one). While Redis answers, the shared
 * window decides and the limit is exact. When Redis is down, hung or failing, each instance counts
 * on its own (fail open, never a 5xx or a wait) and goes back to Redis by itself once it answers.
 * Because the instance's own log is always checked, no transition (Redis back empty after a
 * restart, or back after a pause) ever lets an instance exceed its own budget: a window never
 * admits more than the instances' budgets together, and once Redis has seen a whole window again
 * the shared limit is exact.
 */
export class SlidingWindowStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimits');
  private suspendedUntil = 0;
  /** Suspended after a failure; cleared by the first ping that answers after SUSPEND_MS. */
  private suspended = false;
  private probing = false;
  /** The key whose command failed: on a Redis Cluster only its slot's node may be down. */
  private failedKey?: string;
  private countingShared = true;

  constructor(
    private readonly local: MemorySlidingWindow,
    private readonly shared?: SharedSlidingWindow,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /**
   * Nest's storage contract, with this meaning: `totalHits` is the count in the window,
   * `timeToExpire` the whole seconds until one more request fits (0 below the limit), and
   * `timeToBlockExpire` (≥ 1 when blocked) how long a refused client must wait.
   */
  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const { admitted, count, waitMs } = await this.hit(key, limit, ttl);
    const wait = toWholeSeconds(waitMs);
    return {
      totalHits: count,
      timeToExpire: wait,
      isBlocked: !admitted,
      timeToBlockExpire: admitted ? 0 : Math.max(1, wait),
    };
  }

  async hit(key: string, limit: number, ttlMs: number): Promise<WindowResult> {
    const own = this.local.reserve(key, limit, ttlMs);
    // Over this instance's own budget: refused whatever Redis would say, without asking it.
    if (!own.result.admitted) return own.result;
    const shared = this.usableShared();
    if (!shared) {
      if (this.shared) this.countShared(false, this.shared.lastError ?? 'not connected');
      return own.result;
    }
    try {
      const result = await withTimeout(shared.hit(key, limit, ttlMs), DECISION_TIMEOUT_MS);
      if (!result.admitted) own.undo();
      this.countShared(true);
      return result;
    } catch (error) {
      // A timeout or a failing script: the request keeps its local admission, and Redis is
      // skipped for a moment rather than paid for on every request.
      this.suspend((error as Error).message, key);
      return own.result;
    }
  }

  /**
   * For the readiness check: 'up' when requests are counted in Redis right now, 'down' while they
   * are counted locally (also for the moment after a failure); undefined without REDIS_URL.
   */
  async sharedState(): Promise<SharedState | undefined> {
    if (!this.shared) return undefined;
    if (!this.shared.ready || this.clock() < this.suspendedUntil) return 'down';
    // Only the background probe of the failed key ends a suspension: a ping that reaches some
    // other node of a cluster says nothing about the slot that failed.
    if (this.suspended) {
      this.probe();
      return 'down';
    }
    return (await this.shared.ping()) ? 'up' : 'down';
  }

  /** Where requests are counted right now, without asking Redis (for the metrics). */
  get store(): LimiterState {
    if (!this.shared) return 'local';
    return this.shared.ready && !this.suspended && this.countingShared ? 'shared' : 'degraded';
  }

  onApplicationShutdown(): void {
    this.shared?.close();
  }

  private usableShared(): SharedSlidingWindow | undefined {
    if (!this.shared?.ready || this.clock() < this.suspendedUntil) return undefined;
    if (this.suspended) {
      this.probe();
      return undefined;
    }
    return this.shared;
  }

  private suspend(reason: string, key: string): void {
    this.suspendedUntil = this.clock() + SUSPEND_MS;
    this.suspended = true;
    this.failedKey = key;
    this.countShared(false, reason);
  }

  /** One ping at a time, in the background: no request waits for a Redis that may still hang. */
  private probe(): void {
    if (this.probing || !this.shared) return;
    this.probing = true;
    void withTimeout(this.shared.ping(this.failedKey), SUSPEND_MS)
      .catch(() => false)
      .then((answers) => {
        if (answers) this.suspended = false;
        else this.suspendedUntil = this.clock() + SUSPEND_MS;
      })
      .finally(() => (this.probing = false));
  }

  /** Logs the switches between shared and local counting, once each, not per request. */
  private countShared(shared: boolean, reason?: string): void {
    if (shared === this.countingShared) return;
    this.countingShared = shared;
    if (shared) this.logger.log('Redis answers again: rate limits are shared across instances');
    else
      this.logger.warn(
        `Redis is unavailable (${reason}): rate limits are counted per instance until it is back`,
      );
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
