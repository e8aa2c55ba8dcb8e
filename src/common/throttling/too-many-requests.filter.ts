import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TooManyRequestsException } from './too-many-requests.exception';

/**
 * Answers a refused request with `Retry-After` and Partner Center's throttling body (CONTRACT
 * section 9); the rate-limit headers are already on the reply, set by TenantThrottlerGuard.
 */
@Catch(TooManyRequestsException)
export class TooManyRequestsFilter implements ExceptionFilter {
  catch(exception: TooManyRequestsException, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    exception.send(request, reply);
  }
}
