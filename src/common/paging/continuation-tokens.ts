import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { pagingConfig } from '../../config/configuration';
import { invalidInput } from '../errors/error-catalogue';

const MAX_TOKEN_LENGTH = 4096;

/**
 * Opaque, tamper-proof continuation tokens (CONTRACT 6.2): a JSON payload and an HMAC over it,
 * the caller's tenant and the collection it pages (its `scope`). A changed, truncated, foreign or
 * garbage token fails the MAC and is 400 / 800002.
 */
@Injectable()
export class ContinuationTokens {
  private readonly key: Buffer;

  constructor(@Inject(pagingConfig.KEY) config: ConfigType<typeof pagingConfig>) {
    this.key = config.tokenKey;
  }

  encode(tenantId: string, scope: string, payload: object): string {
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.mac(tenantId, scope, body).toString('base64url')}`;
  }

  /** The payload, or 400 when the token was not issued by us to this tenant for this scope. */
  decode(tenantId: string, scope: string, token: string): unknown {
    const [body, mac, extra] = token.length <= MAX_TOKEN_LENGTH ? token.split('.') : [];
    if (!body || !mac || extra !== undefined) throw invalidToken();
    const expected = this.mac(tenantId, scope, body);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidToken();
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw invalidToken();
    }
  }

  private mac(tenantId: string, scope: string, body: string): Buffer {
    return createHmac('sha256', this.key).update(`${tenantId}\n${scope}\n${body}`).digest();
  }
}

export function invalidToken() {
  return invalidInput(['MS-ContinuationToken is not a valid continuation token for this request']);
}
