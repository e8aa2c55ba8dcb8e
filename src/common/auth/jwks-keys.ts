import { createRemoteJWKSet, type JWSHeaderParameters } from 'jose';
import { KeyObject } from 'node:crypto';

/**
 * Public keys from a JWKS endpoint (Microsoft Entra ID or any OIDC provider), through jose's remote
 * key set: the set is cached for ten minutes, and a token signed with a `kid` the cache does not
 * know (the provider rotated its keys) refetches it, at most once per AUTH_JWKS_REFETCH_INTERVAL_MS
 * (30 s), so that a flood of
 * forged `kid`s cannot flood the provider.
 */
export class JwksKeys {
  private readonly keySet: ReturnType<typeof createRemoteJWKSet>;
  /** fast-jwt takes PEM; each key jose hands out is converted once. */
  private readonly pems = new WeakMap<object, string>();

  constructor(uri: string, refetchIntervalMs: number) {
    this.keySet = createRemoteJWKSet(new URL(uri), {
      cooldownDuration: refetchIntervalMs,
      cacheMaxAge: 10 * 60_000,
      timeoutDuration: 5_000,
    });
  }

  /** The PEM public key for a token's header; rejects when the set has no matching key. */
  async keyFor(header: JWSHeaderParameters): Promise<string> {
    const key = await this.keySet(header);
    let pem = this.pems.get(key);
    if (!pem) {
      pem = KeyObject.from(key).export({ type: 'spki', format: 'pem' }).toString();
      this.pems.set(key, pem);
    }
    return pem;
  }
}
