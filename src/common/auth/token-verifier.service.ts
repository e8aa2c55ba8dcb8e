import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { createVerifier, DecodedJwt } from 'fast-jwt';
import { authConfig } from '../../config/configuration';
import { ApiError } from '../errors/error-catalogue';
import { normalizeGuid } from '../ids/guid';
import { JwksKeys } from './jwks-keys';

const BEARER = /^bearer[ \t]+([A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*)[ \t]*$/i;
const SYMMETRIC = ['HS256'] as const;
const ASYMMETRIC = ['RS256', 'ES256'] as const;

type Verify = (token: string) => Promise<Record<string, unknown>>;

/**
 * Verifies `Authorization: Bearer <JWT>` (CONTRACT section 3) and returns the caller's tenant id,
 * the `tid` claim. `alg: none`, expired, not-yet-valid and badly signed tokens are rejected by
 * fast-jwt; the key is chosen by the token's algorithm, so an HS256 token is never checked against
 * a public key (no algorithm confusion).
 */
@Injectable()
export class TokenVerifier {
  private readonly logger = new Logger(TokenVerifier.name);
  private readonly verify: Verify;

  constructor(@Inject(authConfig.KEY) config: ConfigType<typeof authConfig>) {
    const jwks = config.jwksUri ? new JwksKeys(config.jwksUri) : undefined;
    const secret = config.jwtSecret;
    const algorithms = [...(secret ? SYMMETRIC : []), ...(jwks ? ASYMMETRIC : [])];
    const verifier = createVerifier({
      algorithms: [...algorithms],
      allowedIss: config.issuer,
      allowedAud: config.audience,
      // Verified tokens are cached until they expire: a hot path for every request.
      cache: 10_000,
      key: async (decoded: DecodedJwt) => {
        const alg = String(decoded.header.alg);
        if ((SYMMETRIC as readonly string[]).includes(alg) && secret) return secret;
        if ((ASYMMETRIC as readonly string[]).includes(alg) && jwks) {
          const kid = decoded.header.kid as string | undefined;
          const key = await jwks.keyFor(kid).catch((error: Error) => {
            this.logger.warn(`JWKS fetch failed: ${error.message}`);
            return undefined;
          });
          if (key) return key;
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
    return tenantId;
  }
}

function unauthorized(description: string, tokenPresent = false): ApiError {
  const challenge = tokenPresent
    ? 'Bearer realm="CustomerService", error="invalid_token"'
    : 'Bearer realm="CustomerService"';
  return new ApiError('unauthorized', description, [], { 'WWW-Authenticate': challenge });
}
