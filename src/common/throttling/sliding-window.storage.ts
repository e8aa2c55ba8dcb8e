import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { MemorySlidingWindow, toWholeSeconds, WindowResult } from './sliding-window';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** The part of RedisSlidingWindow this storage relies on (a fake in the unit specs). */
export interface SharedSlidingWindow {
  readonly ready: boolean;
  readonly lastError?: string;
  hit(key: string, limit: number, ttlMs: number): Promise<WindowResult>;
  ping(): Promise<boolean>;
  close(): void;
}

/** After a failed Redis command, count locally this long before trying Redis again. */
const SUSPEND_MS = 1_000;

export type SharedState = 'up' | 'down';

/**
 * The ThrottlerStorage behind TenantThrottlerGuard: an exact sliding window, in Redis when
 * REDIS_URL is set, else in process memory (CONTRACT section 9).
 *
 * When Redis is unreachable or failing, each instance counts on its own (fail open, never 5xx or a
 * hang) and goes back to Redis by itself once it answers again. Requests Redis admits are also
 * logged locally, so an instance that takes over mid-window already knows its own recent traffic
 * instead of granting every tenant a fresh budget.
 */
export class SlidingWindowStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimits');
  private suspendedUntil = 0;
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
    const shared = this.usableShared();
    if (shared) {
      try {
        const result = await shared.hit(key, limit, ttlMs);
        if (result.admitted) this.local.record(key, ttlMs);
        this.countShared(true);
        return result;
      } catch (error) {
        // A timeout or a failing script: skip Redis for a moment rather than pay the timeout on
        // every request.
        this.suspendedUntil = this.clock() + SUSPEND_MS;
        this.countShared(false, (error as Error).message);
      }
    } else if (this.shared) {
      this.countShared(false, this.shared.lastError ?? 'not connected');
    }
    return this.local.hit(key, limit, ttlMs);
  }

  /**
   * For the readiness check: 'up' when requests are counted in Redis right now, 'down' while they
   * are counted locally (also for the moment after a failure); undefined without REDIS_URL.
   */
  async sharedState(): Promise<SharedState | undefined> {
    if (!this.shared) return undefined;
    const shared = this.usableShared();
    return shared && (await shared.ping()) ? 'up' : 'down';
  }

  onApplicationShutdown(): void {
    this.shared?.close();
  }

  private usableShared(): SharedSlidingWindow | undefined {
    if (!this.shared?.ready || this.clock() < this.suspendedUntil) return undefined;
    return this.shared;
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
