import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { conflictFor, isUnavailable } from '../../database/database-errors';
import { RouteMethods } from '../http/route-methods';
import { Metrics } from '../observability/metrics';
import { sendBody } from '../http/send-body';
import { PreRouteThrottle } from '../throttling/pre-route-throttle';
import { ApiError, ErrorKind, unavailable } from './error-catalogue';

/** 4xx statuses raised by Nest or Fastify themselves, in the contract's codes. */
const KIND_BY_STATUS: Record<number, ErrorKind> = {
  400: 'invalidInput',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'notFound',
  405: 'methodNotAllowed',
  408: 'requestTimeout',
  412: 'preconditionFailed',
  413: 'bodyTooLarge',
  415: 'unsupportedMediaType',
  416: 'rangeNotSatisfiable',
  431: 'headersTooLarge',
};

const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is larger than 64 KiB',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'The request body must be application/json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'The Content-Length header does not match the body',
};

/**
 * The one place errors become responses (CONTRACT section 4): every error, whoever raised it, leaves
 * in the contract's shape; anything unexpected is a 500 that says nothing internal and is logged
 * with the request ids.
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly routes: RouteMethods,
    private readonly metrics: Metrics,
    private readonly preRouteThrottle?: PreRouteThrottle,
  ) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (this.preRouteThrottle?.applies(request, reply)) {
      const refused = await this.preRouteThrottle.check(request, reply);
      if (refused) return refused.send(request, reply);
    }
    const error = this.toApiError(exception, request);
    if (error.status >= 500) {
      // The request's logger carries requestId and correlationId, as echoed to the client.
      request.log.error(
        {
          method: request.method,
          url: request.url,
          err: exception instanceof Error ? exception : new Error(String(exception)),
        },
        'Request failed',
      );
    }
    if (error.kind === 'etagStale') this.metrics.etagConflicts.inc();
    reply.status(error.status).headers(error.headers);
    // The connection closes after a 408 (the rest of the body may still be on its way).
    if (error.kind === 'requestTimeout') reply.header('Connection', 'close');
    sendBody(request, reply, error.toBody());
  }

  private toApiError(exception: unknown, request: FastifyRequest): ApiError {
    if (exception instanceof ApiError) return exception;
    const conflict = conflictFor(exception);
    if (conflict) return conflict;
    if (isUnavailable(exception)) return unavailable();
    const status = statusOf(exception);
    if (status === 404 && !request.routeOptions?.url) return this.unmatchedRoute(request);
    if (status === undefined) return new ApiError('internal', 'An unexpected error occurred');
    // Any other 4xx a framework layer raises is still the client's problem, never a 500.
    const kind = KIND_BY_STATUS[status] ?? 'invalidInput';
    return new ApiError(kind, describe(exception, kind));
  }

  private unmatchedRoute(request: FastifyRequest): ApiError {
    const path = request.url.split('?')[0];
    const allowed = this.routes.allowedOn(path);
    // A method the path allows that still found nothing (a missing file under /docs/*) is a 404:
    // a 405 never names the refused method as allowed.
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return new ApiError(
        'methodNotAllowed',
        `The method ${request.method} is not allowed on ${path}`,
        [],
        { Allow: allowed.join(', ') },
      );
    }
    return new ApiError('notFound', `No resource at ${path}`);
  }
}

function statusOf(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  const status = (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

function describe(exception: unknown, kind: ErrorKind): string {
  const code = (exception as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && FASTIFY_MESSAGES[code]) return FASTIFY_MESSAGES[code];
  switch (kind) {
    case 'invalidInput':
      if (code === 'JSON_TOO_DEEP') return (exception as Error).message;
      return exception instanceof SyntaxError || code === 'INVALID_JSON'
        ? 'The request body is not valid JSON'
        : 'The request is invalid';
    case 'notFound':
      return 'The requested resource was not found';
    case 'unauthorized':
      return 'A valid bearer token is required';
    case 'requestTimeout':
      return 'The request body did not arrive in time';
    case 'forbidden':
      return 'The path is outside what is served';
    case 'preconditionFailed':
      return 'A precondition header of the request does not hold';
    case 'rangeNotSatisfiable':
      return 'The requested range is outside the file';
    default:
      return 'The request cannot be served';
  }
}
