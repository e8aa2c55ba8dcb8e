import { HttpStatus } from '@nestjs/common';

/**
 * Partner Center's error codes (CONTRACT section 4). Every error this service produces is one of
 * these, thrown as an ApiError and shaped into the contract's body by the global filter.
 */
export const ErrorCodes = {
  invalidInput: { status: HttpStatus.BAD_REQUEST, code: 800002 },
  invalidTenantId: { status: HttpStatus.BAD_REQUEST, code: 900118 },
  unauthorized: { status: HttpStatus.UNAUTHORIZED, code: 800001 },
  notFound: { status: HttpStatus.NOT_FOUND, code: 1000 },
  methodNotAllowed: { status: HttpStatus.METHOD_NOT_ALLOWED, code: 800004 },
  requestTimeout: { status: HttpStatus.REQUEST_TIMEOUT, code: 800006 },
  // Refusals of the HTTP layer and the static /docs files, which the contract gives no code of
  // their own: invalid input, with the status that says what was wrong.
  forbidden: { status: HttpStatus.FORBIDDEN, code: 800002 },
  preconditionFailed: { status: HttpStatus.PRECONDITION_FAILED, code: 800002 },
  rangeNotSatisfiable: { status: HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE, code: 800002 },
  headersTooLarge: { status: 431, code: 800002 },
  domainTaken: { status: HttpStatus.CONFLICT, code: 600010 },
  requestIdReused: { status: HttpStatus.CONFLICT, code: 600011 },
  relationshipMissing: { status: HttpStatus.CONFLICT, code: 3000 },
  etagStale: { status: HttpStatus.PRECONDITION_FAILED, code: 2055 },
  bodyTooLarge: { status: HttpStatus.PAYLOAD_TOO_LARGE, code: 800003 },
  unsupportedMediaType: { status: HttpStatus.UNSUPPORTED_MEDIA_TYPE, code: 800005 },
  internal: { status: HttpStatus.INTERNAL_SERVER_ERROR, code: 500 },
  unavailable: { status: HttpStatus.SERVICE_UNAVAILABLE, code: 503 },
} as const;

export type ErrorKind = keyof typeof ErrorCodes;

export const ERROR_SOURCE = 'CustomerService';

/** The contract's error body. */
export interface ErrorBody {
  code: number;
  description: string;
  data: string[];
  source: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: number;

  constructor(
    readonly kind: ErrorKind,
    readonly description: string,
    readonly data: string[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.status = ErrorCodes[kind].status;
    this.code = ErrorCodes[kind].code;
  }

  toBody(): ErrorBody {
    return {
      code: this.code,
      description: truncate(this.description, 1024),
      data: this.data.map((item) => truncate(item, 1024)),
      source: ERROR_SOURCE,
    };
  }
}

/** Invalid input: every problem in `data`, the first (and a count) in the description. */
export function invalidInput(problems: string[]): ApiError {
  const description =
    problems.length <= 1
      ? (problems[0] ?? 'The request is invalid')
      : `${problems[0]} (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})`;
  return new ApiError('invalidInput', description, problems);
}

/** How long a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** A backing store is down, hung, or a conflict outlived its retries (CONTRACT section 4). */
export function unavailable(what = 'The service is temporarily unavailable'): ApiError {
  return new ApiError('unavailable', what, [], { 'Retry-After': String(RETRY_AFTER_SECONDS) });
}

export function notFound(what = 'The requested resource was not found'): ApiError {
  return new ApiError('notFound', what);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
