import { ApiProperty } from '@nestjs/swagger';
import { ThrottlerException } from '@nestjs/throttler';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendBody } from '../http/send-body';

/** Partner Center's throttling body (CONTRACT section 9), not the usual error shape. */
export class TooManyRequestsBodyDto {
  @ApiProperty({ example: 429 })
  statusCode!: number;

  @ApiProperty({ example: 'Rate limit is exceeded. Try again in 12 seconds.' })
  message!: string;
}

/** A request refused by the rate limit; the client may retry after `retryAfterSeconds` (≥ 1). */
export class TooManyRequestsException extends ThrottlerException {
  constructor(readonly retryAfterSeconds: number) {
    super(`Rate limit is exceeded. Try again in ${retryAfterSeconds} seconds.`);
  }

  toBody(): TooManyRequestsBodyDto {
    return { statusCode: 429, message: this.message };
  }

  /** 429 with `Retry-After`; the RateLimit headers are already on the reply. */
  send(request: FastifyRequest, reply: FastifyReply): void {
    reply.status(429).header('Retry-After', String(this.retryAfterSeconds));
    sendBody(request, reply, this.toBody());
  }
}
