import { Injectable } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/internal';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TenantThrottlerGuard } from './tenant-throttler.guard';
import { TooManyRequestsException } from './too-many-requests.exception';

/** Stand in for the route a request never reached, for the guard's metadata lookups. */
class NoRoute {}
function noHandler(): void {}

/**
 * Requests that Fastify answers before any route runs (an unknown /v1 path, a method not allowed,
 * a body that is too large, not JSON or of another media type) would otherwise bypass the guard:
 * they would go uncounted and without the RateLimit headers that every /v1 answer carries
 * (CONTRACT section 9). The error filter runs them through the same guard.
 */
@Injectable()
export class PreRouteThrottle {
  constructor(private readonly guard: TenantThrottlerGuard) {}

  /** True when the guard has not yet seen this request and it is a /v1 request. */
  applies(request: FastifyRequest, reply: FastifyReply): boolean {
    return request.url.startsWith('/v1') && !reply.hasHeader('RateLimit-Policy');
  }

  /** Counts the request and sets its headers; the 429 to answer instead when it is over a limit. */
  async check(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<TooManyRequestsException | undefined> {
    const context = new ExecutionContextHost([request, reply], NoRoute, noHandler);
    context.setType('http');
    try {
      await this.guard.canActivate(context);
      return undefined;
    } catch (error) {
      // Any other refusal (no valid token) leaves the original answer: the path or body is wrong.
      return error instanceof TooManyRequestsException ? error : undefined;
    }
  }
}
