import {
  addressProblems,
  cultureProblems,
  normaliseCulture,
  registrationNumberProblems,
  suggestAddress,
} from './address-rules';
import { COUNTRY_RULES, CountryRule, findCountryRule, SUPPORTED_COUNTRIES } from './country-rules';

// No country of the table forbids a registration number today; `ZZ` stands in for one that does,
// so that the "forbidden" branch is covered. Every other code reads the real table.
jest.mock('./country-rules', () => {
  const actual = jest.requireActual<typeof import('./country-rules')>('./country-rules');
  const forbidding: CountryRule = {
    ...actual.findCountryRule('DE')!,
    iso2: 'ZZ',
    name: 'Forbidding',
    registrationNumber: { use: 'forbidden' },
  };
  return {
    ...actual,
    findCountryRule: (iso2: unknown) =>
      typeof iso2 === 'string' && iso2.trim().toUpperCase() === 'ZZ'
        ? forbidding
        : actual.findCountryRule(iso2),
  };
});

const US_STATE_LIST = findCountryRule('US')!.states.join(', ');
const US_POSTAL = '^\\d{5}(-\\d{4})?$';
const CA_POSTAL = '^[A-Za-z]\\d[A-Za-z] ?\\d[A-Za-z]\\d$';

const redmond = {
  country: 'US',
  city: 'Redmond',
  state: 'WA',
  addressLine1: '1 Microsoft Way',
  postalCode: '98052',
};

/**
 * Per country: postal codes the country's postal service uses (the first in its canonical
 * written form) and obvious wrong ones.
 */
const POSTAL_SAMPLES: Record<string, { valid: string[]; invalid: string[] }> = {
  US: { valid: ['98052', '98052-6399', '20500'], invalid: ['9805', '98052-63', 'ABCDE', '980521'] },
  CA: {
    valid: ['K1A 0A9', 'K1A0A9', 'k1a 0a9', 'M5V 3L9'],
    invalid: ['12345', 'K1A 0A', 'KK1 0A9'],
  },
  GB: {
    valid: ['SW1A 1AA', 'SW1A1AA', 'EC1A 1BB', 'M1 1AE', 'B33 8TH', 'CR2 6XH', 'GIR 0AA'],
    invalid: ['12345', 'SW1A 1A', 'SW1A-1AA', '1SW 1AA'],
  },
  IE: {
    valid: ['D18 P521', 'D18P521', 'D6W 1H70', 'A65 F4E2'],
    invalid: ['12345', 'D18 P52', 'DD8 P521'],
  },
  DE: { valid: ['80807', '01067'], invalid: ['8080', '808070', 'D-80807'] },
  FR: { valid: ['92130', '75008', '20000'], invalid: ['9213', '2A004', '920130'] },
  ES: { valid: ['28223', '08001', '52001'], invalid: ['53001', '00123', '2822'] },
  IT: { valid: ['20154', '00118'], invalid: ['2015', '201540'] },
  NL: {
    valid: ['1118 CZ', '1118CZ', '1012 jS'],
    invalid: ['0118 CZ', '1118', '1118 C', '1118 C1'],
  },
  BE: { valid: ['1000', '9000'], invalid: ['0100', '10000', 'B-1000'] },
  AT: { valid: ['1010', '6020'], invalid: ['0101', '10100'] },
  CH: { valid: ['8001', '1201'], invalid: ['0800', '80010', 'CH-8001'] },
  SE: { valid: ['111 57', '11157'], invalid: ['011 57', '1115', '111-57'] },
  NO: { valid: ['0037', '9170'], invalid: ['037', '00370'] },
  DK: { valid: ['1550', '8000'], invalid: ['155', 'DK-1550'] },
  FI: { valid: ['00170', '33100'], invalid: ['0017', '001700'] },
  PL: { valid: ['00-901', '31-005'], invalid: ['00901', '00 901', '0-0901'] },
  PT: { valid: ['1100-148', '4000-322'], invalid: ['1100148', '1100', '1100-14'] },
  CZ: { valid: ['110 00', '11000'], invalid: ['1100', '110-00'] },
  AU: { valid: ['2000', '0800'], invalid: ['200', '20000'] },
  NZ: { valid: ['6011', '1010'], invalid: ['601', '60110'] },
  JP: { valid: ['108-0075', '1080075', '100-0001'], invalid: ['108-007', '108 0075', '10800755'] },
  IN: { valid: ['500032', '110001'], invalid: ['050032', '50003', '500 032'] },
  BR: { valid: ['04543-907', '04543907'], invalid: ['4543-907', '04543-90'] },
  MX: { valid: ['01210', '64000'], invalid: ['1210', '012100'] },
  ZA: { valid: ['2191', '0001'], invalid: ['219', '21910'] },
  SG: { valid: ['069547', '018989'], invalid: ['69547', '0695477'] },
};

