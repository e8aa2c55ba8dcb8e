/**
 * Entity tags as HTTP carries them (RFC 9110 §8.8.3, §13.1.1–2): `"abc"`, `W/"abc"`, a list, `*`.
 * Clients also send them unquoted (CONTRACT 7.2), which is accepted.
 */
export interface EtagCondition {
  any: boolean;
  tags: { value: string; weak: boolean }[];
}

/** The condition of an If-Match / If-None-Match header, or undefined when there is none. */
export function parseEtagCondition(
  header: string | string[] | undefined,
): EtagCondition | undefined {
  const raw = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim();
  // An empty header is tolerated as absent (CONTRACT 1: empty header values are never rejected).
  if (!raw) return undefined;
  if (raw === '*') return { any: true, tags: [] };
  const tags = raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const weak = /^W\//i.test(part);
      const value = (weak ? part.slice(2) : part).trim().replace(/^"(.*)"$/, '$1');
      return { value, weak };
    });
  // A header of commas only carries no tag: absent too, rather than a condition nothing can meet.
  return tags.length > 0 ? { any: false, tags } : undefined;
}

/** If-Match uses the strong comparison: a weak tag never matches. */
export function matchesStrongly(condition: EtagCondition, etag: string): boolean {
  return condition.any || condition.tags.some((tag) => !tag.weak && tag.value === etag);
}

/** If-None-Match uses the weak comparison. */
export function matchesWeakly(condition: EtagCondition, etag: string): boolean {
  return condition.any || condition.tags.some((tag) => tag.value === etag);
}

export function quoted(etag: string): string {
  return `"${etag}"`;
}
