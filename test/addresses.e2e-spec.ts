import request from 'supertest';
import { findCountryRule, SUPPORTED_COUNTRIES } from '../src/addresses/country-rules';
import { describeEachDatabase } from './support/databases';
import { buildCustomer, createCustomer, uniqueDomain } from './support/factories';
import { useTestApp } from './support/test-app';
import { bearer, newTenant } from './support/tokens';
import { errorBody } from './support/errors';

type Address = Record<string, string>;
type Body = Record<string, any>;

/**
 * One real, valid address per country of the table (CONTRACT 10), with a culture of that country,
 * a phone where one is mandatory and a registration number where one is required, plus a postal
 * code of the wrong format that no mechanical fix repairs.
 */
interface CountryCase {
  iso2: string;
  culture: string;
  address: Address;
  registrationNumber?: string;
  badPostalCode: string;
}

const COUNTRIES: CountryCase[] = [
  {
    iso2: 'US',
    culture: 'es-US',
    address: {
      country: 'US',
      city: 'Redmond',
      state: 'WA',
      addressLine1: '1 Microsoft Way',
      postalCode: '98052-6399',
    },
    badPostalCode: '9805',
  },
  {
    iso2: 'CA',
    culture: 'fr-CA',
    address: {
      country: 'CA',
      city: 'Ottawa',
      state: 'ON',
      addressLine1: '111 Wellington St',
      postalCode: 'K1A 0A9',
    },
    badPostalCode: '12345',
  },
  {
    iso2: 'GB',
    culture: 'en-GB',
    address: {
      country: 'GB',
      city: 'London',
      addressLine1: '10 Downing Street',
      postalCode: 'SW1A 2AA',
    },
    badPostalCode: '12345',
  },
  {
    iso2: 'IE',
    culture: 'en-IE',
    address: {
      country: 'IE',
      city: 'Dublin',
      addressLine1: 'One Microsoft Place',
      addressLine2: 'South County Business Park, Leopardstown',
      postalCode: 'D18 P521',
    },
    badPostalCode: '12345',
  },
  {
    iso2: 'DE',
    culture: 'de-DE',
    address: {
      country: 'DE',
      city: 'München',
      addressLine1: 'Walter-Gropius-Straße 5',
      postalCode: '80807',
    },
    badPostalCode: '8080',
  },
  {
    iso2: 'FR',
    culture: 'fr-FR',
    address: {
      country: 'FR',
      city: 'Issy-les-Moulineaux',
      addressLine1: '39 Quai du Président Roosevelt',
      postalCode: '92130',
    },
    badPostalCode: '9213',
  },
  {
    iso2: 'ES',
    culture: 'ca-ES',
    address: {
      country: 'ES',
      city: 'Barcelona',
      addressLine1: 'Plaça de Sant Jaume 1',
      postalCode: '08002',
    },
    badPostalCode: '53001',
  },
  {
    iso2: 'IT',
    culture: 'it-IT',
    address: {
      country: 'IT',
      city: 'Milano',
      addressLine1: 'Viale Pasubio 21',
      postalCode: '20154',
    },
    badPostalCode: '2015',
  },
  {
    iso2: 'NL',
    culture: 'nl-NL',
    address: {
      country: 'NL',
      city: 'Schiphol',
      addressLine1: 'Evert van de Beekstraat 354',
      postalCode: '1118 CZ',
    },
    badPostalCode: '0118 CZ',
  },
  {
    iso2: 'BE',
    culture: 'fr-BE',
    address: {
      country: 'BE',
      city: 'Bruxelles',
      addressLine1: 'Grand-Place 1',
      postalCode: '1000',
    },
    badPostalCode: '0100',
  },
  {
    iso2: 'AT',
    culture: 'de-AT',
    address: {
      country: 'AT',
      city: 'Wien',
      addressLine1: 'Stephansplatz 1',
      postalCode: '1010',
    },
    badPostalCode: '0101',
  },
  {
    iso2: 'CH',
    culture: 'de-CH',
    address: {
      country: 'CH',
      city: 'Zürich',
      addressLine1: 'Bahnhofstrasse 1',
      postalCode: '8001',
    },
    badPostalCode: '0800',
  },
  {
    iso2: 'SE',
    culture: 'sv-SE',
    address: {
      country: 'SE',
      city: 'Stockholm',
      addressLine1: 'Sergels torg 1',
      postalCode: '111 57',
    },
    badPostalCode: '011 57',
  },
  {
    iso2: 'NO',
    culture: 'nb-NO',
    address: {
      country: 'NO',
      city: 'Oslo',
      addressLine1: 'Rådhusplassen 1',
      postalCode: '0037',
    },
    badPostalCode: '037',
  },
  {
    iso2: 'DK',
    culture: 'da-DK',
    address: {
      country: 'DK',
      city: 'København',
      addressLine1: 'Rådhuspladsen 1',
      postalCode: '1550',
    },
    badPostalCode: '155',
  },
  {
    iso2: 'FI',
    culture: 'fi-FI',
    address: {
      country: 'FI',
      city: 'Helsinki',
      addressLine1: 'Pohjoisesplanadi 11-13',
      postalCode: '00170',
    },
    badPostalCode: '0017',
  },
  {
    iso2: 'PL',
    culture: 'pl-PL',
    address: {
      country: 'PL',
      city: 'Warszawa',
      addressLine1: 'Plac Defilad 1',
      postalCode: '00-901',
      phoneNumber: '+48 22 656 76 00',
    },
    registrationNumber: '526-025-02-74',
    badPostalCode: '00-90',
  },
  {
    iso2: 'PT',
    culture: 'pt-PT',
    address: {
      country: 'PT',
      city: 'Lisboa',
      addressLine1: 'Praça do Comércio',
      postalCode: '1100-148',
    },
    badPostalCode: '1100-14',
  },
  {
    iso2: 'CZ',
    culture: 'cs-CZ',
    address: {
      country: 'CZ',
      city: 'Praha',
      addressLine1: 'Staroměstské náměstí 1',
      postalCode: '110 00',
    },
    badPostalCode: '1100',
  },
  {
    iso2: 'AU',
    culture: 'en-AU',
    address: {
      country: 'AU',
      city: 'Sydney',
      state: 'NSW',
      addressLine1: 'Bennelong Point',
      postalCode: '2000',
    },
    badPostalCode: '200',
  },
  {
    iso2: 'NZ',
    culture: 'en-NZ',
    address: {
      country: 'NZ',
      city: 'Wellington',
      addressLine1: 'Molesworth Street',
      postalCode: '6011',
    },
    badPostalCode: '601',
  },
  {
    iso2: 'JP',
    culture: 'ja-JP',
    address: {
      country: 'JP',
      city: 'Minato-ku, Tokyo',
      addressLine1: '2-16-3 Konan',
      postalCode: '108-0075',
    },
    badPostalCode: '108-007',
  },
  {
    iso2: 'IN',
    culture: 'hi-IN',
    address: {
      country: 'IN',
      city: 'Hyderabad',
      state: 'TG',
      addressLine1: 'Gachibowli',
      postalCode: '500032',
      phoneNumber: '+91 40 6630 0000',
    },
    registrationNumber: 'AAACM5586C',
    badPostalCode: '050032',
  },
  {
    iso2: 'BR',
    culture: 'pt-BR',
    address: {
      country: 'BR',
      city: 'São Paulo',
      state: 'SP',
      addressLine1: 'Av. Presidente Juscelino Kubitschek 1909',
      postalCode: '04543-907',
      phoneNumber: '+55 11 4706 0900',
    },
    registrationNumber: '60.316.817/0001-03',
    badPostalCode: '4543-907',
  },
  {
    iso2: 'MX',
    culture: 'es-MX',
    address: {
      country: 'MX',
      city: 'Ciudad de México',
      state: 'CMX',
      addressLine1: 'Av. Vasco de Quiroga 1700',
      postalCode: '01210',
    },
    badPostalCode: '1210',
  },
  {
    iso2: 'ZA',
    culture: 'en-ZA',
    address: {
      country: 'ZA',
      city: 'Johannesburg',
      addressLine1: '3012 William Nicol Drive',
      postalCode: '2191',
      phoneNumber: '+27 11 361 4000',
    },
    registrationNumber: '2001/012345/07',
    badPostalCode: '219',
  },
  {
    iso2: 'SG',
    culture: 'en-SG',
    // A city-state: no city.
    address: { country: 'SG', addressLine1: '182 Cecil Street', postalCode: '069547' },
    badPostalCode: '69547',
  },
];

