import fc from 'fast-check';

/** Keys that name Object.prototype's machinery: ignored like any unknown property (issue #10). */
export const PROTOTYPE_KEYS = ['constructor', '__proto__', 'prototype'] as const;

/** Names an object inherits from Object.prototype: `FIELDS[name]` finds them in any plain map. */
export const INHERITED_NAMES = [
  ...PROTOTYPE_KEYS,
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  'toLocaleString',
] as const;

/**
 * The service's nesting limit: a body nested deeper than this is 400 / 800002. Levels count the
 * body's own object or array as level 1 (`{"a":{}}` is 2 levels), as containerDepth() does.
 */
export const MAX_NESTING = 32;

type Json = Record<string, unknown>;

/**
 * Sets an own, enumerable property. A plain `object.__proto__ = x` would replace the prototype
 * instead, and JSON.stringify would then leave the key out of the body.
 */
export function setOwn(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** An object with exactly these own properties (`__proto__` included as a plain key). */
export function own(entries: Record<string, unknown> | [string, unknown][]): Json {
  const result: Json = {};
  for (const [key, value] of Array.isArray(entries) ? entries : Object.entries(entries)) {
    setOwn(result, key, value);
  }
  return result;
}

/** A deep copy that keeps `__proto__` keys as own properties (structuredClone and spreads may not). */
export function copyJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copyJson) as T;
  if (value === null || typeof value !== 'object') return value;
  return own(Object.entries(value).map(([k, v]): [string, unknown] => [k, copyJson(v)])) as T;
}

export type Shape = 'object' | 'array' | 'mixed';

/**
 * `levels` containers nested in each other: `{"a":{"a":{}}}` is 3 levels of objects, `[[[]]]` 3 of
 * arrays, mixed alternates them. Built iteratively, so any depth is cheap.
 */
export function nested(
  levels: number,
  shape: Shape = 'object',
  key = 'a',
  leaf?: unknown,
): unknown {
  let value: unknown = leaf;
  for (let level = levels; level >= 1; level--) {
    const asArray = shape === 'array' || (shape === 'mixed' && level % 2 === 0);
    if (asArray) value = value === undefined ? [] : [value];
    else value = value === undefined ? {} : own([[key, value]]);
  }
  return value;
}

/** How many containers deep a value is: `1` is 0, `{}` and `[]` are 1, `{"a":[]}` is 2. */
export function containerDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object') {
      deepest = Math.max(deepest, depth);
      continue;
    }
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** True when the body breaks the nesting limit, wherever its deepest part is (issue #10). */
export function tooDeep(body: unknown): boolean {
  return containerDepth(body) > MAX_NESTING;
}

const insertedKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom(...INHERITED_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom('x', 'links', 'attributes', 'Constructor', '__PROTO__') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** Deep nesting, mostly near the limit, sometimes up to ~1,500 levels (the stack overflows of #10). */
export const deepValue: fc.Arbitrary<unknown> = fc
  .record({
    levels: fc.oneof(
      fc.integer({ min: MAX_NESTING - 2, max: MAX_NESTING + 3 }),
      fc.integer({ min: 1, max: 200 }),
      fc.integer({ min: 1, max: 1_500 }),
    ),
    shape: fc.constantFrom<Shape>('object', 'array', 'mixed'),
    key: insertedKey,
    leaf: fc.option(fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constant(null)), {
      nil: undefined,
    }),
  })
  .map(({ levels, shape, key, leaf }) => nested(levels, shape, key, leaf));

/** An object keyed by a prototype name, where a string or an object is expected: `{"constructor":1}`. */
export const prototypeKeyedValue: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.uniqueArray(insertedKey, { minLength: 1, maxLength: 3 }),
    fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 3, maxLength: 3 }),
  )
  .map(([keys, values]) => own(keys.map((key, i): [string, unknown] => [key, values[i]])));

/** Any value a field might be given by a hostile client. */
export const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.jsonValue() },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '\ud800',
      '💥'.repeat(80),
      'x'.repeat(5000),
      '__proto__',
      'constructor',
      '%_\\',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(1e308, -0, Number.MAX_SAFE_INTEGER, true, [], {}, null),
  },
  { weight: 2, arbitrary: deepValue },
  { weight: 2, arbitrary: prototypeKeyedValue },
);

