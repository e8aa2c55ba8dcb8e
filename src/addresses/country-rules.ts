/**
 * The per-country address table (CONTRACT 10): one row per supported country, kept as data so that
 * create, PUT, `GET /v1/countryvalidationrules/{iso2}` and `POST /v1/validations/address` all read
 * the same facts. Codes are ISO 3166-1 alpha-2 (countries) and ISO 3166-2 subdivision suffixes
 * (states); postal patterns follow each country's postal service.
 */

/** Whether a customer in this country must, may or must not give an organization registration number. */
export type RegistrationNumberRule =
  { use: 'required'; pattern: RegExp; format: string } | { use: 'optional' } | { use: 'forbidden' };

export interface CountryRule {
  iso2: string;
  name: string;
  /** The first supported culture is the default. */
  cultures: readonly string[];
  languages: readonly string[];
  isCityRequired: boolean;
  isStateRequired: boolean;
  /** Upper-case codes; empty where the state is free text. */
  states: readonly string[];
  isPostalCodeRequired: boolean;
  /** Anchored; matched against the trimmed value. */
  postalCode?: RegExp;
  /** How a well-formed postal code is written, for suggestions (`K1A0B1` → `K1A 0B1`). */
  formatPostalCode?: (postalCode: string) => string;
  isPhoneRequired: boolean;
  phoneNumber: RegExp;
  registrationNumber: RegistrationNumberRule;
}

/** International or national notation: digits with spaces, dots, dashes, parentheses; 6–20 digits. */
const PHONE = /^(?=(?:\D*\d){6,20}\D*$)\+?[\d\s().-]+$/;

const OPTIONAL: RegistrationNumberRule = { use: 'optional' };

const US_STATES = [
  'AL', 'AK', 'AZ', 'AR', 'CA', 'CO', 'CT', 'DE', 'FL', 'GA', 'HI', 'ID', 'IL', 'IN', 'IA', 'KS',
  'KY', 'LA', 'ME', 'MD', 'MA', 'MI', 'MN', 'MS', 'MO', 'MT', 'NE', 'NV', 'NH', 'NJ', 'NM', 'NY',
  'NC', 'ND', 'OH', 'OK', 'OR', 'PA', 'RI', 'SC', 'SD', 'TN', 'TX', 'UT', 'VT', 'VA', 'WA', 'WV',
  'WI', 'WY',
  // District of Columbia, the inhabited territories, the minor outlying islands, military mail.
  'DC', 'AS', 'GU', 'MP', 'PR', 'VI', 'UM', 'AA', 'AE', 'AP',
]; // prettier-ignore

const CA_PROVINCES = ['AB', 'BC', 'MB', 'NB', 'NL', 'NS', 'NT', 'NU', 'ON', 'PE', 'QC', 'SK', 'YT'];

const AU_STATES = ['ACT', 'NSW', 'NT', 'QLD', 'SA', 'TAS', 'VIC', 'WA'];

// States and union territories; renamed codes are accepted in both spellings (CT/CG, OR/OD, TG/TS, UT/UK).
const IN_STATES = [
  'AN', 'AP', 'AR', 'AS', 'BR', 'CH', 'CT', 'CG', 'DH', 'DN', 'DD', 'DL', 'GA', 'GJ', 'HP', 'HR',
  'JH', 'JK', 'KA', 'KL', 'LA', 'LD', 'MH', 'ML', 'MN', 'MP', 'MZ', 'NL', 'OR', 'OD', 'PB', 'PY',
  'RJ', 'SK', 'TN', 'TG', 'TS', 'TR', 'UP', 'UT', 'UK', 'WB',
]; // prettier-ignore

const BR_STATES = [
  'AC', 'AL', 'AP', 'AM', 'BA', 'CE', 'DF', 'ES', 'GO', 'MA', 'MT', 'MS', 'MG', 'PA', 'PB', 'PR',
  'PE', 'PI', 'RJ', 'RN', 'RS', 'RO', 'RR', 'SC', 'SP', 'SE', 'TO',
]; // prettier-ignore

const MX_STATES = [
  'AGU', 'BCN', 'BCS', 'CAM', 'CHP', 'CHH', 'CMX', 'COA', 'COL', 'DUR', 'GUA', 'GRO', 'HID', 'JAL',
  'MEX', 'MIC', 'MOR', 'NAY', 'NLE', 'OAX', 'PUE', 'QUE', 'ROO', 'SLP', 'SIN', 'SON', 'TAB', 'TAM',
  'TLA', 'VER', 'YUC', 'ZAC',
]; // prettier-ignore