describe('addressProblems', () => {
  it('finds nothing wrong with a complete, valid address', () => {
    expect(addressProblems(redmond, '')).toEqual([]);
    expect(addressProblems(redmond, 'billingProfile.defaultAddress')).toEqual([]);
  });

  it('stays silent when there is no address or its country is not a string (the DTO reports those)', () => {
    expect(addressProblems(undefined, 'defaultAddress')).toEqual([]);
    expect(addressProblems({ ...redmond, country: undefined }, '')).toEqual([]);
    expect(addressProblems({ ...redmond, country: 1 }, '')).toEqual([]);
    expect(addressProblems({ ...redmond, country: null }, '')).toEqual([]);
  });

  it('leaves a country code of the wrong shape to the DTO', () => {
    expect(addressProblems({ ...redmond, country: 'USA' }, '')).toEqual([]);
    expect(addressProblems({ ...redmond, country: '1' }, '')).toEqual([]);
  });

  it('rejects UK, naming GB, and nothing else about that address', () => {
    expect(addressProblems({ country: 'UK', addressLine1: '10 Downing St' }, '')).toEqual([
      'country UK is not an ISO 3166-1 code: use GB',
    ]);
    expect(addressProblems({ country: ' uk ', addressLine1: 'x' }, 'defaultAddress')).toEqual([
      'defaultAddress.country UK is not an ISO 3166-1 code: use GB',
    ]);
  });

  it('rejects a well-formed code that is not in the table, listing the supported ones', () => {
    expect(addressProblems({ ...redmond, country: 'xx' }, 'billingProfile.defaultAddress')).toEqual(
      [
        `billingProfile.defaultAddress.country XX is not supported; supported countries: ${SUPPORTED_COUNTRIES.join(', ')}`,
      ],
    );
  });

  it('reads the country code in any case and with white space around it', () => {
    expect(addressProblems({ ...redmond, country: ' us ' }, '')).toEqual([]);
  });

  it('requires the city where the country does, treating null and blanks as missing', () => {
    for (const city of [undefined, null, '', '   ']) {
      expect(addressProblems({ ...redmond, city }, '')).toEqual(['city is required in US']);
      expect(addressProblems({ ...redmond, city }, 'defaultAddress')).toEqual([
        'defaultAddress.city is required in US',
      ]);
    }
  });

  it('does not require a city in Singapore', () => {
    const singapore = { country: 'SG', addressLine1: '182 Cecil Street', postalCode: '069547' };
    expect(addressProblems(singapore, '')).toEqual([]);
  });

  it('requires the state where the country does', () => {
    for (const state of [undefined, null, ' ']) {
      expect(addressProblems({ ...redmond, state }, 'billingProfile.defaultAddress')).toEqual([
        'billingProfile.defaultAddress.state is required in US',
      ]);
    }
  });

  it('accepts a missing or free-text state where the country has no list', () => {
    const london = {
      country: 'GB',
      city: 'London',
      addressLine1: '10 Downing St',
      postalCode: 'SW1A 2AA',
    };
    expect(addressProblems(london, '')).toEqual([]);
    expect(addressProblems({ ...london, state: 'Greater London' }, '')).toEqual([]);
  });

  it('rejects an unknown state code, listing the codes', () => {
    expect(addressProblems({ ...redmond, state: 'ZZ' }, '')).toEqual([
      `state must be one of the state codes of US: ${US_STATE_LIST}`,
    ]);
    expect(addressProblems({ ...redmond, state: 'Washington' }, 'defaultAddress')).toEqual([
      `defaultAddress.state must be one of the state codes of US: ${US_STATE_LIST}`,
    ]);
  });

  it('rejects a lower-case state code with a hint at the upper-case one', () => {
    expect(addressProblems({ ...redmond, state: 'wa' }, '')).toEqual([
      `state must be one of the state codes of US (did you mean WA?): ${US_STATE_LIST}`,
    ]);
  });

  it('accepts a known state code with white space around it', () => {
    expect(addressProblems({ ...redmond, state: ' WA ' }, '')).toEqual([]);
  });

  it('requires the postal code where the country does, and not in Ireland', () => {
    expect(addressProblems({ ...redmond, postalCode: '' }, 'defaultAddress')).toEqual([
      'defaultAddress.postalCode is required in US',
    ]);
    const dublin = { country: 'IE', city: 'Dublin', addressLine1: 'One Microsoft Place' };
    expect(addressProblems(dublin, '')).toEqual([]);
    expect(addressProblems({ ...dublin, postalCode: '12345' }, '')).toEqual([
      `postalCode must match the IE postal code format ${findCountryRule('IE')!.postalCode!.source}`,
    ]);
  });

  it('rejects a postal code of the wrong format, naming the pattern', () => {
    expect(addressProblems({ ...redmond, postalCode: '9805' }, '')).toEqual([
      `postalCode must match the US postal code format ${US_POSTAL}`,
    ]);
    expect(
      addressProblems(
        { country: 'CA', city: 'Ottawa', state: 'ON', addressLine1: 'x', postalCode: '12345' },
        'billingProfile.defaultAddress',
      ),
    ).toEqual([
      `billingProfile.defaultAddress.postalCode must match the CA postal code format ${CA_POSTAL}`,
    ]);
  });

  it('hints at the written form when formatting would fix the postal code', () => {
    const warsaw = {
      country: 'PL',
      city: 'Warszawa',
      addressLine1: 'Plac Defilad 1',
      phoneNumber: '+48 22 656 76 00',
    };
    expect(addressProblems({ ...warsaw, postalCode: '00901' }, '')).toEqual([
      'postalCode must match the PL postal code format ^\\d{2}-\\d{3}$ (did you mean 00-901?)',
    ]);
    expect(addressProblems({ ...warsaw, postalCode: '00 901' }, '')).toEqual([
      'postalCode must match the PL postal code format ^\\d{2}-\\d{3}$ (did you mean 00-901?)',
    ]);
  });

  it('accepts a postal code with white space around it', () => {
    expect(addressProblems({ ...redmond, postalCode: ' 98052 ' }, '')).toEqual([]);
  });

  it('requires a phone number in IN, BR, ZA and PL, and nowhere else', () => {
    const phoneRequired = COUNTRY_RULES.filter((rule) => rule.isPhoneRequired).map(
      (rule) => rule.iso2,
    );
    expect(phoneRequired.sort()).toEqual(['BR', 'IN', 'PL', 'ZA']);
    const johannesburg = {
      country: 'ZA',
      city: 'Johannesburg',
      addressLine1: '3012 William Nicol Drive',
      postalCode: '2191',
    };
    expect(addressProblems(johannesburg, 'defaultAddress')).toEqual([
      'defaultAddress.phoneNumber is required in ZA',
    ]);
    expect(addressProblems({ ...johannesburg, phoneNumber: '  ' }, '')).toEqual([
      'phoneNumber is required in ZA',
    ]);
    expect(addressProblems({ ...johannesburg, phoneNumber: '+27 11 361 4000' }, '')).toEqual([]);
  });

  it('checks the format of a phone number wherever one is given', () => {
    const message = 'must be a phone number of 6 to 20 digits (spaces, + ( ) . - allowed)';
    for (const phoneNumber of ['call me', '12345', '+1 425 555 0100 ext 5', '1'.repeat(21)]) {
      expect(addressProblems({ ...redmond, phoneNumber }, '')).toEqual([`phoneNumber ${message}`]);
    }
    expect(addressProblems({ ...redmond, phoneNumber: 'x' }, 'a.b')).toEqual([
      `a.b.phoneNumber ${message}`,
    ]);
    for (const phoneNumber of ['+1 (425) 555-0100', '425.555.0100', '123456', '1'.repeat(20)]) {
      expect(addressProblems({ ...redmond, phoneNumber }, '')).toEqual([]);
    }
  });

  it('stays silent about values of the wrong type (the DTO reports them once)', () => {
    expect(
      addressProblems({ ...redmond, city: 1, state: 2, postalCode: 98052, phoneNumber: 3 }, ''),
    ).toEqual([]);
    expect(
      addressProblems(
        {
          country: 'IN',
          city: [],
          state: {},
          postalCode: true,
          phoneNumber: 91,
          addressLine1: 'x',
        },
        '',
      ),
    ).toEqual([]);
  });

  it('lists every problem of the address, each with its full path', () => {
    expect(
      addressProblems(
        { country: 'BR', addressLine1: 'Av. Paulista 1000', state: 'XX', postalCode: '1310-100' },
        'billingProfile.defaultAddress',
      ),
    ).toEqual([
      'billingProfile.defaultAddress.city is required in BR',
      `billingProfile.defaultAddress.state must be one of the state codes of BR: ${findCountryRule('BR')!.states.join(', ')}`,
      'billingProfile.defaultAddress.postalCode must match the BR postal code format ^\\d{5}-?\\d{3}$',
      'billingProfile.defaultAddress.phoneNumber is required in BR',
    ]);
  });
});

