import { ExecutionContext } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { ThrottlerModuleOptions } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { throttleConfig } from '../../config/configuration';

/** The partner tenant's budget: all /v1 operations together (CONTRACT section 9). */
export const CUSTOMER_THROTTLER = 'customer';
/** Requests without a valid token, per client IP, so token checking cannot be used to flood. */
export const ANONYMOUS_THROTTLER = 'anonymous';

const isAuthenticated = (context: ExecutionContext) =>
  context.switchToHttp().getRequest<FastifyRequest>().tenantId !== undefined;

/**
 * Exactly one of the two throttlers applies to a request: TenantThrottlerGuard authenticates
 * first, so `tenantId` is set only for a verified token.
 */
export function throttlerOptions(
  config: ConfigType<typeof throttleConfig>,
): ThrottlerModuleOptions {
  return {
    throttlers: [
      {
        name: CUSTOMER_THROTTLER,
        limit: config.limit,
        ttl: config.ttlMs,
        skipIf: (context) => !isAuthenticated(context),
      },
      {
        name: ANONYMOUS_THROTTLER,
        limit: config.anonymousLimit,
        ttl: config.ttlMs,
        skipIf: isAuthenticated,
      },
    ],
  };
}
