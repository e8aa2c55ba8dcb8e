'use strict';
// The request bodies the benchmark sends: valid for the service and the baseline (CONTRACT 6.1,
// 7.2, 10), a little different each time so that every write really changes something.

const CITIES = [
  ['Redmond', 'WA', '98052'],
  ['Austin', 'TX', '73301'],
  ['Denver', 'CO', '80202'],
  ['Boston', 'MA', '02108'],
];

function billingProfileBody(i) {
  const [city, state, postalCode] = CITIES[i % CITIES.length];
  return {
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: `billing${i}@contoso.example.com`,
    culture: 'en-US',
    language: 'en',
    companyName: `Contoso Benchmark ${i}`,
    defaultAddress: {
      country: 'US',
      city,
      state,
      postalCode,
      addressLine1: `${1 + (i % 999)} Microsoft Way`,
      phoneNumber: '+1 425 555 0100',
    },
  };
}

function createCustomerBody(domain, i) {
  return {
    companyProfile: { domain: `${domain}.onmicrosoft.com` },
    billingProfile: billingProfileBody(i),
  };
}

module.exports = { billingProfileBody, createCustomerBody };
