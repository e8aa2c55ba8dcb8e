import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { createVerifier, DecodedJwt } from 'fast-jwt';
import type { JWSHeaderParameters } from 'jose';
import { authConfig } from '../../config/configuration';
import { ApiError } from '../errors/error-catalogue';
import { normalizeGuid } from '../ids/guid';
import { JwksKeys } from './jwks-keys';

const BEARER = /^bearer[ \t]+([A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*)[ \t]*$/i;
const SYMMETRIC = ['HS256'] as const;
const ASYMMETRIC = ['RS256', 'ES256'] as const;
const TID_PLACEHOLDER = '{tid}';

type Verify = (token: string) => Promise<Record<string, unknown>>;

/**
 * Verifies `Authorization: Bearer <JWT>` (CONTRACT section 3) and returns the caller's tenant id,
 * the `tid` claim. `alg: none`, expired, not-yet-valid and badly signed tokens are rejected by
 * fast-jwt; the key is chosen by the token's algorithm, so an HS256 token is never checked against
 * a public key (no algorithm confusion). `exp` is required, and so are `iss` and `aud` when
 * AUTH_ISSUER / AUTH_AUDIENCE are set: a claim that is absent never passes for one that matches.
 * AUTH_ISSUER may contain `{tid}` (Entra ID's multi-tenant issuers,
 * `https://login.microsoftonline.com/{tid}/v2.0`): the token's issuer must then be that template
 * with the token's own `tid`.
 */
@Injectable()
export class TokenVerifier {
  private readonly logger = new Logger(TokenVerifier.name);
  private readonly verify: Verify;
  private readonly issuerTemplate?: string;

  constructor(@Inject(authConfig.KEY) config: ConfigType<typeof authConfig>) {
    const jwks = config.jwksUri
      ? new JwksKeys(config.jwksUri, config.jwksRefetchIntervalMs)
      : undefined;
    const secret = config.jwtSecret;
    const algorithms = [...(secret ? SYMMETRIC : []), ...(jwks ? ASYMMETRIC : [])];
    const perTenantIssuer = config.issuer?.includes(TID_PLACEHOLDER);
    if (perTenantIssuer) this.issuerTemplate = config.issuer;
    const verifier = createVerifier({
      algorithms: [...algorithms],
      allowedIss: perTenantIssuer ? undefined : config.issuer,
      allowedAud: config.audience,
      requiredClaims: [
        'exp',
        ...(config.issuer ? ['iss'] : []),
        ...(config.audience ? ['aud'] : []),
      ],
      // Verified tokens are cached until they expire: a hot path for every request.
      cache: 10_000,
      key: async (decoded: DecodedJwt) => {
        const alg = String(decoded.header.alg);
        if ((SYMMETRIC as readonly string[]).includes(alg) && secret) return secret;
        if ((ASYMMETRIC as readonly string[]).includes(alg) && jwks) {
          return jwks.keyFor(decoded.header as JWSHeaderParameters).catch((error: Error) => {
            this.logger.warn(`No JWKS key for this token: ${error.message}`);
            throw error;
          });
        }
        throw new Error('No key for this token');
      },
    });
    this.verify = verifier as Verify;
  }

  /** The caller's tenant id (lower-case GUID), or a 401 ApiError. */
  async tenantOf(authorization: string | undefined): Promise<string> {
    const token = authorization && BEARER.exec(authorization)?.[1];
    if (!token) throw unauthorized('A bearer token is required');
    let claims: Record<string, unknown>;
    try {
      claims = await this.verify(token);
    } catch {
      throw unauthorized('The bearer token is not valid', true);
    }
    const tenantId = normalizeGuid(claims.tid);
    if (!tenantId) throw unauthorized('The bearer token has no tenant id (tid) claim', true);
    if (
      this.issuerTemplate &&
      claims.iss !== this.issuerTemplate.replace(TID_PLACEHOLDER, String(claims.tid))
    ) {
      throw unauthorized('The bearer token was issued for another tenant', true);
    }
    return tenantId;
  }
}

function unauthorized(description: string, tokenPresent = false): ApiError {
  const challenge = tokenPresent
    ? 'Bearer realm="CustomerService", error="invalid_token"'
    : 'Bearer realm="CustomerService"';
  return new ApiError('unauthorized', description, [], { 'WWW-Authenticate': challenge });
}