/** Where a field sits: on create, on PUT and on the validation endpoint. */
interface Paths {
  billing: string;
  address: string;
  company: string;
}
const ON_CREATE: Paths = {
  billing: 'billingProfile.',
  address: 'billingProfile.defaultAddress.',
  company: 'companyProfile.',
};
const ON_PUT: Paths = { billing: '', address: 'defaultAddress.', company: '' };
const ON_VALIDATE: Paths = { billing: '', address: '', company: '' };

interface InvalidCase {
  name: string;
  /** The billing profile's culture and address; the registration number on create. */
  culture?: string;
  address?: Address;
  registrationNumber?: string | null;
  problem: (paths: Paths) => string;
  /** Only the address is wrong, so PUT and the validation endpoint see it too. */
  addressOnly: boolean;
  /** What the validation endpoint suggests, when mechanical fixes make it valid. */
  suggestion?: Address;
}

function without(address: Address, field: string): Address {
  const copy = { ...address };
  delete copy[field];
  return copy;
}

function invalidCases(c: CountryCase): InvalidCase[] {
  const rule = findCountryRule(c.iso2)!;
  const cases: InvalidCase[] = [
    {
      name: `postal code ${c.badPostalCode}`,
      address: { ...c.address, postalCode: c.badPostalCode },
      problem: (p) =>
        `${p.address}postalCode must match the ${c.iso2} postal code format ${rule.postalCode!.source}`,
      addressOnly: true,
    },
    {
      name: 'an unsupported culture',
      culture: c.iso2 === 'JP' ? 'en-US' : 'ja-JP',
      problem: (p) =>
        `${p.billing}culture must be a culture supported in ${c.iso2}: ${rule.cultures.join(', ')}`,
      addressOnly: false,
    },
  ];
  if (rule.isPostalCodeRequired) {
    cases.push({
      name: 'no postal code',
      address: without(c.address, 'postalCode'),
      problem: (p) => `${p.address}postalCode is required in ${c.iso2}`,
      addressOnly: true,
    });
  }
  if (rule.isCityRequired) {
    cases.push({
      name: 'no city',
      address: { ...c.address, city: '   ' },
      problem: (p) => `${p.address}city is required in ${c.iso2}`,
      addressOnly: true,
    });
  }
  if (rule.isStateRequired) {
    const states = rule.states.join(', ');
    cases.push(
      {
        name: 'no state',
        address: without(c.address, 'state'),
        problem: (p) => `${p.address}state is required in ${c.iso2}`,
        addressOnly: true,
      },
      {
        name: 'an unknown state',
        address: { ...c.address, state: c.iso2 === 'MX' ? 'ZZZ' : 'ZZ' },
        problem: (p) => `${p.address}state must be one of the state codes of ${c.iso2}: ${states}`,
        addressOnly: true,
      },
    );
  }
  if (rule.isPhoneRequired) {
    cases.push({
      name: 'no phone number',
      address: without(c.address, 'phoneNumber'),
      problem: (p) => `${p.address}phoneNumber is required in ${c.iso2}`,
      addressOnly: true,
    });
  }
  if (rule.registrationNumber.use === 'required') {
    const format = registrationFormat(c.iso2);
    cases.push(
      {
        name: 'no registration number',
        registrationNumber: null,
        problem: (p) =>
          `${p.company}organizationRegistrationNumber is required in ${c.iso2}: ${format}`,
        addressOnly: false,
      },
      {
        name: 'a registration number of the wrong format',
        registrationNumber: 'ABC-123',
        problem: (p) => `${p.company}organizationRegistrationNumber must be ${format}`,
        addressOnly: false,
      },
    );
  }
  if (c.iso2 === 'GB') {
    cases.push({
      name: 'UK instead of GB',
      address: { ...c.address, country: 'UK' },
      problem: (p) => `${p.address}country UK is not an ISO 3166-1 code: use GB`,
      addressOnly: true,
      suggestion: c.address,
    });
  }
  return cases;
}

