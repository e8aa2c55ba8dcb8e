import { execFileSync } from 'node:child_process';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { keySlot, redisCli, RedisCluster, RedisSentinels } from '../support/redis-cluster';
import { buildService, ServiceProcess } from '../support/service-process';
import { bearer, newTenant } from '../support/tokens';
import { Answer, call, label, percentile, round, tally, times } from './http';

/*
 * Issue #12: the rate limiter (CONTRACT section 9) on a Redis Cluster, and on Redis Sentinel. Two
 * service processes share the limiter's store; three heavy tenants, whose keys
 * (`ratelimit:{tenant:<tid>}`) live on three different masters, each send three times the limit per
 * window, alternating the instances. While the store answers, each tenant gets exactly the limit
 * per window across both instances; when the master holding one tenant's slot is killed, nothing
 * fails and no window admits more than the two instances' budgets; once its replica has taken
 * over (and one window has passed) the limit is exact again.
 *
 * Rate limiting does not depend on the database, so each instance runs on an SQLite file of its own.
 */

/**
 * 20 per 2 s: three tenants at three times the limit are 90 requests a second over two instances.
 * At 40 (180 a second) on a loaded two-CPU machine the instances' event loops lag past the
 * limiter's 50 ms wait for Redis, and it counts locally for the first seconds (see the report in
 * docs/scaling.md); CLUSTER_THROTTLE_LIMIT=40 runs it so.
 */
const LIMIT = Number(process.env.CLUSTER_THROTTLE_LIMIT ?? 20);
const TTL_MS = 2_000;
/** About three times the limit per window, per tenant. */
const HEAVY_INTERVAL_MS = Math.floor(TTL_MS / (3 * LIMIT));
const PROBE_INTERVAL_MS = 200;
/** Three windows per steady phase. */
const PHASE_MS = 3 * TTL_MS;
/** CONTRACT section 9: answers "within a few milliseconds", never a hang because of Redis. */
const ANSWER_BOUND_MS = 1_000;
const CLIENT_TIMEOUT_MS = 5_000;
/** Requests sent and answered within [t, t + TTL - TOLERANCE] were admitted in one window. */
const TOLERANCE_MS = 25;
/** A saturated exact limiter admits the limit within TTL plus an interval and latencies. */
const SATURATION_SLACK_MS = 250;
/** Time for an instance to notice that a master is gone (its connection drops at once). */
const DOWN_SETTLE_MS = 1_000;

jest.setTimeout(120_000);

const describeOnRedis = process.env.CI === 'true' || hasRedis() ? describe : describe.skip;

