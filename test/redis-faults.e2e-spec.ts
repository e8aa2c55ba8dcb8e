import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Agent, request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, TestDatabase } from './support/databases';
import { OwnRedis } from './support/own-redis';
import { startApp } from './support/test-app';
import { bearer, newTenant, TEST_JWT_SECRET } from './support/tokens';

/*
 * The rate limiter across Redis faults (CONTRACT section 9, issue #10 "Faults"): two instances in
 * this process share one database and one redis-server of the spec's own, which is killed,
 * restarted empty, paused (SIGSTOP) and resumed while a heavy tenant floods both instances and a
 * quiet one sends a few requests per window. Every request is recorded with its client-side send
 * and receive times; the tests below check the invariants on that record.
 *
 * Rate limiting does not depend on the database, so this runs on the embedded one only.
 */

const LIMIT = 20;
const TTL_MS = 2_000;
/** Each Redis state lasts a few windows. */
const PHASE_MS = 3 * TTL_MS;
/** 40 requests a second, four times the limit per window: enough to show any budget it is given. */
const HEAVY_INTERVAL_MS = 25;
/** Five requests per window, a quarter of the limit. */
const QUIET_INTERVAL_MS = 400;
const PROBE_INTERVAL_MS = 250;
/** Every answer, also while Redis hangs (CONTRACT section 9: never a hang because of Redis). */
const ANSWER_BOUND_MS = 1_000;
/** The client gives up here, so that a hang is recorded rather than hanging the spec. */
const CLIENT_TIMEOUT_MS = 5_000;
/**
 * Requests sent and answered within [start, start + TTL - TOLERANCE] were certainly admitted
 * within one window of the server's (which is TTL long), whatever the latency.
 */
const TOLERANCE_MS = 25;
/** A saturated exact limiter admits the limit within TTL plus a request interval and latencies. */
const SATURATION_SLACK_MS = 250;
/** Time for /health/ready to notice Redis going away. */
const DOWN_SETTLE_MS = 1_000;

jest.setTimeout(120_000);

type Who = 'heavy' | 'quiet';
type RedisState = 'up' | 'down';

interface Exchange {
  who: Who;
  instance: number;
  sent: number;
  received: number;
  /** 0 when no answer arrived (connection error or client timeout). */
  status: number;
  error?: string;
}

interface Probe {
  instance: number;
  sent: number;
  received: number;
  status: number;
  body?: any;
  error?: string;
}

interface Phase {
  name: string;
  /** What /health/ready must say once the state has settled. */
  redis: RedisState;
  /** After the transition that started it completed (performance.now()). */
  start: number;
  /** Before the transition that ended it began. */
  end: number;
  /** From when the shared limit must be exact again (up phases only). */
  exactFrom?: number;
}

interface Answer {
  status: number;
  body: string;
}

