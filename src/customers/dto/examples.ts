import { randomBytes } from 'node:crypto';
import { billingProfileExample } from '../../billing/dto/examples';

/**
 * The Swagger UI example for `POST /v1/customers`. Its domain is new each time the service starts,
 * so "Try it out" succeeds as it stands (a domain can be taken only once).
 */
export function createCustomerExample() {
  const suffix = randomBytes(4).toString('hex');
  return {
    companyProfile: { domain: `contoso-${suffix}.onmicrosoft.com` },
    billingProfile: billingProfileExample(),
  };
}
