import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';
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
  domainTaken: 'The domain is already taken (code 600010)',
  requestIdReused: 'The MS-RequestId was used with a different request (code 600011)',
  relationshipMissing: 'The relationship does not exist (code 3000)',
  etagStale: 'The etag is no longer valid (code 2055)',
  bodyTooLarge: 'The body is larger than 64 KiB (code 800003)',
  unsupportedMediaType: 'The body is not application/json (code 800005)',
  internal: 'Unexpected error (code 500)',
  unavailable: 'A backing store is unavailable (code 503), with Retry-After',
};

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
  );
}
