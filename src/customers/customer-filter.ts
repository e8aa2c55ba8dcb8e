import { invalidInput } from '../common/errors/error-catalogue';
import { normalizeGuid } from '../common/ids/guid';

export type CustomerFilterField =
  'CompanyName' | 'Domain' | 'IndirectReseller' | 'IndirectCloudSolutionProvider';

export interface CustomerFilter {
  field: CustomerFilterField;
  /** lower-case prefix for the starts-with fields, a lower-case GUID for the reseller fields */
  value: string;
}

/** A Map, not an object literal: `FIELDS['constructor']` must not find Object's constructor. */
const FIELDS = new Map<string, CustomerFilterField>([
  ['companyname', 'CompanyName'],
  ['domain', 'Domain'],
  ['indirectreseller', 'IndirectReseller'],
  ['indirectcloudsolutionprovider', 'IndirectCloudSolutionProvider'],
]);

const MAX_VALUE_LENGTH = 255;

/**
 * The `filter` query parameter (CONTRACT 6.2): URL-decoded JSON `{ Field, Value, Operator }` with
 * keys in any case and extra keys ignored (the Java SDK adds `fieldType`).
 */
export function parseCustomerFilter(raw: unknown): CustomerFilter | undefined {
  if (raw === undefined) return undefined;
  const problem = (message: string) => invalidInput([`filter ${message}`]);
  if (typeof raw !== 'string' || raw.trim() === '') throw problem('must be a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw problem('must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw problem('must be a JSON object');
  }
  const entries = new Map<string, unknown>();
  for (const [key, value] of Object.entries(parsed)) {
    const name = key.toLowerCase();
    if (entries.has(name)) throw problem(`has the key ${key} more than once`);
    entries.set(name, value);
  }

  const rawField = entries.get('field');
  const field = typeof rawField === 'string' ? FIELDS.get(rawField.toLowerCase()) : undefined;
  if (!field) throw problem(`Field must be one of ${[...FIELDS.values()].join(', ')}`);
  const operator = entries.get('operator');
  if (typeof operator !== 'string' || !/^(starts_with|startswith)$/i.test(operator.trim())) {
    throw problem('Operator must be starts_with');
  }
  const value = entries.get('value');
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_VALUE_LENGTH) {
    throw problem(`Value must be a non-empty string of at most ${MAX_VALUE_LENGTH} characters`);
  }
  if (field === 'IndirectReseller' || field === 'IndirectCloudSolutionProvider') {
    const id = normalizeGuid(value);
    if (!id) throw problem(`Value must be a GUID for ${field}`);
    return { field, value: id };
  }
  return { field, value: value.trim().toLowerCase() };
}

/**
 * LIKE wildcards in a prefix match themselves (CONTRACT 6.2). The escape character is `!`, not `\`,
 * because MySQL and SQLite read a backslash in a string literal differently.
 */
export const LIKE_ESCAPE = '!';

export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[!%_]/g, (c) => `${LIKE_ESCAPE}${c}`)}%`;
}
