import { CountryRule, findCountryRule, SUPPORTED_COUNTRIES } from './country-rules';

/**
 * The country-dependent rules of CONTRACT 10, applied to whatever a client sent. The general rules
 * (types, lengths, required `country` and `addressLine1`) are the DTOs' job; these functions stay
 * silent about a field whose type is wrong so that a problem is reported once.
 */
export interface AddressInput {
  country?: unknown;
  region?: unknown;
  city?: unknown;
  state?: unknown;
  addressLine1?: unknown;
  addressLine2?: unknown;
  addressLine3?: unknown;
  postalCode?: unknown;
  firstName?: unknown;
  middleName?: unknown;
  lastName?: unknown;
  phoneNumber?: unknown;
}

/** `at('', 'culture')` → `culture`; `at('billingProfile', 'culture')` → `billingProfile.culture`. */
function at(path: string, field: string): string {
  return path ? `${path}.${field}` : field;
}

/** Absent, null or only white space. Values of another type are not "missing": they are wrong. */
function isMissing(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && !value.trim());
}

function given(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/** `UK` is a common mistake for `GB`; it is reported as such rather than as an unknown country. */
function countryProblem(country: string, path: string): string | undefined {
  const code = country.trim().toUpperCase();
  if (code === 'UK') return `${at(path, 'country')} UK is not an ISO 3166-1 code: use GB`;
  if (!/^[A-Z]{2}$/.test(code)) return undefined;
  if (findCountryRule(code)) return undefined;
  return `${at(path, 'country')} ${code} is not supported; supported countries: ${SUPPORTED_COUNTRIES.join(', ')}`;
}

function stateProblems(rule: CountryRule, state: unknown, path: string): string[] {
  const field = at(path, 'state');
  if (isMissing(state)) return rule.isStateRequired ? [`${field} is required in ${rule.iso2}`] : [];
  if (!given(state) || rule.states.length === 0 || rule.states.includes(state.trim())) return [];
  const upper = state.trim().toUpperCase();
  const hint = rule.states.includes(upper) ? ` (did you mean ${upper}?)` : '';
  return [
    `${field} must be one of the state codes of ${rule.iso2}${hint}: ${rule.states.join(', ')}`,
  ];
}

function postalCodeProblems(rule: CountryRule, postalCode: unknown, path: string): string[] {
  const field = at(path, 'postalCode');
  if (isMissing(postalCode)) {
    return rule.isPostalCodeRequired ? [`${field} is required in ${rule.iso2}`] : [];
  }
  if (!given(postalCode) || !rule.postalCode || rule.postalCode.test(postalCode.trim())) return [];
  const suggestion = suggestPostalCode(rule, postalCode);
  const hint = suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`;
  return [
    `${field} must match the ${rule.iso2} postal code format ${rule.postalCode.source}${hint}`,
  ];
}

function phoneProblems(rule: CountryRule, phoneNumber: unknown, path: string): string[] {
  const field = at(path, 'phoneNumber');
  if (isMissing(phoneNumber)) {
    return rule.isPhoneRequired ? [`${field} is required in ${rule.iso2}`] : [];
  }
  if (!given(phoneNumber) || rule.phoneNumber.test(phoneNumber.trim())) return [];
  return [`${field} must be a phone number of 6 to 20 digits (spaces, + ( ) . - allowed)`];
}

/** Every country-dependent problem of an address, each naming its field under `path`. */
export function addressProblems(address: AddressInput | undefined, path: string): string[] {
  if (!address || typeof address.country !== 'string') return [];
  const unsupported = countryProblem(address.country, path);
  if (unsupported) return [unsupported];
  const rule = findCountryRule(address.country);
  if (!rule) return [];
  return [
    ...(rule.isCityRequired && isMissing(address.city)
      ? [`${at(path, 'city')} is required in ${rule.iso2}`]
      : []),
    ...stateProblems(rule, address.state, path),
    ...postalCodeProblems(rule, address.postalCode, path),
    ...phoneProblems(rule, address.phoneNumber, path),
  ];
}

/** `EN-us` → `en-US`, the form the contract returns. */
export function normaliseCulture(culture: string): string {
  const [language = '', region = ''] = culture.trim().split('-');
  return `${language.toLowerCase()}-${region.toUpperCase()}`;
}

/** The culture must be one of those supported for the address's country. */
export function cultureProblems(culture: unknown, country: unknown, path: string): string[] {
  if (typeof culture !== 'string' || !/^[A-Za-z]{2}-[A-Za-z]{2}$/.test(culture.trim())) return [];
  const rule = findCountryRule(country);
  if (!rule || rule.cultures.includes(normaliseCulture(culture))) return [];
  return [
    `${at(path, 'culture')} must be a culture supported in ${rule.iso2}: ${rule.cultures.join(', ')}`,
  ];
}

/** `companyProfile.organizationRegistrationNumber`: required, optional or forbidden by country. */
export function registrationNumberProblems(
  value: unknown,
  country: unknown,
  path: string,
): string[] {
  const countryRule = findCountryRule(country);
  const rule = countryRule?.registrationNumber;
  const iso2 = countryRule?.iso2;
  const field = at(path, 'organizationRegistrationNumber');
  if (!rule || rule.use === 'optional') return [];
  if (rule.use === 'forbidden') {
    return isMissing(value) ? [] : [`${field} must not be given for customers in ${iso2}`];
  }
  if (isMissing(value)) return [`${field} is required in ${iso2}: ${rule.format}`];
  if (given(value) && !rule.pattern.test(value.trim())) return [`${field} must be ${rule.format}`];
  return [];
}

/** The postal code written the way the country writes it, when that fixes it; else undefined. */
function suggestPostalCode(rule: CountryRule, postalCode: string): string | undefined {
  if (!rule.postalCode) return undefined;
  const candidates = [postalCode.trim().toUpperCase()];
  if (rule.formatPostalCode) candidates.unshift(rule.formatPostalCode(postalCode));
  return candidates.find((candidate) => rule.postalCode?.test(candidate));
}

/**
 * The address with every mechanical fix applied: white space trimmed, the country code upper-cased
 * (`UK` → `GB`), a state code upper-cased when that makes it a known code, the postal code written
 * in the country's own way (`k1a0b1` → `K1A 0B1`). Nothing is guessed beyond that.
 */
export function suggestAddress<T extends AddressInput>(address: T): T {
  const trimmed = Object.fromEntries(
    Object.entries(address).map(([key, value]) => [
      key,
      typeof value === 'string' ? value.trim().replace(/\s+/g, ' ') : value,
    ]),
  ) as T;
  if (typeof trimmed.country !== 'string') return trimmed;
  const code = trimmed.country.toUpperCase();
  const suggestion: T = { ...trimmed, country: code === 'UK' ? 'GB' : code };
  const rule = findCountryRule(suggestion.country);
  if (!rule) return suggestion;
  if (given(suggestion.state) && rule.states.includes(suggestion.state.toUpperCase())) {
    suggestion.state = suggestion.state.toUpperCase();
  }
  if (given(suggestion.postalCode)) {
    suggestion.postalCode = suggestPostalCode(rule, suggestion.postalCode) ?? suggestion.postalCode;
  }
  return suggestion;
}
