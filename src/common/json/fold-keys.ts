import { getMetadataStorage } from 'class-validator';

/** A DTO class: what class-validator and class-transformer key their metadata by. */
export type DtoClass = abstract new (...args: never[]) => unknown;

/** class-transformer keeps `@Type()` metadata in a storage it exports without typings. */
interface TypeMetadataStorage {
  findTypeMetadata(
    target: DtoClass,
    property: string,
  ): { typeFunction?: () => unknown } | undefined;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as {
  defaultMetadataStorage: TypeMetadataStorage;
};

/**
 * Reads a request body the way Partner Center clients write it (CONTRACT section 2):
 * property names in any case (`BillingProfile`, `billingprofile`), `null` meaning absent, unknown
 * properties dropped, strings trimmed. The known names come from the DTO classes' own validation
 * metadata, so a new module's DTOs are folded without registering anything.
 *
 * Problems that only the raw body shows (the same name twice in different cases) are appended to
 * `problems` with the property's camelCase JSON path.
 */
export function foldToDto(
  value: unknown,
  dtoClass: DtoClass,
  problems: string[],
  path = '',
): unknown {
  if (!isPlainObject(value)) return trimStrings(value);
  const shape = shapeOf(dtoClass);
  const folded: Record<string, unknown> = {};
  const seen = new Set<string>();
  for (const [rawKey, rawValue] of Object.entries(value)) {
    const property = shape.names.get(rawKey.toLowerCase());
    if (!property) continue;
    const propertyPath = path ? `${path}.${property}` : property;
    if (seen.has(property)) {
      problems.push(
        `${propertyPath} is given more than once (property names are case-insensitive)`,
      );
      continue;
    }
    seen.add(property);
    if (rawValue === null || rawValue === undefined) continue;
    const nested = shape.nestedTypes.get(property);
    if (!nested && hasLoneSurrogate(rawValue)) {
      // Not encodable as UTF-8, and validator's isEmail throws on it (encodeURI): a 400 here,
      // with the value made well-formed so the other rules still report on it.
      problems.push(`${propertyPath} must be valid Unicode text`);
    }
    folded[property] = nested
      ? foldNested(rawValue, nested, problems, propertyPath)
      : trimStrings(wellFormed(rawValue));
  }
  return folded;
}

function foldNested(value: unknown, type: DtoClass, problems: string[], path: string): unknown {
  if (Array.isArray(value)) {
    return value.map((item, index) => foldToDto(item, type, problems, `${path}.${index}`));
  }
  return foldToDto(value, type, problems, path);
}

interface DtoShape {
  /** lower-case name → the declared camelCase name */
  names: Map<string, string>;
  /** declared name → the nested DTO class of a `@Type(() => X)` property */
  nestedTypes: Map<string, DtoClass>;
}

const shapes = new WeakMap<DtoClass, DtoShape>();

function shapeOf(dtoClass: DtoClass): DtoShape {
  let shape = shapes.get(dtoClass);
  if (shape) return shape;
  shape = { names: new Map(), nestedTypes: new Map() };
  const metadata = getMetadataStorage().getTargetValidationMetadatas(dtoClass, '', true, false);
  for (const { propertyName } of metadata) {
    shape.names.set(propertyName.toLowerCase(), propertyName);
    const type = defaultMetadataStorage.findTypeMetadata(dtoClass, propertyName);
    const nested = type?.typeFunction?.();
    if (typeof nested === 'function' && nested !== String && nested !== Number) {
      shape.nestedTypes.set(propertyName, nested as DtoClass);
    }
  }
  shapes.set(dtoClass, shape);
  return shape;
}

/** A UTF-16 surrogate without its pair, which JSON can spell ("\ud800") but Unicode cannot. */
const LONE_SURROGATE = /\p{Cs}/u;

function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  return false;
}

function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\p{Cs}/gu, '\uFFFD');
  if (Array.isArray(value)) return value.map(wellFormed);
  return value;
}

function trimStrings(value: unknown): unknown {
  if (typeof value === 'string') return value.trim();
  if (Array.isArray(value)) return value.map(trimStrings);
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
