/** One quota policy, as advertised in `RateLimit-Policy` (IETF draft-ietf-httpapi-ratelimit-headers). */
export interface RateLimitPolicy {
  name: string;
  limit: number;
  ttlMs: number;
}

/** `"customer";q=500;w=60`: the quota and the window in whole seconds, one item per policy. */
export function policyHeader(policies: readonly RateLimitPolicy[]): string {
  return policies
    .map(({ name, limit, ttlMs }) => `"${name}";q=${limit};w=${Math.ceil(ttlMs / 1000)}`)
    .join(', ');
}

/**
 * `"customer";r=12;t=0`: requests left in the window, and the seconds until one more request is
 * allowed (0 while some are left).
 */
export function rateLimitHeader(name: string, remaining: number, resetSeconds: number): string {
  const r = Math.max(0, remaining);
  return `"${name}";r=${r};t=${r > 0 ? 0 : resetSeconds}`;
}
