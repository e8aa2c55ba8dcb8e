/** A billing profile that passes every rule, for Swagger UI examples that work as they are. */
export function billingProfileExample() {
  return {
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
  };
}
