import { invalidInput } from '../errors/error-catalogue';
import { invalidToken } from './continuation-tokens';

export const MAX_PAGE_SIZE = 500;

/** `size`: 0–500, 0 or absent meaning the default of 500 (the Java SDK sends size=0). */
export function parsePageSize(raw: unknown): number {
  if (raw === undefined || raw === '') return MAX_PAGE_SIZE;
  const size = typeof raw === 'string' && /^\d{1,6}$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw invalidInput([`size must be an integer from 0 to ${MAX_PAGE_SIZE}`]);
  }
  return size === 0 ? MAX_PAGE_SIZE : size;
}

/**
 * The continuation token of a `seekOperation=Next` request, or undefined for a first page.
 * `seekOperation` is `Next` in any case or `0` (the SDKs' enum value).
 */
export function continuationTokenOf(
  seekOperation: unknown,
  header: string | string[] | undefined,
): string | undefined {
  if (seekOperation === undefined) return undefined;
  if (typeof seekOperation !== 'string' || !/^(next|0)$/i.test(seekOperation.trim())) {
    throw invalidInput(['seekOperation must be Next']);
  }
  const token = Array.isArray(header) ? header[0] : header;
  if (!token?.trim()) throw invalidToken();
  return token.trim();
}

/** Checks a decoded token payload's shape: a token is data from outside. */
export function isSeekPosition(value: unknown): value is { size: number; key: string; id: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { size, key, id } = value as Record<string, unknown>;
  return isPageSize(size) && typeof key === 'string' && typeof id === 'string';
}

/** A page size as a token carries it: already resolved, so 1–500 (0 never appears). */
export function isPageSize(value: unknown): value is number {
  return (
    typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_PAGE_SIZE
  );
}