describe('normaliseCulture', () => {
  it('writes the language in lower case and the region in upper case', () => {
    expect(normaliseCulture('EN-us')).toBe('en-US');
    expect(normaliseCulture('en-US')).toBe('en-US');
    expect(normaliseCulture('Fr-cA')).toBe('fr-CA');
  });

  it('trims white space', () => {
    expect(normaliseCulture('  pt-br ')).toBe('pt-BR');
  });
});

describe('cultureProblems', () => {
  it('accepts a culture supported for the country, in any case', () => {
    expect(cultureProblems('en-US', 'US', '')).toEqual([]);
    expect(cultureProblems('es-us', 'us', 'billingProfile')).toEqual([]);
    expect(cultureProblems(' FR-ca ', 'CA', '')).toEqual([]);
  });

  it('rejects a culture of another country, listing the supported ones, at the top or nested', () => {
    expect(cultureProblems('en-GB', 'US', '')).toEqual([
      'culture must be a culture supported in US: en-US, es-US',
    ]);
    expect(cultureProblems('fr-FR', 'CA', 'billingProfile')).toEqual([
      'billingProfile.culture must be a culture supported in CA: en-CA, fr-CA',
    ]);
  });

  it('stays silent when the culture is not a string or not shaped ll-CC (the DTO reports those)', () => {
    for (const culture of [undefined, null, 1, ['en-US'], 'english', 'en', 'en_US', 'en-USA']) {
      expect(cultureProblems(culture, 'US', '')).toEqual([]);
    }
  });

  it('stays silent when the country is unknown or not a string (the address reports it)', () => {
    for (const country of [undefined, null, 1, 'XX', 'UK', 'USA']) {
      expect(cultureProblems('ja-JP', country, '')).toEqual([]);
    }
  });

  it('accepts every culture of every country, and the default culture first', () => {
    for (const rule of COUNTRY_RULES) {
      for (const culture of rule.cultures) {
        expect(cultureProblems(culture, rule.iso2, '')).toEqual([]);
        expect(cultureProblems(culture.toUpperCase(), rule.iso2.toLowerCase(), '')).toEqual([]);
      }
    }
  });
});

