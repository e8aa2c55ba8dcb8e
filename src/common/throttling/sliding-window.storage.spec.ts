import { Logger } from '@nestjs/common';
import { MemorySlidingWindow, WindowResult } from './sliding-window';
import { SharedSlidingWindow, SlidingWindowStorage } from './sliding-window.storage';

/** Stands in for Redis: its own window, and switches for "disconnected" and "failing". */
class FakeShared implements SharedSlidingWindow {
  ready = true;
  failing = false;
  /** A Redis that stopped answering (SIGSTOP): commands and pings never settle. */
  hung = false;
  calls = 0;
  closed = false;
  readonly lastError = 'connect ECONNREFUSED';

  private window: MemorySlidingWindow;

  constructor(private readonly now: () => number) {
    this.window = new MemorySlidingWindow(now);
  }

  hit(key: string, limit: number, ttlMs: number): Promise<WindowResult> {
    this.calls++;
    if (this.hung) return new Promise(() => undefined);
    if (this.failing) return Promise.reject(new Error('Command timed out'));
    return Promise.resolve(this.window.hit(key, limit, ttlMs));
  }

  pings = 0;

  ping(_key?: string): Promise<boolean> {
    this.pings++;
    if (this.hung) return new Promise(() => undefined);
    return Promise.resolve(this.ready && !this.failing);
  }

  /** Redis restarted: its window starts empty. */
  restartEmpty(): void {
    this.window = new MemorySlidingWindow(this.now);
  }

  close(): void {
    this.closed = true;
  }
}

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function setUp(withShared = true) {
  const clock = { now: 0 };
  const now = () => clock.now;
  const shared = new FakeShared(now);
  const storage = new SlidingWindowStorage(
    new MemorySlidingWindow(now),
    withShared ? shared : undefined,
    now,
  );
  return { clock, shared, storage };
}

