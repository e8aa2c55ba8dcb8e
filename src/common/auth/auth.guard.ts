import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { IS_PUBLIC } from './auth.decorators';
import { TokenVerifier } from './token-verifier.service';

/**
 * Every route needs a valid bearer token unless marked @Public(). Not a global guard itself:
 * TenantThrottlerGuard runs it first, so that the rate limit counts the verified tenant.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isPublic(context)) return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    request.tenantId = await this.tokens.tenantOf(request.headers.authorization);
    return true;
  }

  isPublic(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [
        context.getHandler(),
        context.getClass(),
      ]) ?? false
    );
  }
}