function trimmed(address: Address | undefined): Address {
  return Object.fromEntries(
    Object.entries(address ?? {}).map(([key, value]) => [key, value.trim()]),
  );
}

function billingProfile(c: CountryCase, culture = c.culture, address = c.address): Body {
  return {
    email: `billing@contoso.${c.iso2.toLowerCase()}`,
    culture,
    language: culture.slice(0, 2),
    companyName: `Contoso ${c.iso2}`,
    firstName: 'Ada',
    lastName: 'Lovelace',
    defaultAddress: address,
  };
}

/** A create body; `registrationNumber: null` leaves the number out. */
function createBody(
  c: CountryCase,
  billing: Body,
  registrationNumber: string | null = c.registrationNumber ?? null,
) {
  const body = buildCustomer({ billingProfile: billing });
  // Replace (not merge) the address, so that a field left out stays out.
  body.billingProfile.defaultAddress = billing.defaultAddress;
  if (registrationNumber !== null) {
    body.companyProfile.organizationRegistrationNumber = registrationNumber;
  }
  return body;
}

function registrationFormat(iso2: string): string {
  const rule = findCountryRule(iso2)!.registrationNumber;
  if (rule.use !== 'required') throw new Error(`${iso2} does not require a registration number`);
  return rule.format;
}

