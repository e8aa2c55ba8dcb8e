import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ResourceAttributesDto } from '../../common/http/links';
import { CountryRule } from '../country-rules';

/** Partner Center's CountryValidationRules, plus the phone and registration-number rules. */
export class CountryValidationRulesResponseDto {
  @ApiProperty({ example: 'US' })
  iso2Code!: string;

  @ApiProperty({ example: 'en-US' })
  defaultCulture!: string;

  @ApiProperty()
  isStateRequired!: boolean;

  @ApiProperty({ type: [String], example: ['AL', 'AK', 'AZ'] })
  supportedStatesList!: string[];

  @ApiProperty({ type: [String], example: ['en', 'es'] })
  supportedLanguagesList!: string[];

  @ApiProperty({ type: [String], example: ['en-US', 'es-US'] })
  supportedCulturesList!: string[];

  @ApiProperty()
  isPostalCodeRequired!: boolean;

  @ApiPropertyOptional({ example: '^\\d{5}(-\\d{4})?$' })
  postalCodeRegex?: string;

  @ApiProperty()
  isCityRequired!: boolean;

  @ApiProperty()
  phoneNumberRegex!: string;

  @ApiProperty({ description: 'This service: whether a phone number is mandatory' })
  isPhoneNumberRequired!: boolean;

  @ApiProperty({
    enum: ['required', 'optional', 'forbidden'],
    description: 'This service: the rule for companyProfile.organizationRegistrationNumber',
  })
  organizationRegistrationNumberRule!: 'required' | 'optional' | 'forbidden';

  @ApiPropertyOptional({ description: 'When required: the accepted format' })
  organizationRegistrationNumberRegex?: string;

  @ApiProperty({ type: ResourceAttributesDto, example: { objectType: 'CountryValidationRules' } })
  attributes!: ResourceAttributesDto;
}

export function toCountryValidationRulesResponse(
  rule: CountryRule,
): CountryValidationRulesResponseDto {
  const registration = rule.registrationNumber;
  return {
    iso2Code: rule.iso2,
    defaultCulture: rule.cultures[0],
    isStateRequired: rule.isStateRequired,
    supportedStatesList: [...rule.states],
    supportedLanguagesList: [...rule.languages],
    supportedCulturesList: [...rule.cultures],
    isPostalCodeRequired: rule.isPostalCodeRequired,
    postalCodeRegex: rule.postalCode?.source,
    isCityRequired: rule.isCityRequired,
    phoneNumberRegex: rule.phoneNumber.source,
    isPhoneNumberRequired: rule.isPhoneRequired,
    organizationRegistrationNumberRule: registration.use,
    organizationRegistrationNumberRegex:
      registration.use === 'required' ? registration.pattern.source : undefined,
    attributes: { objectType: 'CountryValidationRules' },
  };
}
