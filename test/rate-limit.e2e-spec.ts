import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createSigner } from 'fast-jwt';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { createTestDatabase, TestDatabase } from './support/databases';
import { startApp, TestApp, useTestApp } from './support/test-app';
import { bearer, newTenant, TEST_JWT_SECRET } from './support/tokens';

// Rate limiting does not depend on the database, so this spec runs on the embedded one only.
// Some tests wait for a window (a few seconds) to pass.
jest.setTimeout(30_000);

type Server = TestApp['server'];

interface Answer {
  status: number;
  body: any;
  headers: Record<string, string>;
  ms: number;
}

/** GET /v1/customers as the tenant (or with the given Authorization), timed. */
async function list(server: Server, auth?: string | { Authorization: string }): Promise<Answer> {
  const started = performance.now();
  const call = request(server).get('/v1/customers?size=1');
  if (typeof auth === 'string') call.set('Authorization', auth);
  else if (auth) call.set(auth);
  const response = await call;
  return {
    status: response.status,
    body: response.body,
    headers: response.headers,
    ms: performance.now() - started,
  };
}

async function statuses(server: Server, tenant: string, count: number): Promise<number[]> {
  const result: number[] = [];
  for (let i = 0; i < count; i++) result.push((await list(server, bearer(tenant))).status);
  return result;
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Tokens that name a tenant but must not be believed (CONTRACT section 3). */
function badTokens(tenant: string): Record<string, string> {
  const forge = createSigner({ key: 'not-the-service-secret-0123456789', expiresIn: 3_600_000 });
  const sign = createSigner({ key: TEST_JWT_SECRET });
  return {
    forged: forge({ tid: tenant }),
    expired: sign({ tid: tenant, exp: Math.floor(Date.now() / 1000) - 60 }),
    unsigned: `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ tid: tenant })}.`,
  };
}

function expectRefused(answer: Answer, limit: number, ttlSeconds: number): number {
  const retryAfter = Number(answer.headers['retry-after']);
  expect(answer.status).toBe(429);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(ttlSeconds);
  expect(answer.body).toEqual({
    statusCode: 429,
    message: `Rate limit is exceeded. Try again in ${retryAfter} seconds.`,
  });
  expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(answer.headers['ratelimit-policy']).toBe(`"customer";q=${limit};w=${ttlSeconds}`);
  expect(answer.headers.ratelimit).toBe(`"customer";r=0;t=${retryAfter}`);
  return retryAfter;
}

describe('rate limiting, counted in process memory', () => {
  const LIMIT = 5;
  const TTL_MS = 3_000;
  const ANONYMOUS_LIMIT = 4;
  const t = useTestApp('sqlite', {
    THROTTLE_LIMIT: String(LIMIT),
    THROTTLE_TTL_MS: String(TTL_MS),
    THROTTLE_ANONYMOUS_LIMIT: String(ANONYMOUS_LIMIT),
  });

  it('refuses the request over the limit with 429, and serves it after Retry-After', async () => {
    const tenant = newTenant();
    for (let remaining = LIMIT - 1; remaining >= 0; remaining--) {
      const answer = await list(t.server, bearer(tenant));
      expect(answer.status).toBe(200);
      expect(answer.headers['ratelimit-policy']).toBe(`"customer";q=${LIMIT};w=3`);
      expect(answer.headers.ratelimit).toMatch(
        remaining > 0 ? `"customer";r=${remaining};t=0` : /^"customer";r=0;t=[123]$/,
      );
    }
    const refused = await list(t.server, bearer(tenant));
    const retryAfter = expectRefused(refused, LIMIT, 3);
    expect(refused.headers['ms-requestid']).toEqual(expect.any(String));

    const other = await list(t.server, bearer(newTenant()));
    expect(other.status).toBe(200);
    expect(other.headers.ratelimit).toBe(`"customer";r=${LIMIT - 1};t=0`);

    await sleep(retryAfter * 1000);
    expect((await list(t.server, bearer(tenant))).status).toBe(200);
  });

  it('holds bursts on both sides of a fixed-window edge to the limit', async () => {
    // Burst just before a multiple of the window and again just after it: a window fixed to the
    // clock would admit both bursts, twice the limit within half a second.
    const edge = Math.ceil((Date.now() + 500) / TTL_MS) * TTL_MS;
    await sleep(edge - 300 - Date.now());
    const tenant = newTenant();
    expect(await statuses(t.server, tenant, LIMIT)).toEqual(Array(LIMIT).fill(200));
    const firstBurstServed = Date.now();
    await sleep(Math.max(0, edge + 200 - Date.now()));
    expect(await statuses(t.server, tenant, LIMIT)).toEqual(Array(LIMIT).fill(429));

    // Once the whole first burst has left the window (refusals are not counted), exactly the
    // limit is admitted again.
    await sleep(firstBurstServed + TTL_MS + 100 - Date.now());
    expect(await statuses(t.server, tenant, LIMIT + 1)).toEqual([...Array(LIMIT).fill(200), 429]);
  });

  it("never lets a forged, expired or unsigned token use the tenant's budget", async () => {
    const tenant = newTenant();
    for (const token of Object.values(badTokens(tenant))) {
      const answer = await list(t.server, `Bearer ${token}`);
      expect(answer.status).toBe(401);
      expect(answer.body).toMatchObject({ code: 800001 });
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(answer.headers['ratelimit-policy']).toBe(
        `"customer";q=${LIMIT};w=3, "anonymous";q=${ANONYMOUS_LIMIT};w=3`,
      );
      expect(answer.headers.ratelimit).toMatch(/^"anonymous";r=\d+;t=\d+$/);
    }
    const first = await list(t.server, bearer(tenant));
    expect(first.headers.ratelimit).toBe(`"customer";r=${LIMIT - 1};t=0`);
    expect(await statuses(t.server, tenant, LIMIT)).toEqual([...Array(LIMIT - 1).fill(200), 429]);
  });

  it('answers 429 to a flood of requests without a valid token, per client IP', async () => {
    // The previous test spent some of this IP's budget: start from an empty window.
    await sleep(TTL_MS);
    for (let i = 0; i < ANONYMOUS_LIMIT; i++) {
      expect((await list(t.server)).status).toBe(401);
    }
    const flooded = await list(t.server, `Bearer ${badTokens(newTenant()).forged}`);
    expect(flooded.status).toBe(429);
    expect(flooded.body).toEqual({
      statusCode: 429,
      message: `Rate limit is exceeded. Try again in ${flooded.headers['retry-after']} seconds.`,
    });
    expect(flooded.headers.ratelimit).toBe(`"anonymous";r=0;t=${flooded.headers['retry-after']}`);
    // A valid token from the same address is a tenant's request, on the tenant's budget.
    expect((await list(t.server, bearer(newTenant()))).status).toBe(200);
  });

  it('counts all operations on one budget and puts the headers on error answers too', async () => {
    const tenant = newTenant();
    expect((await list(t.server, bearer(tenant))).headers.ratelimit).toBe(
      `"customer";r=${LIMIT - 1};t=0`,
    );
    const missing = await request(t.server)
      .get(`/v1/customers/${newTenant()}`)
      .set(bearer(tenant))
      .expect(404);
    expect(missing.headers.ratelimit).toBe(`"customer";r=${LIMIT - 2};t=0`);
    const invalid = await request(t.server)
      .get('/v1/customers/nope')
      .set(bearer(tenant))
      .expect(400);
    expect(invalid.headers.ratelimit).toBe(`"customer";r=${LIMIT - 3};t=0`);
    expect(invalid.headers['ratelimit-policy']).toBe(`"customer";q=${LIMIT};w=3`);
    const health = await request(t.server).get('/health/ready').expect(200);
    expect(health.headers.ratelimit).toBeUndefined();
    expect(health.body).toEqual({ status: 'up', database: 'up', limiter: 'local' });
  });

  it('counts and labels the answers Fastify gives before any route runs, 429 included', async () => {
    const tenant = newTenant();
    const attempts = [
      () => request(t.server).get('/v1/no-such-resource').set(bearer(tenant)),
      () => request(t.server).put('/v1/customers').set(bearer(tenant)),
      () =>
        request(t.server)
          .post('/v1/customers')
          .set(bearer(tenant))
          .set('Content-Type', 'application/json')
          .send('{not json'),
      () =>
        request(t.server)
          .post('/v1/customers')
          .set(bearer(tenant))
          .set('Content-Type', 'text/plain')
          .send('hello'),
      () =>
        request(t.server)
          .post('/v1/customers')
          .set(bearer(tenant))
          .set('Content-Type', 'application/json')
          .send(JSON.stringify({ padding: 'x'.repeat(70_000) })),
    ];
    const answers = [];
    for (const attempt of attempts) answers.push(await attempt());
    expect(answers.map((answer) => answer.status)).toEqual([404, 405, 400, 415, 413]);
    answers.forEach((answer, i) => {
      expect(answer.headers['ratelimit-policy']).toBe(`"customer";q=${LIMIT};w=3`);
      const remaining = LIMIT - 1 - i;
      // t is 0 while requests remain, else the wait until one more is allowed.
      expect(answer.headers.ratelimit).toMatch(
        remaining > 0 ? `"customer";r=${remaining};t=0` : /^"customer";r=0;t=[1-3]$/,
      );
    });
    const refused = await request(t.server).get('/v1/no-such-resource').set(bearer(tenant));
    expectRefused(
      { status: refused.status, body: refused.body, headers: refused.headers, ms: 0 },
      LIMIT,
      3,
    );
  });
});

/** A redis-server of the spec's own, on a free loopback port, so it can be stopped and resumed. */
class PrivateRedis {
  private process?: ChildProcess;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', ''];
    const child = spawn('redis-server', [...args, '--appendonly', 'no'], { stdio: 'pipe' });
    this.process = child;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${output}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGCONT');
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }

  /** Keeps the connection open but answers nothing: the failure a timeout must cover. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

interface Instance {
  app: NestFastifyApplication;
  server: Server;
  database: TestDatabase;
}

/** Polls the readiness check until it reports Redis in the given state. */
async function waitForRedis(instance: Instance, state: 'up' | 'down'): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { body } = await request(instance.server).get('/health/ready').expect(200);
    if (body.redis === state) return;
    if (Date.now() > deadline) throw new Error(`Redis still reported ${body.redis}`);
    await sleep(100);
  }
}