function hasRedis(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Exchange extends Answer {
  tenant: number;
  instance: number;
}

interface Probe extends Answer {
  instance: number;
}

/** Open-loop load: each tenant's requests leave on a fixed schedule, alternating the instances. */
class Traffic {
  readonly exchanges: Exchange[] = [];
  readonly probes: Probe[] = [];
  private readonly agents: Agent[];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sent: number[];
  private probesSent = 0;

  constructor(
    private readonly ports: number[],
    private readonly tenants: string[],
  ) {
    this.agents = ports.map(() => new Agent({ keepAlive: true, maxSockets: 64 }));
    this.sent = tenants.map(() => 0);
  }

  start(): void {
    this.tenants.forEach((_, tenant) =>
      this.timers.push(setInterval(() => this.send(tenant), HEAVY_INTERVAL_MS)),
    );
    this.timers.push(setInterval(() => this.probe(), PROBE_INTERVAL_MS));
  }

  async stop(): Promise<void> {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    await Promise.all([...this.inFlight]);
    for (const agent of this.agents) agent.destroy();
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  /** An unknown customer (404) is a cheap request that was admitted and served. */
  private send(tenant: number): void {
    const instance = this.sent[tenant]++ % this.ports.length;
    const path = `/v1/customers/${newTenant()}`;
    this.track(
      call(this.agents[instance], this.ports[instance], 'GET', path, {
        headers: bearer(this.tenants[tenant]),
        timeoutMs: CLIENT_TIMEOUT_MS,
      }).then((answer) => {
        this.exchanges.push({ ...answer, tenant, instance });
      }),
    );
  }

  private probe(): void {
    const instance = this.probesSent++ % this.ports.length;
    this.track(
      call(this.agents[instance], this.ports[instance], 'GET', '/health/ready', {
        timeoutMs: CLIENT_TIMEOUT_MS,
      }).then((answer) => {
        this.probes.push({ ...answer, instance });
      }),
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

/** The most requests certainly admitted within one window starting in [from, until - TTL]. */
function busiestWindow(admitted: Exchange[], from: number, until: number): number {
  let busiest = 0;
  for (const start of admitted) {
    if (start.sent < from || start.sent + TTL_MS > until) continue;
    busiest = Math.max(
      busiest,
      admittedWithin(admitted, start.sent, start.sent + TTL_MS - TOLERANCE_MS),
    );
  }
  return busiest;
}

/** The fullest window of TTL + slack starting in [from, until]: the limit is reached. */
function fullestSaturatedWindow(admitted: Exchange[], from: number, until: number): number {
  let fullest = 0;
  for (const start of admitted) {
    if (start.sent < from || start.sent + TTL_MS + SATURATION_SLACK_MS > until) continue;
    fullest = Math.max(
      fullest,
      admittedWithin(admitted, start.sent, start.sent + TTL_MS + SATURATION_SLACK_MS),
    );
  }
  return fullest;
}

interface Phase {
  name: string;
  start: number;
  end: number;
}

/** Two service instances on one store, the traffic against them, and what it recorded. */
class Run {
  readonly phases: Phase[] = [];
  services: ServiceProcess[] = [];
  traffic?: Traffic;
  zero = 0;
  /** Whether both instances said limiter "shared" before the traffic began. */
  sharedBeforeTraffic = false;

  constructor(
    readonly name: string,
    readonly tenants: string[],
  ) {}

  /** `env` includes the store's guardEnv, so that the instances die with it. */
  async start(env: Record<string, string>): Promise<void> {
    this.services = await Promise.all(
      times(2, () =>
        ServiceProcess.start({
          THROTTLE_LIMIT: String(LIMIT),
          THROTTLE_TTL_MS: String(TTL_MS),
          LOG_LEVEL: 'warn',
          ...env,
        }),
      ),
    );
    this.sharedBeforeTraffic = await this.waitUntilShared();
    this.traffic = new Traffic(
      this.services.map((service) => service.port),
      this.tenants,
    );
    this.zero = performance.now();
    this.traffic.start();
  }

  /**
   * Waits (up to 15 s) until both instances say limiter "shared" in /health/ready, so that the
   * first window is counted in the store; false if they never do (the checks then say why).
   */
  private async waitUntilShared(): Promise<boolean> {
    const agent = new Agent({ keepAlive: false });
    const deadline = performance.now() + 15_000;
    try {
      for (const service of this.services) {
        for (;;) {
          const answer = await call(agent, service.port, 'GET', '/health/ready');
          if (answer.body?.limiter === 'shared') break;
          if (performance.now() > deadline) return false;
          await sleep(100);
        }
      }
      return true;
    } finally {
      agent.destroy();
    }
  }

  /** Runs `change`, then a phase of `ms` that starts once the change is done. */
  async phase(name: string, ms: number, change?: () => Promise<unknown>): Promise<Phase> {
    const previous = this.phases[this.phases.length - 1];
    if (previous) previous.end = performance.now();
    await change?.();
    const phase = { name, start: performance.now(), end: Infinity };
    this.phases.push(phase);
    await sleep(ms);
    phase.end = performance.now();
    return phase;
  }

  async stop(): Promise<void> {
    await this.traffic?.stop();
    await Promise.all(this.services.map((service) => service.stop()));
  }

  exchanges(tenant?: number): Exchange[] {
    return (this.traffic?.exchanges ?? [])
      .filter((exchange) => tenant === undefined || exchange.tenant === tenant)
      .sort((x, y) => x.sent - y.sent);
  }

  admitted(tenant: number): Exchange[] {
    return this.exchanges(tenant).filter((exchange) => exchange.status === 404);
  }

  probes(from: number, to: number): Probe[] {
    return (this.traffic?.probes ?? []).filter(
      (probe) => probe.sent >= from && probe.received <= to,
    );
  }

  at(time: number): number {
    return Math.round(time - this.zero);
  }

  /** Every answer not a 404 or a 429, or not within the bound (empty when all is well). */
  broken(): string[] {
    return this.exchanges()
      .filter(
        (exchange) =>
          (exchange.status !== 404 && exchange.status !== 429) || exchange.ms >= ANSWER_BOUND_MS,
      )
      .map(
        (exchange) =>
          `tenant ${exchange.tenant} via ${exchange.instance} at ${this.at(exchange.sent)} ms: ${label(exchange)} after ${Math.round(exchange.ms)} ms`,
      );
  }

  /** When (ms from the start) the windows that admitted more than the limit began: `[from, to]`. */
  private overLimitStarts(tenant: number, from: number, until: number): [number, number] | [] {
    const admitted = this.admitted(tenant);
    const starts = admitted
      .filter((start) => start.sent >= from && start.sent + TTL_MS <= until)
      .filter(
        (start) => admittedWithin(admitted, start.sent, start.sent + TTL_MS - TOLERANCE_MS) > LIMIT,
      )
      .map((start) => this.at(start.sent));
    return starts.length === 0 ? [] : [starts[0], starts[starts.length - 1]];
  }

  /** Per tenant: the busiest window, and whether the limit was reached. */
  limits(from: number, until: number) {
    return this.tenants.map((_, tenant) => ({
      tenant,
      busiest: busiestWindow(this.admitted(tenant), from, until),
      reached: fullestSaturatedWindow(this.admitted(tenant), from, until) >= LIMIT,
    }));
  }

  /** What /health/ready said between the times: `shared/up: 12`, `degraded/down: 3`… */
  readiness(from: number, to: number): Record<string, number> {
    return tally(
      this.probes(from, to).map((probe) =>
        probe.status === 200
          ? `${probe.body?.limiter}/${probe.body?.redis}`
          : `HTTP ${label(probe)}`,
      ),
    );
  }

  figures() {
    const latencies = this.exchanges().map((exchange) => exchange.ms);
    return {
      run: this.name,
      p99LatencyMs: round(percentile(latencies, 0.99)),
      maxLatencyMs: round(Math.max(0, ...latencies)),
      phases: this.phases.map((phase) => ({
        phase: phase.name,
        fromMs: this.at(phase.start),
        toMs: this.at(phase.end),
        statuses: tally(
          this.exchanges()
            .filter((exchange) => exchange.sent >= phase.start && exchange.sent < phase.end)
            .map((exchange) => String(exchange.status)),
        ),
        busiestWindowPerTenant: this.tenants.map((_, tenant) =>
          busiestWindow(this.admitted(tenant), phase.start, phase.end),
        ),
        readiness: this.readiness(phase.start, phase.end),
        notSharedAtMs: this.probes(phase.start, phase.end)
          .filter((probe) => probe.body?.limiter !== 'shared')
          .map((probe) => this.at(probe.sent)),
        windowsOverLimitFromMs: this.tenants.map((_, tenant) =>
          this.overLimitStarts(tenant, phase.start, phase.end),
        ),
      })),
    };
  }
}

describeOnRedis('the rate limiter on a Redis Cluster and on Redis Sentinel, two instances', () => {
  let cluster: RedisCluster | undefined;
  /** One tenant per master, so that their logs are on three different masters. */
  const tenants: string[] = [];
  let masters: number[] = [];
  const figures: Record<string, unknown> = {};
  const suiteStarted = performance.now();

  const slotOf = (tenant: string) => keySlot(`ratelimit:{tenant:${tenant}}`);

  beforeAll(async () => {
    buildService();
    const started = performance.now();
    cluster = await RedisCluster.start({ masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 2_000 });
    figures.clusterStartMs = Math.round(performance.now() - started);
    masters = cluster.ports.slice(0, cluster.masters);
    for (const master of masters) {
      for (;;) {
        const tenant = newTenant();
        if ((await cluster.masterOf(slotOf(tenant))) === master) {
          tenants.push(tenant);
          break;
        }
      }
    }
  }, 60_000);

  /** Each run's figures are kept, and its instances stopped, once its checks are done. */
  const finish = async (run: Run) => {
    figures[run.name] = run.figures();
    await run.stop();
  };

  afterAll(async () => {
    const errors: unknown[] = [];
    await cluster?.stop().catch((error) => errors.push(error));
    figures.suiteMs = Math.round(performance.now() - suiteStarted);
    console.log(`Redis cluster run:\n${JSON.stringify(figures, null, 2)}`);
    if (errors.length > 0) throw errors[0];
  });

  it("keeps each tenant's log in one slot, three tenants on three masters", async () => {
    for (const tenant of tenants) {
      const key = `ratelimit:{tenant:${tenant}}`;
      expect(Number(await redisCli(masters[0], 'CLUSTER', 'KEYSLOT', key))).toBe(slotOf(tenant));
    }
    expect(await Promise.all(tenants.map((tenant) => cluster!.masterOf(slotOf(tenant))))).toEqual(
      masters,
    );
  });

  describe('d1. REDIS_URL is the comma-separated list of the cluster nodes', () => {
    const run = new Run('seed list', tenants);
    let steady: Phase;

    beforeAll(async () => {
      await run.start({ ...cluster!.guardEnv, REDIS_URL: cluster!.seedList });
      steady = await run.phase('steady', PHASE_MS);
      await run.traffic!.stop();
    }, 60_000);

    afterAll(() => finish(run));

    it('never fails a request, and answers each within a second', () => {
      expect(run.broken()).toEqual([]);
    });

    it('admits exactly the limit per window for each tenant, across both instances', () => {
      expect(run.limits(steady.start, steady.end)).toEqual(
        tenants.map((_, tenant) => ({ tenant, busiest: LIMIT, reached: true })),
      );
    });

    it('says limiter "shared" and redis "up" in /health/ready', () => {
      expect(run.readiness(steady.start, steady.end)).toEqual({
        'shared/up': expect.any(Number),
      });
      expect(run.sharedBeforeTraffic).toBe(true);
    });
  });

  describe("d2. REDIS_URL is one node; the master of one tenant's slot is killed and fails over", () => {
    const run = new Run('one node, master killed', tenants);
    /** The tenant whose master is killed: not the seed node's. */
    const VICTIM = 1;
    let steady: Phase;
    let down: Phase;
    let recovering: Phase;
    let after: Phase;
    let killed = 0;
    let failedOver = 0;

    beforeAll(async () => {
      await run.start({ ...cluster!.guardEnv, REDIS_URL: cluster!.url(masters[0]) });
      steady = await run.phase('steady', PHASE_MS);
      const slot = slotOf(tenants[VICTIM]);
      down = await run.phase('master down', 0, async () => {
        killed = performance.now();
        await cluster!.kill(masters[VICTIM]);
      });
      // The phase lasts until the replica has taken over.
      const replacement = await cluster!.waitForFailover(slot, masters[VICTIM]);
      failedOver = performance.now();
      down.end = failedOver;
      figures.failover = {
        killedMaster: masters[VICTIM],
        newMaster: replacement,
        failoverMs: Math.round(failedOver - killed),
      };
      recovering = await run.phase('first window after the failover', TTL_MS);
      after = await run.phase('after the failover', PHASE_MS);
      await run.traffic!.stop();
    }, 90_000);

    afterAll(() => finish(run));

    it('never fails a request, and answers each within a second, before, during and after', () => {
      expect(run.broken()).toEqual([]);
    });

    it('admits exactly the limit per window for each tenant while the cluster is whole', () => {
      expect(run.limits(steady.start, steady.end)).toEqual(
        tenants.map((_, tenant) => ({ tenant, busiest: LIMIT, reached: true })),
      );
    });

    it("never admits more than the two instances' budgets in any window", () => {
      const over = tenants
        .map((_, tenant) => ({
          tenant,
          busiest: busiestWindow(run.admitted(tenant), -Infinity, Infinity),
        }))
        .filter(({ busiest }) => busiest > 2 * LIMIT);
      expect(over).toEqual([]);
    });

    it('says limiter "degraded" while the slot has no master', () => {
      expect(down.end - down.start).toBeGreaterThan(DOWN_SETTLE_MS);
      const readings = run.readiness(killed + DOWN_SETTLE_MS, failedOver);
      expect(Object.keys(readings).length).toBeGreaterThan(0);
      expect(Object.keys(readings).filter((reading) => !reading.startsWith('degraded/'))).toEqual(
        [],
      );
    });

    it('is exact again, and "shared", one window after the failover', () => {
      expect(run.limits(after.start, after.end)).toEqual(
        tenants.map((_, tenant) => ({ tenant, busiest: LIMIT, reached: true })),
      );
      expect(recovering.end).toBeLessThanOrEqual(after.start);
      expect(run.readiness(after.start, after.end)).toEqual({ 'shared/up': expect.any(Number) });
    });
  });

  describe('e. REDIS_SENTINELS and REDIS_SENTINEL_NAME; the master is killed and fails over', () => {
    let sentinels: RedisSentinels | undefined;
    const run = new Run('sentinel, master killed', tenants);
    let steady: Phase;
    let down: Phase;
    let after: Phase;

    beforeAll(async () => {
      sentinels = await RedisSentinels.start({ replicas: 1, sentinels: 3, downAfterMs: 1_000 });
      await run.start({
        ...sentinels.guardEnv,
        REDIS_SENTINELS: sentinels.sentinelList,
        REDIS_SENTINEL_NAME: RedisSentinels.MASTER_NAME,
      });
      steady = await run.phase('steady', PHASE_MS);
      const master = (await sentinels.master())!;
      const killed = performance.now();
      down = await run.phase('master down', 0, () => sentinels!.kill(master));
      const replacement = await sentinels.waitForFailover(master);
      down.end = performance.now();
      figures.sentinelFailover = {
        killedMaster: master,
        newMaster: replacement,
        failoverMs: Math.round(down.end - killed),
      };
      await run.phase('first window after the failover', TTL_MS);
      after = await run.phase('after the failover', PHASE_MS);
      await run.traffic!.stop();
    }, 90_000);

    afterAll(async () => {
      await finish(run);
      await sentinels?.stop();
    });

    it('never fails a request, and answers each within a second', () => {
      expect(run.broken()).toEqual([]);
    });

    it('admits exactly the limit per window for each tenant, and says "shared"', () => {
      expect(run.limits(steady.start, steady.end)).toEqual(
        tenants.map((_, tenant) => ({ tenant, busiest: LIMIT, reached: true })),
      );
      expect(run.readiness(steady.start + TTL_MS, steady.end)).toEqual({
        'shared/up': expect.any(Number),
      });
    });

    it("never admits more than the two instances' budgets while the master is away", () => {
      expect(
        tenants
          .map((_, tenant) => busiestWindow(run.admitted(tenant), -Infinity, Infinity))
          .filter((busiest) => busiest > 2 * LIMIT),
      ).toEqual([]);
      expect(down.end).toBeGreaterThan(down.start);
    });

    it('is exact again, and "shared", one window after the failover', () => {
      expect(run.limits(after.start, after.end)).toEqual(
        tenants.map((_, tenant) => ({ tenant, busiest: LIMIT, reached: true })),
      );
      expect(run.readiness(after.start, after.end)).toEqual({ 'shared/up': expect.any(Number) });
    });
  });
});