describe('registrationNumberProblems', () => {
  const field = 'companyProfile.organizationRegistrationNumber';

  it('requires a number in IN, BR, ZA and PL, naming the accepted format', () => {
    expect(registrationNumberProblems(undefined, 'ZA', 'companyProfile')).toEqual([
      `${field} is required in ZA: a CIPC registration number (YYYY/NNNNNN/NN)`,
    ]);
    expect(registrationNumberProblems('  ', 'pl', '')).toEqual([
      'organizationRegistrationNumber is required in PL: a NIP of ten digits (1234567890 or 123-456-78-90)',
    ]);
    const required = COUNTRY_RULES.filter((rule) => rule.registrationNumber.use === 'required');
    expect(required.map((rule) => rule.iso2).sort()).toEqual(['BR', 'IN', 'PL', 'ZA']);
  });

  it('rejects a number of the wrong format', () => {
    expect(registrationNumberProblems('12345', 'BR', 'companyProfile')).toEqual([
      `${field} must be a CNPJ of 14 digits (12345678000195 or 12.345.678/0001-95)`,
    ]);
    expect(registrationNumberProblems('ABCDE1234', 'IN', '')).toEqual([
      'organizationRegistrationNumber must be a CIN (21 characters), GSTIN (15 characters) or PAN (10 characters)',
    ]);
  });

  it('accepts the formats the countries use', () => {
    const valid: [string, string][] = [
      ['PL', '5260250274'],
      ['PL', '526-025-02-74'],
      ['PL', '526-02-50-274'],
      ['BR', '60316817000103'],
      ['BR', '60.316.817/0001-03'],
      ['ZA', '2001/012345/07'],
      ['IN', 'U72200TG1998PTC029887'],
      ['IN', '36AAACM5586C1Z5'],
      ['IN', 'AAACM5586C'],
      ['IN', ' aaacm5586c '],
    ];
    for (const [country, number] of valid) {
      expect(registrationNumberProblems(number, country, 'companyProfile')).toEqual([]);
    }
  });

  it('accepts anything, or nothing, where the number is optional', () => {
    for (const value of [undefined, '', 'HRB 12345', 'anything']) {
      expect(registrationNumberProblems(value, 'DE', 'companyProfile')).toEqual([]);
    }
  });

  it('rejects a number where the country forbids one, and accepts none', () => {
    expect(registrationNumberProblems('123', 'ZZ', 'companyProfile')).toEqual([
      `${field} must not be given for customers in ZZ`,
    ]);
    expect(registrationNumberProblems(undefined, 'ZZ', 'companyProfile')).toEqual([]);
    expect(registrationNumberProblems(' ', 'ZZ', '')).toEqual([]);
  });

  it('stays silent when the country is unknown, and about a value that is not a string', () => {
    expect(registrationNumberProblems(undefined, 'UK', 'companyProfile')).toEqual([]);
    expect(registrationNumberProblems(undefined, 42, 'companyProfile')).toEqual([]);
    expect(registrationNumberProblems(5260250274, 'PL', 'companyProfile')).toEqual([]);
  });
});

