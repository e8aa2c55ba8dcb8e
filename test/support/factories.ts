import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { bearer } from './tokens';

type Body = Record<string, any>;

export function uniqueDomain(prefix = 'contoso'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}.onmicrosoft.com`;
}

/** A valid create body (CONTRACT 6.1), camelCase; nested overrides are merged. */
export function buildCustomer(overrides: Body = {}): Body {
  const base: Body = {
    companyProfile: { domain: uniqueDomain() },
    billingProfile: {
      email: 'ada@contoso.com',
      culture: 'en-US',
      language: 'en',
      companyName: 'Contoso',
      firstName: 'Ada',
      lastName: 'Lovelace',
      defaultAddress: {
        country: 'US',
        city: 'Redmond',
        state: 'WA',
        addressLine1: '1 Microsoft Way',
        postalCode: '98052',
      },
    },
  };
  return merge(base, overrides);
}

export async function createCustomer(
  server: Parameters<typeof request>[0],
  tenantId: string,
  overrides: Body = {},
): Promise<Body> {
  const response = await request(server)
    .post('/v1/customers')
    .set(bearer(tenantId))
    .send(buildCustomer(overrides));
  if (response.status !== 201) {
    throw new Error(`create failed: ${response.status} ${JSON.stringify(response.body)}`);
  }
  return response.body as Body;
}

function merge(base: Body, overrides: Body): Body {
  const result: Body = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = result[key];
    result[key] = isObject(value) && isObject(current) ? merge(current, value) : value;
  }
  return result;
}

function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
