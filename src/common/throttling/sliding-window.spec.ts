import fc from 'fast-check';
import { MemorySlidingWindow, toWholeSeconds, waitMs } from './sliding-window';

function windowAt(start = 1_000) {
  const clock = { now: start };
  return { clock, window: new MemorySlidingWindow(() => clock.now) };
}

describe('MemorySlidingWindow', () => {
  it('admits the limit, then refuses with the time until the oldest hit leaves', () => {
    const { clock, window } = windowAt();
    const results = [0, 100, 200].map((offset) => {
      clock.now = 1_000 + offset;
      return window.hit('t', 3, 1_000);
    });
    expect(results).toEqual([
      { admitted: true, count: 1, waitMs: 0 },
      { admitted: true, count: 2, waitMs: 0 },
      // Full now: one more fits when the hit at 1,000 leaves, at 2,000.
      { admitted: true, count: 3, waitMs: 800 },
    ]);
    clock.now = 1_500;
    expect(window.hit('t', 3, 1_000)).toEqual({ admitted: false, count: 3, waitMs: 500 });
  });

  it('treats the window as half-open: a hit exactly ttl old has left it', () => {
    const { clock, window } = windowAt();
    window.hit('t', 1, 1_000);
    clock.now = 1_999;
    expect(window.hit('t', 1, 1_000)).toEqual({ admitted: false, count: 1, waitMs: 1 });
    clock.now = 2_000;
    expect(window.hit('t', 1, 1_000)).toEqual({ admitted: true, count: 1, waitMs: 1_000 });
  });

  it('does not count refused requests, so hammering does not extend the wait', () => {
    const { clock, window } = windowAt(0);
    window.hit('t', 2, 1_000);
    clock.now = 10;
    window.hit('t', 2, 1_000);
    for (let t = 20; t < 1_000; t += 10) {
      clock.now = t;
      expect(window.hit('t', 2, 1_000)).toMatchObject({ admitted: false, count: 2 });
    }
    clock.now = 1_000;
    expect(window.hit('t', 2, 1_000)).toMatchObject({ admitted: true, count: 2 });
  });

  it('holds a burst on both sides of a fixed-window edge to the limit', () => {
    const { clock, window } = windowAt(0);
    const admitted = [];
    for (const t of [900, 950, 999, 1_000, 1_050, 1_100]) {
      clock.now = t;
      admitted.push(window.hit('t', 3, 1_000).admitted);
    }
    expect(admitted).toEqual([true, true, true, false, false, false]);
  });

  it('keeps a window per key', () => {
    const { window } = windowAt();
    expect(window.hit('a', 1, 1_000).admitted).toBe(true);
    expect(window.hit('a', 1, 1_000).admitted).toBe(false);
    expect(window.hit('b', 1, 1_000).admitted).toBe(true);
  });

  it('takes a reserved hit back on undo, and nothing for a refused one', () => {
    const { window } = windowAt();
    const first = window.reserve('t', 2, 1_000);
    const second = window.reserve('t', 2, 1_000);
    const refused = window.reserve('t', 2, 1_000);
    expect([first, second, refused].map(({ result }) => result.admitted)).toEqual([
      true,
      true,
      false,
    ]);
    refused.undo();
    expect(window.hit('t', 2, 1_000).admitted).toBe(false);
    second.undo();
    expect(window.hit('t', 2, 1_000)).toMatchObject({ admitted: true, count: 2 });
  });

  it('forgets idle keys', () => {
    const { clock, window } = windowAt(0);
    window.hit('idle', 5, 1_000);
    window.hit('busy', 5, 60_000);
    expect(window.size).toBe(2);
    clock.now = 20_000;
    window.hit('other', 5, 1_000);
    expect(window.size).toBe(2);
  });

  it('never serves more than the limit in any ttl interval, and refuses only when full', () => {
    const arrivals = fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 300 });
    fc.assert(
      fc.property(arrivals, fc.integer({ min: 1, max: 8 }), (times, limit) => {
        const ttl = 1_000;
        const { clock, window } = windowAt(0);
        const served: number[] = [];
        for (const t of [...times].sort((a, b) => a - b)) {
          clock.now = t;
          const result = window.hit('t', limit, ttl);
          const live = served.filter((s) => s > t - ttl).length;
          // Exact: admitted if and only if the last ttl holds fewer than the limit.
          expect(result.admitted).toBe(live < limit);
          if (result.admitted) served.push(t);
          // The wait is truthful and minimal: one more fits at t + wait, not a moment earlier.
          if (result.waitMs > 0) {
            const at = t + result.waitMs;
            expect(served.filter((s) => s > at - ttl).length).toBeLessThan(limit);
            expect(served.filter((s) => s > at - 1 - ttl).length).toBe(limit);
          }
        }
        for (const start of served) {
          expect(served.filter((s) => s >= start && s < start + ttl).length).toBeLessThanOrEqual(
            limit,
          );
        }
      }),
    );
  });
});

describe('waitMs', () => {
  it('is 0 below the limit and counts from the hit whose expiry frees a slot', () => {
    expect(waitMs([100, 200], 3, 1_000, 300)).toBe(0);
    expect(waitMs([100, 200, 300], 3, 1_000, 300)).toBe(800);
    // More hits than the limit (the limit was lowered): two must leave before one more fits.
    expect(waitMs([100, 200, 300, 400], 3, 1_000, 500)).toBe(700);
  });
});

describe('toWholeSeconds', () => {
  it('rounds up so that waiting that long is always enough', () => {
    expect(toWholeSeconds(0)).toBe(0);
    expect(toWholeSeconds(1)).toBe(1);
    expect(toWholeSeconds(1_000)).toBe(1);
    expect(toWholeSeconds(1_000.5)).toBe(2);
    expect(toWholeSeconds(59_999)).toBe(60);
    // hit + ttl - now in fractional milliseconds, with its rounding error.
    expect(toWholeSeconds(1234.5678901 + 60_000 - 1234.5678901)).toBe(60);
    expect(toWholeSeconds(60_000.000000007)).toBe(60);
  });
});
