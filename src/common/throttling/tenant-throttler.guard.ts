import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  normalizeIp,
  ThrottlerGuard,
  ThrottlerLimitDetail,
  ThrottlerModuleOptions,
  ThrottlerRequest,
  ThrottlerStorage,
} from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { throttleConfig } from '../../config/configuration';
import { AuthGuard } from '../auth/auth.guard';
import { ApiError } from '../errors/error-catalogue';
import { Metrics } from '../observability/metrics';
import { policyHeader, RateLimitPolicy, rateLimitHeader } from './rate-limit-headers';
import { CUSTOMER_THROTTLER } from './throttler-options';
import { TooManyRequestsException } from './too-many-requests.exception';

/**
 * The one global guard: authentication, then the rate limit (CONTRACT sections 3 and 9).
 *
 * The token is verified before anything is counted, so the tracker is the verified `tid`: a forged,
 * expired or unsigned token never touches that tenant's budget. Such requests are counted per
 * client IP instead and answered 401, or 429 once that IP is over its own limit. The key is one per
 * tracker, not per route: a tenant's operations share one budget.
 */
@Injectable()
export class TenantThrottlerGuard extends ThrottlerGuard {
  private readonly customerPolicy: RateLimitPolicy;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly auth: AuthGuard,
    @Inject(throttleConfig.KEY) config: ConfigType<typeof throttleConfig>,
    private readonly metrics: Metrics,
  ) {
    super(options, storage, reflector);
    this.customerPolicy = { name: CUSTOMER_THROTTLER, limit: config.limit, ttlMs: config.ttlMs };
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    // Health checks are neither authenticated nor limited: probes must always get through.
    if (this.auth.isPublic(context)) return true;
    const unauthorized = await this.authenticate(context);
    await super.canActivate(context);
    if (unauthorized) throw unauthorized;
    return true;
  }

  /** Sets `request.tenantId`, or returns the 401 to answer once the request has been counted. */
  private async authenticate(context: ExecutionContext): Promise<ApiError | undefined> {
    try {
      await this.auth.canActivate(context);
      return undefined;
    } catch (error) {
      if (error instanceof ApiError && error.kind === 'unauthorized') return error;
      throw error;
    }
  }

  protected override getTracker(request: Record<string, any>): Promise<string> {
    const { tenantId, ip } = request as FastifyRequest;
    return Promise.resolve(tenantId ? `tenant:${tenantId}` : `ip:${normalizeIp(ip)}`);
  }

  /** `{…}` is a Redis Cluster hash tag: everything about one tracker lives on one slot. */
  protected override generateKey(_context: ExecutionContext, tracker: string): string {
    return `ratelimit:{${tracker}}`;
  }

  /** Counts the request and sets the RateLimit headers on every answer, 429 included. */
  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, blockDuration, throttler, getTracker, generateKey } = props;
    const name = throttler.name ?? CUSTOMER_THROTTLER;
    const { req, res } = this.getRequestResponse(context);
    const tracker = await getTracker(req, context);
    const key = generateKey(context, tracker, name);
    const record = await this.storageService.increment(key, ttl, limit, blockDuration, name);

    const reply = res as FastifyReply;
    const policy: RateLimitPolicy = { name, limit, ttlMs: ttl };
    // Every /v1 answer advertises the partner quota; a request without a valid token is told
    // which quota it was actually counted against as well.
    const policies = name === CUSTOMER_THROTTLER ? [policy] : [this.customerPolicy, policy];
    reply.header('RateLimit-Policy', policyHeader(policies));
    reply.header('RateLimit', rateLimitHeader(name, limit - record.totalHits, record.timeToExpire));

    this.metrics.rateLimitDecisions.inc({
      policy: name,
      outcome: record.isBlocked ? 'refused' : 'admitted',
    });
    if (record.isBlocked) {
      await this.throwThrottlingException(context, { ...record, limit, ttl, key, tracker });
    }
    return true;
  }

  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    return Promise.reject(new TooManyRequestsException(Math.max(1, detail.timeToBlockExpire)));
  }
}