describe('suggestAddress', () => {
  it('upper-cases a Canadian province and writes the postal code with its space', () => {
    const address = {
      country: 'ca',
      city: 'Ottawa',
      state: 'on',
      addressLine1: '111 Wellington St',
      postalCode: 'k1a0a9',
    };
    expect(suggestAddress(address)).toEqual({
      country: 'CA',
      city: 'Ottawa',
      state: 'ON',
      addressLine1: '111 Wellington St',
      postalCode: 'K1A 0A9',
    });
  });

  it('does not change its argument', () => {
    const address = { country: 'ca', state: 'on', addressLine1: ' x ', postalCode: 'k1a0a9' };
    const copy = { ...address };
    suggestAddress(address);
    expect(address).toEqual(copy);
  });

  it('trims and collapses white space in every string value', () => {
    expect(
      suggestAddress({ ...redmond, addressLine1: '  1   Microsoft\tWay ', city: ' Redmond ' }),
    ).toEqual(redmond);
  });

  it('replaces UK with GB and writes a British postcode the British way', () => {
    expect(
      suggestAddress({
        country: 'uk',
        city: 'London',
        addressLine1: '10 Downing St',
        postalCode: 'sw1a2aa',
      }),
    ).toEqual({
      country: 'GB',
      city: 'London',
      addressLine1: '10 Downing St',
      postalCode: 'SW1A 2AA',
    });
  });

  it('writes Dutch, Swedish, Polish, Portuguese, Japanese and Brazilian postal codes in their own form', () => {
    const cases: [string, string, string][] = [
      ['NL', '1234ab', '1234 AB'],
      ['SE', '11157', '111 57'],
      ['CZ', '11000', '110 00'],
      ['PL', '00 901', '00-901'],
      ['PT', '1100148', '1100-148'],
      ['JP', '1080075', '108-0075'],
      ['BR', '04543907', '04543-907'],
      ['IE', 'd18p521', 'D18 P521'],
      ['GB', 'gir0aa', 'GIR 0AA'],
    ];
    for (const [country, postalCode, written] of cases) {
      expect(suggestAddress({ country, postalCode }).postalCode).toBe(written);
    }
  });

  it('upper-cases a postal code where the country has no written form of its own', () => {
    expect(suggestAddress({ country: 'US', postalCode: ' 98052 ' }).postalCode).toBe('98052');
  });

  it('leaves a postal code that no mechanical fix makes valid as it was (trimmed)', () => {
    expect(suggestAddress({ ...redmond, postalCode: ' 9805 ' }).postalCode).toBe('9805');
    expect(suggestAddress({ country: 'CA', postalCode: 'k1a-0a9' }).postalCode).toBe('k1a-0a9');
  });

  it('leaves an unknown state as it was, and upper-cases only a known one', () => {
    expect(suggestAddress({ ...redmond, state: 'zz' }).state).toBe('zz');
    expect(suggestAddress({ ...redmond, state: 'Washington' }).state).toBe('Washington');
    expect(suggestAddress({ ...redmond, state: 'wa' }).state).toBe('WA');
    expect(suggestAddress({ country: 'MX', state: 'cmx' }).state).toBe('CMX');
  });

  it('only trims and upper-cases the code of a country that is not in the table', () => {
    expect(suggestAddress({ country: ' xx ', state: 'on', postalCode: 'k1a0a9' })).toEqual({
      country: 'XX',
      state: 'on',
      postalCode: 'k1a0a9',
    });
  });

  it('leaves values that are not strings, and a country that is not one, as they were', () => {
    expect(suggestAddress({ country: 1, state: 'wa', postalCode: 'k1a0a9' })).toEqual({
      country: 1,
      state: 'wa',
      postalCode: 'k1a0a9',
    });
    expect(suggestAddress({ ...redmond, state: 7, postalCode: 98052, phoneNumber: null })).toEqual({
      ...redmond,
      state: 7,
      postalCode: 98052,
      phoneNumber: null,
    });
  });

  it('suggests a valid address unchanged', () => {
    expect(suggestAddress(redmond)).toEqual(redmond);
  });
});

