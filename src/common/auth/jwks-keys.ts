import { createPublicKey, JsonWebKey } from 'node:crypto';

const KEYS_TTL_MS = 10 * 60_000;
/** An unknown `kid` refetches the set, but at most this often, so bad tokens cannot flood the IdP. */
const REFETCH_INTERVAL_MS = 30_000;
const FETCH_TIMEOUT_MS = 5_000;

/** Public keys from a JWKS endpoint (Microsoft Entra ID or any OIDC provider), cached by `kid`. */
export class JwksKeys {
  private keys = new Map<string, string>();
  private fetchedAt = 0;
  private pending?: Promise<void>;

  constructor(private readonly uri: string) {}

  async keyFor(kid: string | undefined): Promise<string | undefined> {
    const now = Date.now();
    const stale = now - this.fetchedAt > KEYS_TTL_MS;
    const unknownKid = kid !== undefined && !this.keys.has(kid);
    if (stale || (unknownKid && now - this.fetchedAt > REFETCH_INTERVAL_MS)) await this.refresh();
    if (kid !== undefined) return this.keys.get(kid);
    // A token without `kid` is accepted only when the set holds exactly one key.
    return this.keys.size === 1 ? [...this.keys.values()][0] : undefined;
  }

  private refresh(): Promise<void> {
    this.pending ??= this.fetchKeys().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetchKeys(): Promise<void> {
    const response = await fetch(this.uri, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`JWKS endpoint answered ${response.status}`);
    const body = (await response.json()) as {
      keys?: (JsonWebKey & { kid?: string; use?: string })[];
    };
    const keys = new Map<string, string>();
    for (const jwk of body.keys ?? []) {
      if (jwk.use && jwk.use !== 'sig') continue;
      const pem = createPublicKey({ key: jwk, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString();
      keys.set(jwk.kid ?? `key-${keys.size}`, pem);
    }
    this.keys = keys;
    this.fetchedAt = Date.now();
  }
}
