import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified `tid` of the caller: the partner (or customer, on acceptance) tenant. */
    tenantId?: string;
  }
}

export const IS_PUBLIC = 'isPublic';

/** Routes that need no token (health checks). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** The caller's verified tenant id; the auth guard has run before any handler. */
export const TenantId = createParamDecorator((_data: unknown, context: ExecutionContext) => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  if (!request.tenantId) throw new Error('TenantId used on a route without authentication');
  return request.tenantId;
});