export interface Insertion {
  /** which object of the body (in depth-first order, the body itself first), modulo their number */
  at: number;
  key: string;
  value: unknown;
}

function insertionsOf(value: fc.Arbitrary<unknown>): fc.Arbitrary<Insertion[]> {
  return fc.array(fc.record({ at: fc.nat(), key: insertedKey, value }), { maxLength: 4 });
}

/** Extra properties at random positions: prototype names mostly, with shallow or deep values. */
export const insertions: fc.Arbitrary<Insertion[]> = insertionsOf(
  fc.oneof(
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    { weight: 1, arbitrary: deepValue },
    { weight: 1, arbitrary: prototypeKeyedValue },
  ),
);

/** The same without deep values, for what travels in a URL (a deep filter is only a long URL). */
export const shallowInsertions: fc.Arbitrary<Insertion[]> = insertionsOf(
  fc.oneof(fc.jsonValue({ maxDepth: 2 }), prototypeKeyedValue),
);

/** Shallow prototype-named extras only: added to a valid body they must change nothing. */
export const harmlessInsertions: fc.Arbitrary<Insertion[]> = fc.array(
  fc.record({
    at: fc.nat(),
    key: fc.constantFrom(...PROTOTYPE_KEYS),
    value: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constant(own({ isAdmin: true, polluted: 'polluted' })),
    ),
  }),
  { minLength: 1, maxLength: 5 },
);

/** Applies the insertions to a copy of the body; objects inside arrays count as positions too. */
export function insert(body: unknown, extras: Insertion[]): unknown {
  const copy = copyJson(body);
  const objects: Json[] = [];
  const walk = (value: unknown) => {
    if (value === null || typeof value !== 'object') return;
    if (!Array.isArray(value)) objects.push(value as Json);
    for (const child of Object.values(value)) walk(child);
  };
  walk(copy);
  if (objects.length === 0) return copy;
  for (const { at, key, value } of extras)
    setOwn(objects[at % objects.length], key, copyJson(value));
  return copy;
}

/** `companyProfile` → `CompanyProfile`, as the .NET SDK writes bodies (CONTRACT 12). */
export function pascalCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pascalCase);
  if (value === null || typeof value !== 'object') return value;
  return own(
    Object.entries(value).map(([k, v]): [string, unknown] => [
      k.charAt(0).toUpperCase() + k.slice(1),
      pascalCase(v),
    ]),
  );
}

/**
 * A near-valid body from `base()`: maybe one field (anywhere, from `paths`) replaced by a weird
 * value, maybe PascalCase, then extra keys at random positions.
 */
export function hostileBody(base: () => Json, paths: string[][]): fc.Arbitrary<unknown> {
  return fc
    .record({
      mutation: fc.option(fc.tuple(fc.constantFrom(...paths), weirdValue), { nil: undefined }),
      pascal: fc.boolean(),
      extras: insertions,
    })
    .map(({ mutation, pascal, extras }) => {
      const body = base();
      if (mutation) {
        const [path, value] = mutation;
        let target = body;
        for (const key of path.slice(0, -1)) {
          const next = target[key];
          if (next === null || typeof next !== 'object' || Array.isArray(next))
            setOwn(target, key, {});
          target = target[key] as Json;
        }
        setOwn(target, path[path.length - 1], copyJson(value));
      }
      return insert(pascal ? pascalCase(body) : body, extras);
    });
}

/** Counts every request a fuzz test sends, by status, for the closing note of issue #10. */
export class StatusTally {
  private readonly counts = new Map<number, number>();
  /** The first few 5xx answers, described, so that a summary says what failed. */
  readonly failures: string[] = [];

  add(status: number, describe?: () => string): void {
    this.counts.set(status, (this.counts.get(status) ?? 0) + 1);
    if (status >= 500 && describe && this.failures.length < 5) this.failures.push(describe());
  }

  get total(): number {
    return [...this.counts.values()].reduce((sum, n) => sum + n, 0);
  }

  count(predicate: (status: number) => boolean): number {
    return [...this.counts].reduce((sum, [status, n]) => sum + (predicate(status) ? n : 0), 0);
  }

  summary(): string {
    const statuses = [...this.counts]
      .sort(([a], [b]) => a - b)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
    return `${this.total} requests (${statuses})`;
  }
}