describe('rate limiting shared by two instances through Redis', () => {
  const LIMIT = 5;
  // Long enough that no admitted request leaves the window while a test runs on a slow machine.
  const TTL_MS = 30_000;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    THROTTLE_LIMIT: String(LIMIT),
    THROTTLE_TTL_MS: String(TTL_MS),
  };
  let redis: PrivateRedis;
  const instances: Instance[] = [];
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    env.REDIS_URL = redis.url;
    for (let i = 0; i < 2; i++) {
      const database = await createTestDatabase('sqlite');
      Object.assign(process.env, env, { DATABASE_URL: database.url });
      const app = await startApp();
      instances.push({ app, server: app.getHttpServer(), database });
    }
    [a, b] = instances;
    await Promise.all([waitForRedis(a, 'up'), waitForRedis(b, 'up')]);
  });

  afterAll(async () => {
    for (const instance of instances) {
      await instance.app.close();
      await instance.database.drop();
    }
    await redis?.stop();
    for (const key of [...Object.keys(env), 'DATABASE_URL']) delete process.env[key];
  });

  it('admits the limit in total across both instances, not per instance', async () => {
    const tenant = newTenant();
    const answers: Answer[] = [];
    for (let i = 0; i < LIMIT; i++)
      answers.push(await list((i % 2 ? b : a).server, bearer(tenant)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(LIMIT).fill(200));
    expect(answers.map((answer) => answer.headers.ratelimit.split(';')[1])).toEqual([
      'r=4',
      'r=3',
      'r=2',
      'r=1',
      'r=0',
    ]);
    expectRefused(await list(a.server, bearer(tenant)), LIMIT, 30);
    expectRefused(await list(b.server, bearer(tenant)), LIMIT, 30);
    expect((await list(b.server, bearer(newTenant()))).status).toBe(200);
  });

  it('reports Redis in the readiness check', async () => {
    await request(a.server)
      .get('/health/ready')
      .expect(200, { status: 'up', database: 'up', limiter: 'shared', redis: 'up' });
  });

  it('answers promptly, limiting per instance, while Redis hangs', async () => {
    const tenant = newTenant();
    redis.pause();
    try {
      const answers: Answer[] = [];
      for (let i = 0; i <= LIMIT; i++) answers.push(await list(a.server, bearer(tenant)));
      expect(answers.map((answer) => answer.status)).toEqual([...Array(LIMIT).fill(200), 429]);
      for (const answer of answers) expect(answer.ms).toBeLessThan(1_500);
      const ready = await request(a.server).get('/health/ready').expect(200);
      expect(ready.body).toEqual({
        status: 'up',
        database: 'up',
        limiter: 'degraded',
        redis: 'down',
      });
    } finally {
      redis.resume();
    }
    await waitForRedis(a, 'up');
  });

  it('keeps serving without 5xx when Redis stops, then shares the counting again', async () => {
    const tenant = newTenant();
    expect(await statuses(a.server, tenant, 2)).toEqual([200, 200]);

    await redis.stop();
    await Promise.all([waitForRedis(a, 'down'), waitForRedis(b, 'down')]);
    const onA: Answer[] = [];
    const onB: Answer[] = [];
    for (let i = 0; i <= LIMIT; i++) {
      onA.push(await list(a.server, bearer(tenant)));
      onB.push(await list(b.server, bearer(tenant)));
    }
    for (const answer of [...onA, ...onB]) {
      expect(answer.status).toBeLessThan(500);
      expect(answer.ms).toBeLessThan(1_000);
    }
    // Each instance limits on its own; A remembers the two requests Redis admitted through it.
    expect(onA.map((answer) => answer.status)).toEqual([200, 200, 200, 429, 429, 429]);
    expect(onB.map((answer) => answer.status)).toEqual([...Array(LIMIT).fill(200), 429]);

    await redis.start();
    await Promise.all([waitForRedis(a, 'up'), waitForRedis(b, 'up')]);
    const resumed = newTenant();
    const shared: number[] = [];
    for (let i = 0; i <= LIMIT; i++)
      shared.push((await list((i % 2 ? b : a).server, bearer(resumed))).status);
    expect(shared).toEqual([...Array(LIMIT).fill(200), 429]);
  });
});
