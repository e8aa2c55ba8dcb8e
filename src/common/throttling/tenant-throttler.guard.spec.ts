import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '../auth/auth.guard';
import { ApiError } from '../errors/error-catalogue';
import { MemorySlidingWindow } from './sliding-window';
import { Metrics } from '../observability/metrics';
import { SlidingWindowStorage } from './sliding-window.storage';
import { TenantThrottlerGuard } from './tenant-throttler.guard';
import { throttlerOptions } from './throttler-options';
import { TooManyRequestsException } from './too-many-requests.exception';

const TENANT = '0f8fad5b-d9cb-469f-a165-70867728950e';

/** Accepts `Bearer valid:<tid>`; anything else is the verifier's 401. */
class FakeAuth {
  isPublic = (context: ExecutionContext) => context.getHandler().name === 'health';
  failure?: Error;

  canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.failure) return Promise.reject(this.failure);
    const request = context.switchToHttp().getRequest<Request>();
    const tid = /^Bearer valid:(.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!tid) return Promise.reject(new ApiError('unauthorized', 'The bearer token is not valid'));
    request.tenantId = tid;
    return Promise.resolve(true);
  }
}

interface Request {
  headers: { authorization?: string };
  ip: string;
  tenantId?: string;
}

function call(guard: TenantThrottlerGuard, authorization?: string, handlerName = 'list') {
  const request: Request = { headers: { authorization }, ip: '203.0.113.9' };
  const headers: Record<string, string> = {};
  const reply = { header: (name: string, value: string) => (headers[name] = value) };
  const handler = { [handlerName]: () => undefined }[handlerName];
  const context = {
    getHandler: () => handler,
    getClass: () => FakeAuth,
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }),
  } as unknown as ExecutionContext;
  return { result: guard.canActivate(context), headers, request };
}

async function setUp() {
  const config = {
    limit: 2,
    ttlMs: 60_000,
    anonymousLimit: 1,
    redisUrl: undefined,
    redisSentinels: undefined,
    redisSentinelName: 'mymaster',
  };
  const auth = new FakeAuth();
  const guard = new TenantThrottlerGuard(
    throttlerOptions(config),
    new SlidingWindowStorage(new MemorySlidingWindow()),
    new Reflector(),
    auth as unknown as AuthGuard,
    config,
    new Metrics(),
  );
  await guard.onModuleInit();
  return { guard, auth };
}

describe('TenantThrottlerGuard', () => {
  it('lets public routes through without counting or headers', async () => {
    const { guard } = await setUp();
    for (let i = 0; i < 5; i++) {
      const { result, headers } = call(guard, undefined, 'health');
      await expect(result).resolves.toBe(true);
      expect(headers).toEqual({});
    }
  });

  it("counts a verified tenant's requests and refuses the one over the limit", async () => {
    const { guard } = await setUp();
    const first = call(guard, `Bearer valid:${TENANT}`);
    await expect(first.result).resolves.toBe(true);
    expect(first.request.tenantId).toBe(TENANT);
    expect(first.headers).toEqual({
      'RateLimit-Policy': '"customer";q=2;w=60',
      RateLimit: '"customer";r=1;t=0',
    });
    await call(guard, `Bearer valid:${TENANT}`).result;
    const refused = call(guard, `Bearer valid:${TENANT}`);
    await expect(refused.result).rejects.toEqual(expect.any(TooManyRequestsException));
    await expect(refused.result).rejects.toMatchObject({ retryAfterSeconds: 60 });
    expect(refused.headers.RateLimit).toBe('"customer";r=0;t=60');
  });

  it("answers 401 for a bad token, counted per IP and never against the token's tenant", async () => {
    const { guard } = await setUp();
    const forged = call(guard, `Bearer forged:${TENANT}`);
    await expect(forged.result).rejects.toMatchObject({ status: 401 });
    expect(forged.request.tenantId).toBeUndefined();
    expect(forged.headers).toEqual({
      'RateLimit-Policy': '"customer";q=2;w=60, "anonymous";q=1;w=60',
      RateLimit: '"anonymous";r=0;t=60',
    });
    const flood = call(guard, 'Bearer forged');
    await expect(flood.result).rejects.toEqual(expect.any(TooManyRequestsException));

    const valid = call(guard, `Bearer valid:${TENANT}`);
    await expect(valid.result).resolves.toBe(true);
    expect(valid.headers.RateLimit).toBe('"customer";r=1;t=0');
  });

  it('passes on an authentication failure that is not a 401, counting nothing', async () => {
    const { guard, auth } = await setUp();
    auth.failure = new Error('JWKS unreachable');
    await expect(call(guard, 'Bearer x').result).rejects.toThrow('JWKS unreachable');
    auth.failure = undefined;
    await expect(call(guard, 'Bearer forged').result).rejects.toMatchObject({ status: 401 });
  });
});