/** Upper-case, no inner white space, then a single space before the last `tail` characters. */
function spacedBeforeLast(tail: number) {
  return (postalCode: string) => {
    const compact = postalCode.replace(/\s+/g, '').toUpperCase();
    return `${compact.slice(0, -tail)} ${compact.slice(-tail)}`;
  };
}

/** Digits only, then `separator` before the last `tail` digits. */
function digitsSeparatedBeforeLast(tail: number, separator: string) {
  return (postalCode: string) => {
    const digits = postalCode.replace(/\D+/g, '');
    return `${digits.slice(0, -tail)}${separator}${digits.slice(-tail)}`;
  };
}

function country(
  iso2: string,
  name: string,
  rule: Partial<Omit<CountryRule, 'iso2' | 'name'>> & Pick<CountryRule, 'cultures'>,
): CountryRule {
  return {
    iso2,
    name,
    languages: [...new Set(rule.cultures.map((culture) => culture.slice(0, 2)))],
    isCityRequired: true,
    isStateRequired: false,
    states: [],
    isPostalCodeRequired: true,
    isPhoneRequired: false,
    phoneNumber: PHONE,
    registrationNumber: OPTIONAL,
    ...rule,
  };
}

export const COUNTRY_RULES: readonly CountryRule[] = [
  country('US', 'United States', {
    cultures: ['en-US', 'es-US'],
    isStateRequired: true,
    states: US_STATES,
    postalCode: /^\d{5}(-\d{4})?$/,
  }),
  country('CA', 'Canada', {
    cultures: ['en-CA', 'fr-CA'],
    isStateRequired: true,
    states: CA_PROVINCES,
    postalCode: /^[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d$/,
    formatPostalCode: spacedBeforeLast(3),
  }),
  country('GB', 'United Kingdom', {
    cultures: ['en-GB'],
    // Outward code (area, district) and inward code (sector, unit); GIR 0AA is Girobank's.
    postalCode: /^(?:[A-Za-z]{1,2}\d[A-Za-z\d]?|[Gg][Ii][Rr]) ?\d[A-Za-z]{2}$/,
    formatPostalCode: spacedBeforeLast(3),
  }),
  country('IE', 'Ireland', {
    cultures: ['en-IE'],
    // Eircodes are not used by everyone yet, so they are optional.
    isPostalCodeRequired: false,
    postalCode: /^[A-Za-z]\d[\dWw] ?[A-Za-z\d]{4}$/,
    formatPostalCode: spacedBeforeLast(4),
  }),
  country('DE', 'Germany', { cultures: ['de-DE'], postalCode: /^\d{5}$/ }),
  country('FR', 'France', { cultures: ['fr-FR'], postalCode: /^\d{5}$/ }),
  country('ES', 'Spain', {
    cultures: ['es-ES', 'ca-ES', 'eu-ES', 'gl-ES'],
    postalCode: /^(?:0[1-9]|[1-4]\d|5[0-2])\d{3}$/,
  }),
  country('IT', 'Italy', { cultures: ['it-IT'], postalCode: /^\d{5}$/ }),
  country('NL', 'Netherlands', {
    cultures: ['nl-NL'],
    postalCode: /^[1-9]\d{3} ?[A-Za-z]{2}$/,
    formatPostalCode: spacedBeforeLast(2),
  }),
  country('BE', 'Belgium', { cultures: ['nl-BE', 'fr-BE', 'de-BE'], postalCode: /^[1-9]\d{3}$/ }),
  country('AT', 'Austria', { cultures: ['de-AT'], postalCode: /^[1-9]\d{3}$/ }),
  country('CH', 'Switzerland', {
    cultures: ['de-CH', 'fr-CH', 'it-CH'],
    postalCode: /^[1-9]\d{3}$/,
  }),
  country('SE', 'Sweden', {
    cultures: ['sv-SE'],
    postalCode: /^[1-9]\d{2} ?\d{2}$/,
    formatPostalCode: digitsSeparatedBeforeLast(2, ' '),
  }),
  country('NO', 'Norway', { cultures: ['nb-NO', 'nn-NO'], postalCode: /^\d{4}$/ }),
  country('DK', 'Denmark', { cultures: ['da-DK'], postalCode: /^\d{4}$/ }),
  country('FI', 'Finland', { cultures: ['fi-FI', 'sv-FI'], postalCode: /^\d{5}$/ }),
  country('PL', 'Poland', {
    cultures: ['pl-PL'],
    postalCode: /^\d{2}-\d{3}$/,
    formatPostalCode: digitsSeparatedBeforeLast(3, '-'),
    isPhoneRequired: true,
    // NIP, the tax identification number: ten digits, often written 123-456-78-90.
    registrationNumber: {
      use: 'required',
      pattern: /^(?:\d{10}|\d{3}-\d{3}-\d{2}-\d{2}|\d{3}-\d{2}-\d{2}-\d{3})$/,
      format: 'a NIP of ten digits (1234567890 or 123-456-78-90)',
    },
  }),
  country('PT', 'Portugal', {
    cultures: ['pt-PT'],
    postalCode: /^\d{4}-\d{3}$/,
    formatPostalCode: digitsSeparatedBeforeLast(3, '-'),
  }),
  country('CZ', 'Czechia', {
    cultures: ['cs-CZ'],
    postalCode: /^\d{3} ?\d{2}$/,
    formatPostalCode: digitsSeparatedBeforeLast(2, ' '),
  }),
  country('AU', 'Australia', {
    cultures: ['en-AU'],
    isStateRequired: true,
    states: AU_STATES,
    postalCode: /^\d{4}$/,
  }),
  country('NZ', 'New Zealand', { cultures: ['en-NZ'], postalCode: /^\d{4}$/ }),
  country('JP', 'Japan', {
    cultures: ['ja-JP'],
    postalCode: /^\d{3}-?\d{4}$/,
    formatPostalCode: digitsSeparatedBeforeLast(4, '-'),
  }),
  country('IN', 'India', {
    cultures: ['en-IN', 'hi-IN'],
    isStateRequired: true,
    states: IN_STATES,
    postalCode: /^[1-9]\d{5}$/,
    isPhoneRequired: true,
    // CIN (company), GSTIN (goods and services tax) or PAN (permanent account number).
    registrationNumber: {
      use: 'required',
      pattern:
        /^(?:[LUlu]\d{5}[A-Za-z]{2}\d{4}[A-Za-z]{3}\d{6}|\d{2}[A-Za-z]{5}\d{4}[A-Za-z][1-9A-Za-z][Zz][0-9A-Za-z]|[A-Za-z]{5}\d{4}[A-Za-z])$/,
      format: 'a CIN (21 characters), GSTIN (15 characters) or PAN (10 characters)',
    },
  }),
  country('BR', 'Brazil', {
    cultures: ['pt-BR'],
    isStateRequired: true,
    states: BR_STATES,
    postalCode: /^\d{5}-?\d{3}$/,
    formatPostalCode: digitsSeparatedBeforeLast(3, '-'),
    isPhoneRequired: true,
    registrationNumber: {
      use: 'required',
      pattern: /^(?:\d{14}|\d{2}\.\d{3}\.\d{3}\/\d{4}-\d{2})$/,
      format: 'a CNPJ of 14 digits (12345678000195 or 12.345.678/0001-95)',
    },
  }),
  country('MX', 'Mexico', {
    cultures: ['es-MX'],
    isStateRequired: true,
    states: MX_STATES,
    postalCode: /^\d{5}$/,
  }),
  country('ZA', 'South Africa', {
    cultures: ['en-ZA'],
    postalCode: /^\d{4}$/,
    isPhoneRequired: true,
    // CIPC company registration number, e.g. 2001/012345/07.
    registrationNumber: {
      use: 'required',
      pattern: /^\d{4}\/\d{6}\/\d{2}$/,
      format: 'a CIPC registration number (YYYY/NNNNNN/NN)',
    },
  }),
  country('SG', 'Singapore', {
    cultures: ['en-SG', 'zh-SG'],
    // A city-state: the city is implied.
    isCityRequired: false,
    postalCode: /^\d{6}$/,
  }),
];

const RULES_BY_ISO2 = new Map(COUNTRY_RULES.map((rule) => [rule.iso2, rule]));

export const SUPPORTED_COUNTRIES: readonly string[] = COUNTRY_RULES.map((rule) => rule.iso2);

/** The rule for an ISO alpha-2 code in any case, or undefined when the country is not supported. */
export function findCountryRule(iso2: unknown): CountryRule | undefined {
  return typeof iso2 === 'string' ? RULES_BY_ISO2.get(iso2.trim().toUpperCase()) : undefined;
}
