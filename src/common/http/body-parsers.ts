import type { FastifyInstance, FastifyRequest } from 'fastify';
import { JsonTooDeepError, sanitiseJson } from '../json/safe-json';

export const BODY_LIMIT_BYTES = 64 * 1024;

type Done = (error: Error | null, body?: unknown) => void;

function httpError(statusCode: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { statusCode, code });
}

/**
 * Bodies as the contract reads them (CONTRACT section 1): JSON only, at most 64 KiB; an empty body
 * with any Content-Type is no body (generated clients send Content-Type on GET and DELETE); a
 * leading byte-order mark is tolerated on input. Deep nesting is refused and prototype keys are
 * dropped (safe-json.ts).
 */
export function registerBodyParsers(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    (_request: FastifyRequest, body: string | Buffer, done: Done) => {
      const text = body.toString().replace(/^\uFEFF/, '');
      if (text.trim() === '') return done(null, undefined);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return done(httpError(400, 'INVALID_JSON', 'The request body is not valid JSON'));
      }
      try {
        done(null, sanitiseJson(parsed));
      } catch (error) {
        done(httpError(400, 'JSON_TOO_DEEP', (error as JsonTooDeepError).message));
      }
    },
  );
  fastify.addContentTypeParser(
    '*',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    (_request: FastifyRequest, body: string | Buffer, done: Done) => {
      if (body.length === 0) return done(null, undefined);
      done(
        httpError(
          415,
          'FST_ERR_CTP_INVALID_MEDIA_TYPE',
          'The request body must be application/json',
        ),
      );
    },
  );
}
