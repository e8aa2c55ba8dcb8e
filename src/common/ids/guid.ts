import { PipeTransform } from '@nestjs/common';
import { ApiError } from '../errors/error-catalogue';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BRACED_GUID = /^\{([0-9a-f-]{36})\}$/i;

export function isGuid(value: unknown): value is string {
  return typeof value === 'string' && GUID.test(value);
}

/** Lower-case GUID, or undefined. Accepts `{…}` braces as Partner Center does (CONTRACT 6.3). */
export function normalizeGuid(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  const unbraced = BRACED_GUID.exec(trimmed)?.[1] ?? trimmed;
  return GUID.test(unbraced) ? unbraced.toLowerCase() : undefined;
}

/** `{customer-tenant-id}` path parameters: not a GUID is 400 / 900118 (CONTRACT section 4). */
export class CustomerIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    const id = normalizeGuid(value);
    if (!id) {
      throw new ApiError(
        'invalidTenantId',
        `The customer tenant id '${clip(value)}' is not a GUID`,
        ['customerTenantId must be a GUID'],
      );
    }
    return id;
  }
}

/** Other GUID path parameters (relationship request ids): not a GUID is plain invalid input. */
export class GuidParamPipe implements PipeTransform<string, string> {
  constructor(private readonly name: string) {}

  transform(value: string): string {
    const id = normalizeGuid(value);
    if (!id) {
      throw new ApiError('invalidInput', `${this.name} must be a GUID`, [
        `${this.name} must be a GUID`,
      ]);
    }
    return id;
  }
}

function clip(value: unknown): string {
  const text = String(value);
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