describe('SlidingWindowStorage', () => {
  let warn: jest.SpyInstance;
  let log: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('answers in Nest terms: hits in the window, whole seconds to wait, ≥ 1 when blocked', async () => {
    const { clock, storage } = setUp(false);
    await expect(storage.increment('t', 2_000, 2)).resolves.toEqual({
      totalHits: 1,
      timeToExpire: 0,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    clock.now = 300;
    await expect(storage.increment('t', 2_000, 2)).resolves.toEqual({
      totalHits: 2,
      timeToExpire: 2,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    clock.now = 1_999.5;
    await expect(storage.increment('t', 2_000, 2)).resolves.toEqual({
      totalHits: 2,
      timeToExpire: 1,
      isBlocked: true,
      timeToBlockExpire: 1,
    });
  });

  it('counts in memory and reports no Redis state when none is configured', async () => {
    const { storage } = setUp(false);
    expect((await storage.hit('t', 1, 1_000)).admitted).toBe(true);
    expect((await storage.hit('t', 1, 1_000)).admitted).toBe(false);
    await expect(storage.sharedState()).resolves.toBeUndefined();
  });

  it('counts in the shared window while it is ready', async () => {
    const { shared, storage } = setUp();
    await storage.hit('t', 5, 1_000);
    await storage.hit('t', 5, 1_000);
    expect(shared.calls).toBe(2);
    await expect(storage.sharedState()).resolves.toBe('up');
  });

  it('takes over locally when disconnected, knowing the hits the shared window admitted', async () => {
    const { shared, storage } = setUp();
    await storage.hit('t', 3, 1_000);
    await storage.hit('t', 3, 1_000);
    shared.ready = false;
    await expect(storage.hit('t', 3, 1_000)).resolves.toMatchObject({ admitted: true, count: 3 });
    await expect(storage.hit('t', 3, 1_000)).resolves.toMatchObject({ admitted: false });
    expect(shared.calls).toBe(2);
    await expect(storage.sharedState()).resolves.toBe('down');
  });

  it('falls back at once when a command fails, and retries the shared window a second later', async () => {
    const { clock, shared, storage } = setUp();
    shared.failing = true;
    await expect(storage.hit('t', 5, 10_000)).resolves.toMatchObject({ admitted: true, count: 1 });
    expect(shared.calls).toBe(1);
    clock.now = 999;
    await expect(storage.hit('t', 5, 10_000)).resolves.toMatchObject({ count: 2 });
    expect(shared.calls).toBe(1);
    // Readiness says what the counting does: local, even though Redis answers a ping by now.
    shared.failing = false;
    await expect(storage.sharedState()).resolves.toBe('down');

    clock.now = 1_000;
    // Past the suspension the readiness check sends the probe; its answer ends the suspension.
    await expect(storage.sharedState()).resolves.toBe('down');
    await flushPromises();
    await expect(storage.sharedState()).resolves.toBe('up');
    // Shared again: its own window, which never saw the two local hits.
    await expect(storage.hit('t', 5, 10_000)).resolves.toMatchObject({ count: 1 });
    expect(shared.calls).toBe(2);
    // One line per switch, not one per request.
    expect(warn.mock.calls).toEqual([[expect.stringContaining('Command timed out')]]);
    expect(log.mock.calls).toEqual([[expect.stringContaining('shared across instances')]]);
  });

  it('never lets one instance exceed its own budget when Redis comes back empty', async () => {
    const { clock, shared, storage } = setUp();
    shared.ready = false;
    for (let i = 0; i < 3; i++) await storage.hit('t', 3, 10_000);
    shared.ready = true;
    shared.restartEmpty();
    clock.now = 5_000;
    // Redis would admit three more; this instance already served its three in the window.
    await expect(storage.hit('t', 3, 10_000)).resolves.toMatchObject({ admitted: false });
    expect(shared.calls).toBe(0);
    clock.now = 10_001;
    await expect(storage.hit('t', 3, 10_000)).resolves.toMatchObject({ admitted: true });
    expect(shared.calls).toBe(1);
  });

  it('gives the local reservation back when Redis refuses', async () => {
    const { shared, storage } = setUp();
    // Another instance used the shared budget: Redis holds two hits this instance never made.
    await shared.hit('t', 2, 10_000);
    await shared.hit('t', 2, 10_000);
    await expect(storage.hit('t', 2, 10_000)).resolves.toMatchObject({ admitted: false });
    shared.ready = false;
    // Counting locally now, this instance still has its whole budget: the refusal was not kept.
    await expect(storage.hit('t', 2, 10_000)).resolves.toMatchObject({ admitted: true, count: 1 });
  });

  it('decides without Redis once it hangs, and asks it again only after a ping answers', async () => {
    const { clock, shared, storage } = setUp();
    shared.hung = true;
    // The request in flight when Redis stopped waits for the decision timeout, then counts locally.
    await expect(storage.hit('t', 5, 10_000)).resolves.toMatchObject({ admitted: true, count: 1 });
    expect(shared.calls).toBe(1);
    clock.now = 500;
    await expect(storage.hit('t', 5, 10_000)).resolves.toMatchObject({ count: 2 });
    clock.now = 1_500;
    // Past the suspension: a background ping is sent, the request does not wait for it.
    await expect(storage.hit('t', 5, 10_000)).resolves.toMatchObject({ count: 3 });
    await expect(storage.hit('t', 5, 10_000)).resolves.toMatchObject({ count: 4 });
    expect(shared.calls).toBe(1);
    expect(shared.pings).toBe(1);
    shared.hung = false;
    // The hung probe gives up after SUSPEND_MS; the next one answers.
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    clock.now = 3_000;
    await expect(storage.sharedState()).resolves.toBe('down');
    await flushPromises();
    await expect(storage.sharedState()).resolves.toBe('up');
    await storage.hit('t', 5, 10_000);
    expect(shared.calls).toBe(2);
  });

  it('closes the Redis connection on shutdown', () => {
    const { shared, storage } = setUp();
    storage.onApplicationShutdown();
    expect(shared.closed).toBe(true);
  });
});
