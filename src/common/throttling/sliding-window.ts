/** What one request did to its tracker's window. */
export interface WindowResult {
  /** Whether the request is within the limit; only admitted requests are counted. */
  admitted: boolean;
  /** Requests counted in the window that ends now, this one included when admitted. */
  count: number;
  /** Milliseconds until one more request would be admitted: 0 while `count` is below the limit. */
  waitMs: number;
}

/** Idle trackers are forgotten at most this often, on the next request (no timer to manage). */
const SWEEP_INTERVAL_MS = 10_000;

interface HitLog {
  /** When each counted request was admitted, oldest first. */
  hits: number[];
  ttlMs: number;
}

/**
 * An exact sliding window kept as a log of admission times (CONTRACT section 9): a request is
 * admitted when fewer than `limit` requests were admitted in the `ttlMs` before it, so no interval of
 * `ttlMs` ever holds more than `limit` of them, across any window edge. Refused requests are not
 * logged: hammering while refused does not push the end of the wait further away.
 *
 * The clock is monotonic (`performance.now()`), so a wall-clock step cannot reorder the log.
 */
export class MemorySlidingWindow {
  private readonly logs = new Map<string, HitLog>();
  private lastSweep: number;

  constructor(private readonly clock: () => number = () => performance.now()) {
    this.lastSweep = clock();
  }

  hit(key: string, limit: number, ttlMs: number): WindowResult {
    return this.reserve(key, limit, ttlMs).result;
  }

  /**
   * `hit`, plus a way to take the hit back: an instance reserves its own budget before it asks
   * Redis, and gives the reservation back when Redis refuses the request.
   */
  reserve(key: string, limit: number, ttlMs: number): { result: WindowResult; undo: () => void } {
    const now = this.clock();
    const hits = this.liveHits(key, ttlMs, now);
    const admitted = hits.length < limit;
    if (admitted) hits.push(now);
    const result = { admitted, count: hits.length, waitMs: waitMs(hits, limit, ttlMs, now) };
    const undo = () => {
      if (!admitted) return;
      const index = hits.lastIndexOf(now);
      if (index >= 0) hits.splice(index, 1);
    };
    return { result, undo };
  }

  /** Trackers currently held in memory. */
  get size(): number {
    return this.logs.size;
  }

  private liveHits(key: string, ttlMs: number, now: number): number[] {
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep(now);
    let log = this.logs.get(key);
    if (!log) {
      log = { hits: [], ttlMs };
      this.logs.set(key, log);
    }
    log.ttlMs = ttlMs;
    dropExpired(log.hits, now - ttlMs);
    return log.hits;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, log] of this.logs) {
      const newest = log.hits[log.hits.length - 1];
      if (newest === undefined || newest <= now - log.ttlMs) this.logs.delete(key);
    }
  }
}

/** A hit at or before `cutoff` (= now - ttl) has left the window: a window is half-open. */
function dropExpired(hits: number[], cutoff: number): void {
  let expired = 0;
  while (expired < hits.length && hits[expired] <= cutoff) expired++;
  if (expired > 0) hits.splice(0, expired);
}

/**
 * How long until one more request fits: once the oldest `count - limit + 1` hits have expired, the
 * window holds `limit - 1`. That is the moment the hit at index `count - limit` leaves it.
 */
export function waitMs(hits: readonly number[], limit: number, ttlMs: number, now: number): number {
  if (hits.length < limit) return 0;
  return hits[hits.length - limit] + ttlMs - now;
}

/**
 * Whole seconds a client must wait, rounded up so that waiting exactly that long is enough. Times
 * are fractional milliseconds, so `hit + ttl - now` can exceed the ttl by a rounding error
 * (60000.000000007): a microsecond's tolerance keeps that from becoming a 61st second.
 */
export function toWholeSeconds(ms: number): number {
  return ms > ROUNDING_TOLERANCE_MS ? Math.ceil((ms - ROUNDING_TOLERANCE_MS) / 1000) : 0;
}

const ROUNDING_TOLERANCE_MS = 0.001;
