import { randomBytes } from 'node:crypto';

/**
 * The Swagger UI example for `POST /v1/customers`. Its domain is new each time the service starts,
 * so "Try it out" succeeds as it stands (a domain can be taken only once).
 */
export function createCustomerExample() {
  const suffix = randomBytes(4).toString('hex');
  return {
    companyProfile: { domain: `contoso-${suffix}.onmicrosoft.com` },
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
        phoneNumber: '+1 425 555 0100',
      },
    },
  };
}
