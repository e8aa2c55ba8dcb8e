/** Deeper than this, a body is refused: no contract body nests beyond five levels. */
export const MAX_JSON_DEPTH = 32;

/**
 * Keys that name the prototype chain. JSON.parse makes them plain own properties, but code that
 * copies or looks them up (`{ ...value }`, `target[key] = …`, `obj[key]` on a lookup table) would
 * reach `Object.prototype`. A body never means them: they are dropped like any unknown property.
 */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export class JsonTooDeepError extends Error {
  constructor() {
    super(`The request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
}

/**
 * Makes a parsed JSON value safe to hand to the rest of the service: refuses nesting deeper than
 * MAX_JSON_DEPTH (the validators recurse, and a 2.6 KB body of 1,300 levels overflowed the stack)
 * and removes prototype keys at every level. Mutates and returns `value`.
 */
export function sanitiseJson(value: unknown, depth = 1): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_JSON_DEPTH) throw new JsonTooDeepError();
  if (Array.isArray(value)) {
    for (const item of value) sanitiseJson(item, depth + 1);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    // Depth counts everywhere, also inside what is dropped.
    sanitiseJson(record[key], depth + 1);
    if (PROTOTYPE_KEYS.has(key)) delete record[key];
  }
  return value;
}
