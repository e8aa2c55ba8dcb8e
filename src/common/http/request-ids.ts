import type { FastifyInstance, RawRequestDefaultExpression } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Longer ids are cut before they are echoed or logged; a GUID has 36 characters. */
const MAX_ID_LENGTH = 128;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/**
 * A client's id as it is echoed and logged: control characters (which would forge log lines)
 * removed, and at most MAX_ID_LENGTH characters, so a client cannot bloat every log line.
 */
function headerValue(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first?.replace(CONTROL_CHARACTERS, '').trim().slice(0, MAX_ID_LENGTH) || undefined;
}

/** Fastify's request id is the client's MS-RequestId, or a fresh GUID: logs carry the same id. */
export function requestIdOf(request: RawRequestDefaultExpression): string {
  return headerValue(request.headers['ms-requestid']) ?? randomUUID();
}

/** The client's MS-CorrelationId, or a fresh GUID. */
export function correlationIdOf(headers: IncomingHttpHeaders): string {
  return headerValue(headers['ms-correlationid']) ?? randomUUID();
}

/**
 * Every response carries MS-RequestId and MS-CorrelationId (CONTRACT section 1): the request's own
 * values echoed, fresh GUIDs otherwise; the request's log lines carry both.
 */
export function registerRequestIds(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    const correlationId = correlationIdOf(request.headers);
    request.log = request.log.child({ correlationId });
    reply.header('MS-RequestId', request.id);
    reply.header('MS-CorrelationId', correlationId);
    done();
  });
}
