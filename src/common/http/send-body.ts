import type { FastifyReply, FastifyRequest } from 'fastify';

/** Sends `body`, except to a HEAD request, whose answer has headers only (RFC 9110 §9.3.2). */
export function sendBody(request: FastifyRequest, reply: FastifyReply, body: object): void {
  if (request.method === 'HEAD') reply.send();
  else reply.send(body);
}
