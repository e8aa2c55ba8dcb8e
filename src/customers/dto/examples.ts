import { randomBytes } from 'node:crypto';
import { billingProfileExample } from '../../billing/dto/examples';

const EXAMPLE_DOMAIN = /contoso-[0-9a-f]{8}\.onmicrosoft\.com/g;

function exampleDomain(suffix = '.onmicrosoft.com'): string {
  return `contoso-${randomBytes(4).toString('hex')}${suffix}`;
}

/** The Swagger UI example for `POST /v1/customers` (and for accepting a relationship request). */
export function createCustomerExample() {
  return {
    companyProfile: { domain: exampleDomain() },
    billingProfile: billingProfileExample(),
  };
}

/**
 * The OpenAPI document with a fresh domain, under the configured suffix, in every example, each
 * time it is served: a domain can be taken only once, so "Try it out" after a reload succeeds as
 * the example stands.
 */
export function withFreshExampleDomains<T extends object>(document: T, suffix: string): T {
  return JSON.parse(
    JSON.stringify(document).replace(EXAMPLE_DOMAIN, () => exampleDomain(suffix)),
  ) as T;
}