describe('the country table', () => {
  it('has every country the contract lists, each once, keyed by upper-case ISO alpha-2 codes', () => {
    const contract =
      'US CA GB IE DE FR ES IT NL BE AT CH SE NO DK FI PL PT CZ AU NZ JP IN BR MX ZA SG';
    expect([...SUPPORTED_COUNTRIES].sort()).toEqual(contract.split(' ').sort());
    expect(findCountryRule('UK')).toBeUndefined();
    expect(findCountryRule(' gb ')?.iso2).toBe('GB');
    expect(findCountryRule(undefined)).toBeUndefined();
  });

  it.each(COUNTRY_RULES.map((rule) => [rule.iso2, rule] as const))(
    '%s: cultures of the country, languages from them, unique upper-case states',
    (iso2, rule) => {
      expect(rule.cultures.length).toBeGreaterThan(0);
      for (const culture of rule.cultures) {
        expect(culture).toMatch(new RegExp(`^[a-z]{2}-${iso2}$`));
      }
      expect([...rule.languages].sort()).toEqual(
        [...new Set(rule.cultures.map((culture) => culture.slice(0, 2)))].sort(),
      );
      expect(new Set(rule.states).size).toBe(rule.states.length);
      for (const state of rule.states) expect(state).toMatch(/^[A-Z]{2,3}$/);
      expect(rule.isStateRequired).toBe(rule.states.length > 0);
    },
  );

  it('has a postal sample for every country that has a postal-code pattern', () => {
    const withPattern = COUNTRY_RULES.filter((rule) => rule.postalCode).map((rule) => rule.iso2);
    expect(Object.keys(POSTAL_SAMPLES).sort()).toEqual([...withPattern].sort());
  });

  it.each(Object.entries(POSTAL_SAMPLES))(
    '%s: the postal pattern accepts real codes and rejects wrong ones',
    (iso2, samples) => {
      const pattern = findCountryRule(iso2)!.postalCode!;
      for (const code of samples.valid) expect([code, pattern.test(code)]).toEqual([code, true]);
      for (const code of samples.invalid) expect([code, pattern.test(code)]).toEqual([code, false]);
    },
  );

  it.each(
    COUNTRY_RULES.filter((rule) => rule.formatPostalCode).map((rule) => [rule.iso2, rule] as const),
  )('%s: the written form of every valid code matches the pattern and is stable', (iso2, rule) => {
    const format = rule.formatPostalCode!;
    const pattern = rule.postalCode!;
    const canonical = POSTAL_SAMPLES[iso2].valid[0];
    expect(format(canonical)).toBe(canonical);
    for (const code of POSTAL_SAMPLES[iso2].valid) {
      for (const variant of [code, code.toLowerCase(), code.replace(/[\s-]/g, ''), ` ${code} `]) {
        const written = format(variant);
        expect([variant, written, pattern.test(written)]).toEqual([variant, written, true]);
        expect(format(written)).toBe(written);
      }
    }
  });

  it('publishes the US rule of the contract', () => {
    const us = findCountryRule('US')!;
    expect(us.postalCode!.source).toBe(US_POSTAL);
    expect(us.cultures).toEqual(['en-US', 'es-US']);
    expect(us.isStateRequired).toBe(true);
    expect(us.states).toHaveLength(60);
  });
});