/** GET over a keep-alive connection; rejects when no answer arrives within CLIENT_TIMEOUT_MS. */
function get(
  agent: Agent,
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'GET', headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        });
        res.on('error', reject);
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${CLIENT_TIMEOUT_MS} ms`)),
      CLIENT_TIMEOUT_MS,
    );
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/** Open-loop load: requests leave on a fixed schedule, whatever earlier ones are doing. */
class Traffic {
  readonly exchanges: Exchange[] = [];
  readonly probes: Probe[] = [];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly headers: Record<Who, Record<string, string>>;
  private readonly counters: Record<Who | 'probe', number> = { heavy: 0, quiet: 0, probe: 0 };
  /** The heavy tenant's latest answer from each instance. */
  private readonly lastHeavyStatus: number[];

  constructor(private readonly ports: number[]) {
    this.headers = { heavy: bearer(newTenant()), quiet: bearer(newTenant()) };
    this.lastHeavyStatus = ports.map(() => 0);
  }

  /**
   * Resolves once the heavy tenant's latest answer on every instance is a refusal: its budgets are
   * spent, the moment at which a change of counter is most likely to grant a fresh one.
   */
  async untilHeavyRefusedEverywhere(): Promise<void> {
    const deadline = performance.now() + 2 * TTL_MS;
    while (this.lastHeavyStatus.some((status) => status !== 429)) {
      // A limiter that never refuses is for the assertions to report, not for this wait.
      if (performance.now() > deadline) return;
      await sleep(5);
    }
  }

  start(): void {
    this.timers.push(
      setInterval(() => this.send('heavy'), HEAVY_INTERVAL_MS),
      setInterval(() => this.send('quiet'), QUIET_INTERVAL_MS),
      setInterval(() => this.probe(), PROBE_INTERVAL_MS),
    );
  }

  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await Promise.all([...this.inFlight]);
    this.agent.destroy();
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** Alternates the instances; an unknown customer (404) is a cheap request that was served. */
  private send(who: Who): void {
    const instance = this.counters[who]++ % this.ports.length;
    const sent = performance.now();
    const path = `/v1/customers/${newTenant()}`;
    this.track(
      get(this.agent, this.ports[instance], path, this.headers[who]).then(
        ({ status }) => {
          this.exchanges.push({ who, instance, sent, received: performance.now(), status });
          if (who === 'heavy') this.lastHeavyStatus[instance] = status;
        },
        (error: Error) => {
          const received = performance.now();
          this.exchanges.push({ who, instance, sent, received, status: 0, error: error.message });
        },
      ),
    );
  }

  private probe(): void {
    const instance = this.counters.probe++ % this.ports.length;
    const sent = performance.now();
    this.track(
      get(this.agent, this.ports[instance], '/health/ready', {}).then(
        ({ status, body }) => {
          const received = performance.now();
          let parsed: unknown;
          try {
            parsed = JSON.parse(body);
          } catch {
            parsed = body;
          }
          this.probes.push({ instance, sent, received, status, body: parsed });
        },
        (error: Error) => {
          const received = performance.now();
          this.probes.push({ instance, sent, received, status: 0, error: error.message });
        },
      ),
    );
  }
}

/** Admitted requests sent at or after `from` and answered by `to` (sorted by send time). */
function admittedWithin(admitted: Exchange[], from: number, to: number): number {
  let count = 0;
  for (const exchange of admitted) {
    if (exchange.sent > to) break;
    if (exchange.sent >= from && exchange.received <= to) count++;
  }
  return count;
}

/**
 * The largest count of requests certainly admitted within one window, over the windows that start
 * at an admitted request's send time in [from, until - TTL] (the busiest window of a set starts
 * at one of its requests).
 */
function busiestWindow(admitted: Exchange[], from = -Infinity, until = Infinity) {
  let busiest = { count: 0, at: NaN };
  for (const start of admitted) {
    if (start.sent < from || start.sent + TTL_MS > until) continue;
    const count = admittedWithin(admitted, start.sent, start.sent + TTL_MS - TOLERANCE_MS);
    if (count > busiest.count) busiest = { count, at: start.sent };
  }
  return busiest;
}

/** The fullest window of TTL + slack starting at an admitted request: the limit is reached. */
function fullestSaturatedWindow(admitted: Exchange[], from: number, until: number): number {
  let fullest = 0;
  for (const start of admitted) {
    if (start.sent < from || start.sent + TTL_MS + SATURATION_SLACK_MS > until) continue;
    const to = start.sent + TTL_MS + SATURATION_SLACK_MS;
    fullest = Math.max(fullest, admittedWithin(admitted, start.sent, to));
  }
  return fullest;
}

function p99(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.ceil(sorted.length * 0.99) - 1];
}

const round = (ms: number) => Math.round(ms * 10) / 10;

describe('rate limiting across Redis faults, two instances sharing one Redis', () => {
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    THROTTLE_LIMIT: String(LIMIT),
    THROTTLE_TTL_MS: String(TTL_MS),
  };
  const savedEnv: Record<string, string | undefined> = {};
  let redis: OwnRedis | undefined;
  let database: TestDatabase | undefined;
  const apps: NestFastifyApplication[] = [];
  let traffic: Traffic | undefined;
  const phases: Phase[] = [];
  let zero = 0;

  /** Relative to the start of the traffic, in ms, for readable failure messages. */
  const at = (time: number) => Math.round(time - zero);
  const phaseOf = (time: number) =>
    phases.find((phase) => time >= phase.start && time < phase.end)?.name ?? 'transition';

  beforeAll(async () => {
    redis = await OwnRedis.start();
    database = await createTestDatabase('sqlite');
    Object.assign(env, { REDIS_URL: redis.url, DATABASE_URL: database.url });
    for (const key of Object.keys(env)) savedEnv[key] = process.env[key];
    Object.assign(process.env, env);
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      const app = await startApp();
      apps.push(app);
      await app.listen(0, '127.0.0.1');
      ports.push((app.getHttpServer().address() as AddressInfo).port);
    }
    await waitUntilRedisUp(ports);

    traffic = new Traffic(ports);
    zero = performance.now();
    traffic.start();
    const transition = async (
      name: string,
      redisState: RedisState,
      change: () => Promise<void> | void,
    ) => {
      // Change the store when it hurts most: with both instances' budgets for the heavy tenant
      // just spent, so that a store that comes back empty (or a switch to per-instance counting)
      // would hand out fresh budgets within the same window.
      await traffic!.untilHeavyRefusedEverywhere();
      if (phases.length > 0) phases[phases.length - 1].end = performance.now();
      await change();
      const start = performance.now();
      phases.push({
        name,
        redis: redisState,
        start,
        end: Infinity,
        // Redis has been up since before the instances started in the first phase; after a
        // recovery the limit must be exact once Redis has been back for one full window.
        exactFrom: redisState === 'down' ? undefined : phases.length === 0 ? start : start + TTL_MS,
      });
      await sleep(PHASE_MS);
    };
    await transition('up', 'up', () => undefined);
    await transition('down (SIGKILL)', 'down', () => redis!.kill());
    await transition('back empty (restart)', 'up', () => redis!.restart());
    await transition('hung (SIGSTOP)', 'down', () => redis!.pause());
    await transition('back after a pause (SIGCONT)', 'up', () => redis!.resume());
    phases[phases.length - 1].end = performance.now();
    await traffic.stop();
    report();
  }, 90_000);

  afterAll(async () => {
    const errors: unknown[] = [];
    const attempt = async (step: () => Promise<void> | undefined) => {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    };
    await attempt(() => traffic?.stop());
    for (const app of apps) await attempt(() => app.close());
    await attempt(() => redis?.stop());
    await attempt(() => database?.drop());
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    if (errors.length > 0) throw errors[0];
  });

  async function waitUntilRedisUp(ports: number[]): Promise<void> {
    const agent = new Agent({ keepAlive: false });
    try {
      const deadline = Date.now() + 15_000;
      for (const port of ports) {
        for (;;) {
          const { body } = await get(agent, port, '/health/ready', {});
          if ((JSON.parse(body) as { redis?: string }).redis === 'up') break;
          if (Date.now() > deadline) throw new Error(`Redis not reported up on port ${port}`);
          await sleep(100);
        }
      }
    } finally {
      agent.destroy();
    }
  }

  const exchanges = (who?: Who) =>
    (traffic?.exchanges ?? [])
      .filter((exchange) => who === undefined || exchange.who === who)
      .sort((x, y) => x.sent - y.sent);
  const admitted = (who: Who) => exchanges(who).filter((exchange) => exchange.status === 404);
  const inPhase = <T extends { sent: number }>(items: T[], phase: Phase) =>
    items.filter((item) => item.sent >= phase.start && item.sent < phase.end);
  const statusCounts = (items: { status: number }[]) =>
    items.reduce<Record<string, number>>((counts, { status }) => {
      counts[status] = (counts[status] ?? 0) + 1;
      return counts;
    }, {});

  /** The figures of the run, for the closing note (measured, not asserted). */
  function report(): void {
    const heavy = admitted('heavy');
    const upPhase = phases[0];
    const hungPhase = phases.find((phase) => phase.name.startsWith('hung'))!;
    const latencies = (phase: Phase) =>
      inPhase(exchanges(), phase).map((exchange) => exchange.received - exchange.sent);
    const figures = {
      limit: LIMIT,
      ttlMs: TTL_MS,
      busiestHeavyWindowOverall: busiestWindow(heavy).count,
      p99LatencyMsRedisUp: round(p99(latencies(upPhase))),
      p99LatencyMsRedisHung: round(p99(latencies(hungPhase))),
      phases: phases.map((phase) => ({
        phase: phase.name,
        fromMs: at(phase.start),
        toMs: at(phase.end),
        heavy: statusCounts(inPhase(exchanges('heavy'), phase)),
        quiet: statusCounts(inPhase(exchanges('quiet'), phase)),
        busiestHeavyWindow: busiestWindow(inPhase(heavy, phase)).count,
        busiestHeavyWindowOnceExact:
          phase.exactFrom === undefined
            ? undefined
            : busiestWindow(heavy, phase.exactFrom, phase.end).count,
        p99LatencyMs: round(p99(latencies(phase))),
        maxLatencyMs: round(Math.max(...latencies(phase))),
        requestsOver25Ms: latencies(phase).filter((ms) => ms > 25).length,
        readyRedis: statusCounts(
          inPhase(traffic!.probes, phase).map((probe) => ({
            status: probe.body?.redis ?? `HTTP ${probe.status}`,
          })),
        ),
      })),
    };
    console.log(`Redis fault run:\n${JSON.stringify(figures, null, 2)}`);
  }

  it('ran every transition with both tenants sending throughout', () => {
    expect(phases.map((phase) => phase.name)).toEqual([
      'up',
      'down (SIGKILL)',
      'back empty (restart)',
      'hung (SIGSTOP)',
      'back after a pause (SIGCONT)',
    ]);
    for (const phase of phases) {
      // Open-loop senders: at least half the scheduled requests left, even on a loaded machine.
      expect(inPhase(exchanges('heavy'), phase).length).toBeGreaterThan(
        PHASE_MS / HEAVY_INTERVAL_MS / 2,
      );
      expect(inPhase(exchanges('quiet'), phase).length).toBeGreaterThanOrEqual(
        Math.floor(PHASE_MS / QUIET_INTERVAL_MS / 2),
      );
    }
  });

  it('never answers 5xx or fails a request, and answers each within a second', () => {
    const all = exchanges();
    expect(all.length).toBeGreaterThan(0);
    const unexpected = all
      .filter((exchange) => exchange.status !== 404 && exchange.status !== 429)
      .map(({ who, instance, sent, status, error }) => ({
        who,
        instance,
        at: at(sent),
        phase: phaseOf(sent),
        status,
        error,
      }));
    expect(unexpected).toEqual([]);
    const slow = all
      .filter((exchange) => exchange.received - exchange.sent >= ANSWER_BOUND_MS)
      .map(({ who, sent, received, status }) => ({
        who,
        at: at(sent),
        phase: phaseOf(sent),
        ms: Math.round(received - sent),
        status,
      }));
    expect(slow).toEqual([]);
  });

  it('never admits more than the per-instance budgets together in any window', () => {
    const heavy = admitted('heavy');
    // The busiest offending window starting in each phase, and how many windows offend.
    const offending = new Map<string, { at: number; admitted: number; windows: number }>();
    for (const start of heavy) {
      const count = admittedWithin(heavy, start.sent, start.sent + TTL_MS - TOLERANCE_MS);
      if (count <= 2 * LIMIT) continue;
      const phase = phaseOf(start.sent);
      const worst = offending.get(phase);
      const windows = (worst?.windows ?? 0) + 1;
      if (!worst || count > worst.admitted)
        offending.set(phase, { at: at(start.sent), admitted: count, windows });
      else worst.windows = windows;
    }
    expect(Object.fromEntries(offending)).toEqual({});
  });

  it('never refuses the quiet tenant', () => {
    const quiet = exchanges('quiet');
    expect(quiet.length).toBeGreaterThan(0);
    const refused = quiet
      .filter((exchange) => exchange.status !== 404)
      .map(({ instance, sent, status }) => ({
        instance,
        at: at(sent),
        phase: phaseOf(sent),
        status,
      }));
    expect(refused).toEqual([]);
  });

  it('holds the heavy tenant to exactly the shared limit once Redis has been back for a window', () => {
    const heavy = admitted('heavy');
    const outcome = phases
      .filter((phase) => phase.exactFrom !== undefined)
      .map((phase) => ({
        phase: phase.name,
        busiest: busiestWindow(heavy, phase.exactFrom, phase.end).count,
        reached: fullestSaturatedWindow(heavy, phase.exactFrom!, phase.end) >= LIMIT,
      }));
    expect(outcome.length).toBe(3);
    for (const { phase, busiest, reached } of outcome)
      expect({ phase, withinLimit: busiest <= LIMIT, reached }).toEqual({
        phase,
        withinLimit: true,
        reached: true,
      });
  });

  it('reports Redis truthfully in /health/ready, and stays ready while Redis is away', () => {
    const probes = traffic!.probes;
    expect(probes.length).toBeGreaterThan(0);
    const unready = probes
      .filter(
        (probe) =>
          probe.status !== 200 ||
          probe.body?.status !== 'up' ||
          probe.body?.database !== 'up' ||
          probe.received - probe.sent >= ANSWER_BOUND_MS,
      )
      .map((probe) => ({
        at: at(probe.sent),
        phase: phaseOf(probe.sent),
        status: probe.status,
        body: probe.body,
        ms: Math.round(probe.received - probe.sent),
        error: probe.error,
      }));
    expect(unready).toEqual([]);
    for (const phase of phases) {
      const settled = phase.start + (phase.redis === 'up' ? TTL_MS : DOWN_SETTLE_MS);
      const readings = probes.filter(
        (probe) => probe.sent >= settled && probe.received <= phase.end,
      );
      expect(readings.length).toBeGreaterThan(0);
      const untrue = readings
        .filter((probe) => probe.body?.redis !== phase.redis)
        .map((probe) => ({
          at: at(probe.sent),
          instance: probe.instance,
          redis: probe.body?.redis,
        }));
      expect({ phase: phase.name, untrue }).toEqual({ phase: phase.name, untrue: [] });
    }
  });
});
