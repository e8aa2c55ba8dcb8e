import type { ConnectionError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { ApiError } from '../errors/error-catalogue';
import { correlationIdOf } from './request-ids';
import { sendBody } from './send-body';

/**
 * Answers that the HTTP layer gives before any route runs, in the contract's shape (CONTRACT
 * section 4) rather than Node's or Fastify's own.
 */

/** What Node's HTTP parser could not read: the socket is closed after the answer. */
const PARSER_ERRORS: Record<string, { kind: ApiError['kind']; description: string }> = {
  HPE_HEADER_OVERFLOW: {
    kind: 'headersTooLarge',
    description: 'The request headers are larger than 16 KiB',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    kind: 'requestTimeout',
    description: 'The request did not arrive in time',
  },
};

/**
 * Fastify's `clientErrorHandler`: a request Node's parser rejected (headers too large, bytes that
 * are not HTTP, a request that never finished arriving). There is no request object, so the answer
 * is written to the socket by hand: the contract's body, fresh MS-* ids, `Connection: close` (the
 * socket is closed right after, so a keep-alive client knows not to reuse it), and no body for HEAD.
 */
export function answerClientError(error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const known = error.code ? PARSER_ERRORS[error.code] : undefined;
  const apiError = new ApiError(
    known?.kind ?? 'invalidInput',
    known?.description ?? 'The request is not valid HTTP',
  );
  // Typed as a Buffer's JSON form, but Node hands over the Buffer itself.
  const raw: unknown = error.rawPacket;
  const isHead = Buffer.isBuffer(raw) && raw.subarray(0, 5).toString('latin1') === 'HEAD ';
  const body = isHead ? '' : JSON.stringify(apiError.toBody());
  const head = [
    `HTTP/1.1 ${apiError.status} ${statusText(apiError.status)}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    `MS-RequestId: ${randomUUID()}`,
    `MS-CorrelationId: ${randomUUID()}`,
    'Connection: close',
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  socket.once('finish', () => socket.destroy());
}

function statusText(status: number): string {
  return { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[
    status
  ]!;
}

/**
 * Fastify's `frameworkErrors`: a URL the router cannot decode (`%ZZ`) or a path parameter longer
 * than the router takes. The request ids hook has not run for these, so the ids are set here.
 */
export function answerFrameworkError(
  error: Error & { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const apiError =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new ApiError('invalidInput', 'A path segment is too long')
      : new ApiError('invalidInput', 'The request path is not valid percent-encoding');
  const correlationId = correlationIdOf(request.headers);
  request.log = request.log.child({ correlationId });
  const completed = (request.server as unknown as Record<string, unknown>)['requestCompleted'];
  if (typeof completed === 'function') {
    // Fastify starts no response timer for these answers: time them here.
    const started = performance.now();
    reply.raw.once('finish', () =>
      (completed as (q: FastifyRequest, r: FastifyReply, ms: number) => void)(
        request,
        reply,
        performance.now() - started,
      ),
    );
  }
  reply
    .status(apiError.status)
    .header('MS-RequestId', request.id)
    .header('MS-CorrelationId', correlationId)
    .header('Content-Type', 'application/json; charset=utf-8');
  sendBody(request, reply, apiError.toBody());
}

/**
 * A body that has not fully arrived within `timeoutMs` fails as a 408 (the error filter answers it
 * with `Connection: close`), so a client trickling its body cannot hold a connection forever.
 * Bodies that are complete when the headers are read, almost all of them, are left as they are.
 */
export function registerBodyTimeout(fastify: FastifyInstance, timeoutMs: number): void {
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    if (request.raw.complete) return done(null, payload);
    const guarded = new PassThrough();
    const timer = setTimeout(() => {
      payload.unpipe(guarded);
      guarded.destroy(
        Object.assign(new Error('The request body did not arrive in time'), {
          statusCode: 408,
          code: 'BODY_TIMEOUT',
        }),
      );
    }, timeoutMs);
    const socket = request.raw.socket;
    const stop = () => {
      clearTimeout(timer);
      socket?.off('close', stop);
    };
    payload.once('end', stop);
    payload.once('close', stop);
    guarded.once('close', stop);
    socket?.once('close', stop);
    // Fastify listens while it reads the body; once it has stopped (the request was answered, the
    // app is closing), the timeout has nobody to tell, and must not become an unhandled error.
    guarded.on('error', () => undefined);
    payload.pipe(guarded);
    done(null, guarded);
  });
}
