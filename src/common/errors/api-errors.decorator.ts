import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { TooManyRequestsBodyDto } from '../throttling/too-many-requests.exception';
import { ErrorCodes, ErrorKind } from './error-catalogue';

export class ErrorBodyDto {
  @ApiProperty({ example: 800002 })
  code!: number;

  @ApiProperty({ example: 'billingProfile.email must be an email address' })
  description!: string;

  @ApiProperty({ type: [String], example: ['billingProfile.email must be an email address'] })
  data!: string[];

  @ApiProperty({ example: 'CustomerService' })
  source!: string;
}

const DESCRIPTIONS: Record<ErrorKind, string> = {
  invalidInput: 'Invalid input (code 800002): every problem is listed in `data`',
  invalidTenantId: 'The customer tenant id is not a GUID (code 900118)',
  unauthorized: 'No valid bearer token (code 800001)',
  notFound: 'No such resource for this caller (code 1000)',
  methodNotAllowed: 'Method not allowed (code 800004)',
  requestTimeout: 'The request body did not arrive in time (code 800006); the connection is closed',
  forbidden: 'The path is outside what is served (code 800002)',
  preconditionFailed: 'A precondition header does not hold (code 800002)',
  rangeNotSatisfiable: 'The requested range is outside the file (code 800002)',
  headersTooLarge: 'The request headers are larger than 16 KiB (code 800002)',
  domainTaken: 'The domain is already taken (code 600010)',
  requestIdReused: 'The MS-RequestId was used with a different request (code 600011)',
  relationshipMissing: 'The relationship does not exist (code 3000)',
  etagStale: 'The etag is no longer valid (code 2055)',
  bodyTooLarge: 'The body is larger than 64 KiB (code 800003)',
  unsupportedMediaType: 'The body is not application/json (code 800005)',
  internal: 'Unexpected error (code 500)',
  unavailable: 'A backing store is unavailable (code 503), with Retry-After',
};

/** Every /v1 operation can be refused by the per-tenant rate limit (CONTRACT section 9). */
const RATE_LIMITED = ApiTooManyRequestsResponse({
  description:
    "The rate limit is exceeded: Partner Center's throttling body, not the error shape. " +
    'Every /v1 response carries `RateLimit-Policy` and `RateLimit`.',
  type: TooManyRequestsBodyDto,
  headers: {
    'Retry-After': {
      description: 'Whole seconds (at least 1) after which the request will be served',
      schema: { type: 'integer', minimum: 1 },
    },
    'RateLimit-Policy': {
      description: 'The quota: `"customer";q=<requests>;w=<window seconds>`',
      schema: { type: 'string', example: '"customer";q=500;w=60' },
    },
    RateLimit: {
      description: 'Requests left and seconds until one more is allowed: `"customer";r=0;t=12`',
      schema: { type: 'string', example: '"customer";r=0;t=12' },
    },
  },
});

/** Documents the error responses of an operation, in the contract's error shape. */
export function ApiErrors(...kinds: ErrorKind[]): MethodDecorator {
  const all: ErrorKind[] = [...kinds, 'unauthorized', 'internal', 'unavailable'];
  return applyDecorators(
    ...[...new Set(all)].map((kind) =>
      ApiResponse({
        status: ErrorCodes[kind].status,
        description: DESCRIPTIONS[kind],
        type: ErrorBodyDto,
      }),
    ),
    RATE_LIMITED,
  );
}