function invalidInputBody(problems: string[]) {
  const more = problems.length - 1;
  return {
    code: 800002,
    description:
      more === 0 ? problems[0] : `${problems[0]} (and ${more} more problem${more > 1 ? 's' : ''})`,
    data: problems,
    source: 'CustomerService',
  };
}

const US_STATES = [
  'AL', 'AK', 'AZ', 'AR', 'CA', 'CO', 'CT', 'DE', 'FL', 'GA', 'HI', 'ID', 'IL', 'IN', 'IA', 'KS',
  'KY', 'LA', 'ME', 'MD', 'MA', 'MI', 'MN', 'MS', 'MO', 'MT', 'NE', 'NV', 'NH', 'NJ', 'NM', 'NY',
  'NC', 'ND', 'OH', 'OK', 'OR', 'PA', 'RI', 'SC', 'SD', 'TN', 'TX', 'UT', 'VT', 'VA', 'WA', 'WV',
  'WI', 'WY',
]; // prettier-ignore

describeEachDatabase('addresses', (kind) => {
  const t = useTestApp(kind);

  const count = async (sql: string, parameters: unknown[]) =>
    Number((await t.dataSource.query<{ n: number | string }[]>(sql, parameters))[0].n);
  const billingRow = async (customerId: string) =>
    (
      await t.dataSource.query<Record<string, unknown>[]>(
        'SELECT * FROM billing_profiles WHERE customer_id = ?',
        [customerId],
      )
    )[0];
  const validate = (tenant: string, address: unknown) =>
    request(t.server)
      .post('/v1/validations/address')
      .set(bearer(tenant))
      .send(address as object);

  it('has a case for every country of the table', () => {
    expect(COUNTRIES.map((c) => c.iso2).sort()).toEqual([...SUPPORTED_COUNTRIES].sort());
  });

  describe.each(COUNTRIES.map((c) => [c.iso2, c] as const))('%s addresses', (iso2, c) => {
    it('accepts the valid address on create, on PUT and on the validation endpoint', async () => {
      const tenant = newTenant();
      const created = await request(t.server)
        .post('/v1/customers')
        .set(bearer(tenant))
        .send(createBody(c, billingProfile(c)))
        .expect(201);
      const customer = created.body;
      expect(customer.billingProfile).toMatchObject({
        culture: c.culture,
        language: c.culture.slice(0, 2),
        defaultAddress: c.address,
      });
      expect(Object.keys(customer.billingProfile.defaultAddress).sort()).toEqual(
        Object.keys(c.address).sort(),
      );
      expect(customer.companyProfile.organizationRegistrationNumber).toBe(c.registrationNumber);
      expect(await billingRow(customer.id)).toMatchObject({
        culture: c.culture,
        address_country: iso2,
        address_city: c.address.city ?? null,
        address_state: c.address.state ?? null,
        address_postal_code: c.address.postalCode,
        address_phone_number: c.address.phoneNumber ?? null,
      });

      const changed = { ...c.address, addressLine2: 'Building 2', firstName: 'Grace' };
      const put = await request(t.server)
        .put(`/v1/customers/${customer.id}/profiles/billing`)
        .set(bearer(tenant))
        .set('If-Match', `"${customer.billingProfile.attributes.etag}"`)
        .send(billingProfile(c, c.culture, changed))
        .expect(200);
      expect(put.body).toEqual({
        id: customer.billingProfile.id,
        ...billingProfile(c, c.culture, changed),
        links: {
          self: { uri: `/customers/${customer.id}/profiles/billing`, method: 'GET', headers: [] },
        },
        attributes: { etag: expect.any(String), objectType: 'CustomerBillingProfile' },
      });
      expect(put.body.attributes.etag).not.toBe(customer.billingProfile.attributes.etag);
      expect(await billingRow(customer.id)).toMatchObject({
        address_line2: 'Building 2',
        address_first_name: 'Grace',
        address_postal_code: c.address.postalCode,
        etag: put.body.attributes.etag,
      });

      const validation = await validate(tenant, c.address).expect(200);
      expect(validation.body).toEqual({
        originalAddress: c.address,
        suggestedAddresses: [],
        status: 'Verified',
      });
    });

    it.each(invalidCases(c).map((invalid) => [invalid.name, invalid] as const))(
      'rejects %s on create and on PUT, nothing stored, and does not verify it',
      async (_name, invalid) => {
        const tenant = newTenant();
        const existing = await createCustomer(t.server, tenant, {
          billingProfile: billingProfile(c),
          companyProfile: c.registrationNumber
            ? { organizationRegistrationNumber: c.registrationNumber }
            : {},
        });
        const before = await billingRow(existing.id);

        const billing = billingProfile(c, invalid.culture, invalid.address);
        const body = createBody(
          c,
          billing,
          invalid.registrationNumber === undefined
            ? (c.registrationNumber ?? null)
            : invalid.registrationNumber,
        );
        const created = await request(t.server)
          .post('/v1/customers')
          .set(bearer(tenant))
          .send(body)
          .expect(400);
        expect(created.body).toEqual(invalidInputBody([invalid.problem(ON_CREATE)]));
        const sql = 'SELECT COUNT(*) AS n FROM customers WHERE partner_tenant_id = ?';
        expect(await count(sql, [tenant])).toBe(1);
        expect(
          await count('SELECT COUNT(*) AS n FROM customers WHERE domain = ?', [
            body.companyProfile.domain,
          ]),
        ).toBe(0);

        if (invalid.registrationNumber !== undefined) return;
        // With the current etag, so that only the validation can stop the PUT.
        const put = await request(t.server)
          .put(`/v1/customers/${existing.id}/profiles/billing`)
          .set(bearer(tenant))
          .set('If-Match', `"${existing.billingProfile.attributes.etag}"`)
          .send(billing)
          .expect(400);
        expect(put.body).toEqual(invalidInputBody([invalid.problem(ON_PUT)]));
        expect(await billingRow(existing.id)).toEqual(before);
        expect(
          await count('SELECT COUNT(*) AS n FROM billing_profile_changes WHERE customer_id = ?', [
            existing.id,
          ]),
        ).toBe(0);

        if (!invalid.addressOnly) return;
        const validation = await validate(tenant, invalid.address).expect(200);
        expect(validation.body).toEqual({
          // Strings are trimmed before anything else (CONTRACT 2).
          originalAddress: trimmed(invalid.address),
          suggestedAddresses: invalid.suggestion ? [invalid.suggestion] : [],
          status: 'NotValidated',
          validationMessage: invalid.problem(ON_VALIDATE),
        });
      },
    );
  });

  describe('POST /v1/customers and PUT …/profiles/billing', () => {
    it('list every country-dependent problem at once, each with its full path', async () => {
      const india = COUNTRIES.find((c) => c.iso2 === 'IN')!;
      const address = { country: 'IN', addressLine1: 'Gachibowli', postalCode: '50003' };
      const body = createBody(india, billingProfile(india, 'en-US', address), '');
      const tenant = newTenant();
      const problems = (p: Paths) => [
        `${p.billing}culture must be a culture supported in IN: en-IN, hi-IN`,
        `${p.address}city is required in IN`,
        `${p.address}state is required in IN`,
        `${p.address}postalCode must match the IN postal code format ^[1-9]\\d{5}$`,
        `${p.address}phoneNumber is required in IN`,
      ];
      const created = await request(t.server)
        .post('/v1/customers')
        .set(bearer(tenant))
        .send(body)
        .expect(400);
      expect(created.body).toEqual(
        invalidInputBody([
          ...problems(ON_CREATE),
          `companyProfile.organizationRegistrationNumber is required in IN: ${registrationFormat('IN')}`,
        ]),
      );
      const sql = 'SELECT COUNT(*) AS n FROM customers WHERE partner_tenant_id = ?';
      expect(await count(sql, [tenant])).toBe(0);

      const existing = await createCustomer(t.server, tenant);
      const put = await request(t.server)
        .put(`/v1/customers/${existing.id}/profiles/billing`)
        .set(bearer(tenant))
        .send(billingProfile(india, 'en-US', address))
        .expect(400);
      expect(put.body).toEqual(invalidInputBody(problems(ON_PUT)));
    });

    it('name the field by its camelCase path when the body is PascalCase', async () => {
      const tenant = newTenant();
      const existing = await createCustomer(t.server, tenant);
      const address = {
        Country: 'GB',
        City: 'London',
        AddressLine1: '10 Downing Street',
        PostalCode: '1234',
        PhoneNumber: null,
      };
      const profile = {
        Email: 'billing@contoso.co.uk',
        Culture: 'EN-gb',
        Language: 'en',
        CompanyName: 'Contoso UK',
        DefaultAddress: address,
        Attributes: { Etag: existing.billingProfile.attributes.etag },
      };
      const problem = (p: Paths) =>
        `${p.address}postalCode must match the GB postal code format ${findCountryRule('GB')!.postalCode!.source}`;
      const created = await request(t.server)
        .post('/v1/customers')
        .set(bearer(tenant))
        .send({
          CompanyProfile: { Domain: uniqueDomain('pascal') },
          BillingProfile: profile,
        })
        .expect(400);
      expect(created.body).toEqual(invalidInputBody([problem(ON_CREATE)]));
      const put = await request(t.server)
        .put(`/v1/customers/${existing.id}/profiles/billing`)
        .set(bearer(tenant))
        .send(profile)
        .expect(400);
      expect(put.body).toEqual(invalidInputBody([problem(ON_PUT)]));
    });

    it('read the culture in any case and store it normalised', async () => {
      const tenant = newTenant();
      const created = await createCustomer(t.server, tenant, {
        billingProfile: { culture: 'ES-us', language: 'es' },
      });
      expect(created.billingProfile.culture).toBe('es-US');
      expect(await billingRow(created.id)).toMatchObject({ culture: 'es-US' });
    });
  });

  describe('POST /v1/validations/address', () => {
    const ottawa = {
      country: 'CA',
      city: 'Ottawa',
      state: 'ON',
      addressLine1: '111 Wellington St',
      postalCode: 'K1A 0A9',
    };

    it('suggests the upper-case province and the spaced postal code for k1a0a9 / on', async () => {
      const sent = { ...ottawa, state: 'on', postalCode: 'k1a0a9' };
      const response = await validate(newTenant(), sent).expect(200);
      const provinces = findCountryRule('CA')!.states.join(', ');
      expect(response.body).toEqual({
        originalAddress: sent,
        suggestedAddresses: [ottawa],
        status: 'NotValidated',
        validationMessage: `state must be one of the state codes of CA (did you mean ON?): ${provinces}`,
      });
    });

    it('verifies K1A0A9 and still suggests the written form K1A 0A9', async () => {
      const sent = { ...ottawa, postalCode: 'K1A0A9' };
      const response = await validate(newTenant(), sent).expect(200);
      expect(response.body).toEqual({
        originalAddress: sent,
        suggestedAddresses: [ottawa],
        status: 'Verified',
      });
    });

    it('suggests SW1A 1AA for sw1a1aa and 1234 AB for 1234ab', async () => {
      const london = {
        country: 'GB',
        city: 'London',
        addressLine1: 'Buckingham Palace',
        postalCode: 'sw1a1aa',
      };
      const british = await validate(newTenant(), london).expect(200);
      expect(british.body).toEqual({
        originalAddress: london,
        suggestedAddresses: [{ ...london, postalCode: 'SW1A 1AA' }],
        status: 'Verified',
      });
      const amsterdam = {
        country: 'NL',
        city: 'Amsterdam',
        addressLine1: 'Damrak 1',
        postalCode: '1234ab',
      };
      const dutch = await validate(newTenant(), amsterdam).expect(200);
      expect(dutch.body).toEqual({
        originalAddress: amsterdam,
        suggestedAddresses: [{ ...amsterdam, postalCode: '1234 AB' }],
        status: 'Verified',
      });
    });

    it('suggests nothing when no mechanical fix makes the address valid, and names every problem', async () => {
      const sent = {
        country: 'US',
        city: 'Redmond',
        state: 'Washington',
        addressLine1: '1 Microsoft Way',
        postalCode: '9805',
      };
      const response = await validate(newTenant(), sent).expect(200);
      expect(response.body).toEqual({
        originalAddress: sent,
        suggestedAddresses: [],
        status: 'NotValidated',
        validationMessage: [
          `state must be one of the state codes of US: ${findCountryRule('US')!.states.join(', ')}`,
          'postalCode must match the US postal code format ^\\d{5}(-\\d{4})?$',
        ].join('; '),
      });
    });

    it('suggests nothing when a mechanical fix would still leave the address invalid', async () => {
      // The province can be upper-cased, but the city is still missing.
      const sent = { ...ottawa, city: undefined, state: 'on' };
      const response = await validate(newTenant(), sent).expect(200);
      const provinces = findCountryRule('CA')!.states.join(', ');
      expect(response.body).toEqual({
        originalAddress: { ...ottawa, city: undefined, state: 'on' },
        suggestedAddresses: [],
        status: 'NotValidated',
        validationMessage: `city is required in CA; state must be one of the state codes of CA (did you mean ON?): ${provinces}`,
      });
    });

    it('reads PascalCase and lower-case keys as the same fields, and trims values', async () => {
      const response = await validate(newTenant(), {
        Country: 'US',
        City: ' Redmond ',
        STATE: 'WA',
        AddressLine1: '1 Microsoft Way',
        postalcode: '98052',
        PhoneNumber: null,
      }).expect(200);
      expect(response.body).toEqual({
        originalAddress: {
          country: 'US',
          city: 'Redmond',
          state: 'WA',
          addressLine1: '1 Microsoft Way',
          postalCode: '98052',
        },
        suggestedAddresses: [],
        status: 'Verified',
      });
    });

    it('names addressLine1 and country when they are missing', async () => {
      const response = await validate(newTenant(), { city: 'Redmond', postalCode: '98052' }).expect(
        200,
      );
      expect(response.body).toMatchObject({
        originalAddress: { city: 'Redmond', postalCode: '98052' },
        suggestedAddresses: [],
        status: 'NotValidated',
      });
      const message: string = response.body.validationMessage;
      expect(message).toMatch(/(^|; )country /);
      expect(message).toMatch(/(^|; )addressLine1 /);
    });

    it('answers NotValidated for a country that is not in the table', async () => {
      const unknown = await validate(newTenant(), { ...ottawa, country: 'XX' }).expect(200);
      expect(unknown.body).toEqual({
        originalAddress: { ...ottawa, country: 'XX' },
        suggestedAddresses: [],
        status: 'NotValidated',
        validationMessage: `country XX is not supported; supported countries: ${SUPPORTED_COUNTRIES.join(', ')}`,
      });
    });

    it('answers 400 / 800002 naming the field for values that are not strings', async () => {
      const valid = COUNTRIES[0].address;
      for (const [field, value] of [
        ['postalCode', 98052],
        ['city', ['Redmond']],
        ['state', { code: 'WA' }],
        ['country', true],
        ['addressLine1', 1],
      ] as const) {
        const response = await validate(newTenant(), { ...valid, [field]: value }).expect(400);
        expect(response.body).toEqual(errorBody(800002));
        expect(response.body.data).toContain(`${field} must be a string`);
        expect(response.body.description).toMatch(new RegExp(`^${field} `));
      }
    });

    it('answers 400 for a body that is not an object, and 401 without a token', async () => {
      const array = await validate(newTenant(), [COUNTRIES[0].address]).expect(400);
      expect(array.body).toEqual(invalidInputBody(['The request body must be a JSON object']));
      const anonymous = await request(t.server)
        .post('/v1/validations/address')
        .send(COUNTRIES[0].address)
        .expect(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(anonymous.body).toEqual(errorBody(800001));
    });
  });

  describe('GET /v1/countryvalidationrules/{iso2}', () => {
    const rules = (tenant: string, code: string) =>
      request(t.server).get(`/v1/countryvalidationrules/${code}`).set(bearer(tenant));

    it('answers the US rules, also for lower-case us', async () => {
      const tenant = newTenant();
      for (const code of ['US', 'us']) {
        const response = await rules(tenant, code).expect(200);
        expect(response.body).toEqual({
          iso2Code: 'US',
          defaultCulture: 'en-US',
          isStateRequired: true,
          supportedStatesList: expect.arrayContaining([
            ...US_STATES,
            'DC',
            'AS',
            'GU',
            'MP',
            'PR',
            'VI',
          ]),
          supportedLanguagesList: ['en', 'es'],
          supportedCulturesList: ['en-US', 'es-US'],
          isPostalCodeRequired: true,
          postalCodeRegex: '^\\d{5}(-\\d{4})?$',
          isCityRequired: true,
          phoneNumberRegex: expect.any(String),
          isPhoneNumberRequired: false,
          organizationRegistrationNumberRule: 'optional',
          attributes: { objectType: 'CountryValidationRules' },
        });
        const states: string[] = response.body.supportedStatesList;
        expect(new Set(states).size).toBe(states.length);
        for (const state of states) expect(state).toMatch(/^[A-Z]{2}$/);
        expect(new RegExp(response.body.phoneNumberRegex).test('+1 425 555 0100')).toBe(true);
      }
    });

    it('answers 404 / 1000 for UK and XX', async () => {
      const tenant = newTenant();
      for (const code of ['UK', 'XX', 'xx']) {
        const response = await rules(tenant, code).expect(404);
        expect(response.body).toEqual(errorBody(1000));
        expect(response.body.description).toContain(code.toUpperCase());
      }
    });

    it('answers 400 / 800002 for codes that are not two letters', async () => {
      const tenant = newTenant();
      for (const code of ['USA', '1', 'U1']) {
        const response = await rules(tenant, code).expect(400);
        expect(response.body).toEqual(
          invalidInputBody(['countryCode must be an ISO 3166-1 alpha-2 code']),
        );
      }
    });

    it('answers 401 without a token', async () => {
      const response = await request(t.server).get('/v1/countryvalidationrules/US').expect(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(response.body).toEqual(errorBody(800001));
    });

    it('answers every country of the table with rules that agree with the service', async () => {
      const tenant = newTenant();
      for (const c of COUNTRIES) {
        const response = await rules(tenant, c.iso2.toLowerCase()).expect(200);
        const body = response.body;
        expect(body).toMatchObject({
          iso2Code: c.iso2,
          isStateRequired: c.address.state !== undefined,
          isCityRequired: c.address.city !== undefined,
          isPhoneNumberRequired: c.address.phoneNumber !== undefined,
          organizationRegistrationNumberRule: c.registrationNumber ? 'required' : 'optional',
          attributes: { objectType: 'CountryValidationRules' },
        });
        expect(body.supportedCulturesList).toContain(c.culture);
        expect(body.supportedCulturesList[0]).toBe(body.defaultCulture);
        expect(body.supportedLanguagesList).toContain(c.culture.slice(0, 2));
        if (c.address.state) expect(body.supportedStatesList).toContain(c.address.state);
        // The published pattern answers like the service does.
        const postal = new RegExp(body.postalCodeRegex);
        expect([c.iso2, postal.test(c.address.postalCode)]).toEqual([c.iso2, true]);
        expect([c.iso2, postal.test(c.badPostalCode)]).toEqual([c.iso2, false]);
        if (c.address.phoneNumber) {
          expect(new RegExp(body.phoneNumberRegex).test(c.address.phoneNumber)).toBe(true);
        }
        if (c.registrationNumber) {
          const registration = new RegExp(body.organizationRegistrationNumberRegex);
          expect(registration.test(c.registrationNumber)).toBe(true);
        }
      }
    });
  });
});
