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

/** A full billing profile as a client writes it on PUT (CONTRACT 7.2), without any etag. */
export function buildBillingProfile(companyName: string, extra: Body = {}): Body {
  return {
    email: 'grace@contoso.com',
    culture: 'en-US',
    language: 'en',
    companyName,
    firstName: 'Grace',
    lastName: 'Hopper',
    defaultAddress: {
      country: 'US',
      city: 'Arlington',
      state: 'VA',
      addressLine1: '1 Navy Way',
      postalCode: '22202',
    },
    ...extra,
  };
}

/** The fields a client writes, out of a billing-profile response. */
export function billingValuesOf(response: Body): Body {
  const { id: _id, links: _links, attributes: _attributes, ...values } = response;
  return values;
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
