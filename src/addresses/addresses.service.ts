import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { invalidInput, notFound } from '../common/errors/error-catalogue';
import { validationProblems } from '../common/json/validation-problems';
import { addressProblems, suggestAddress } from './address-rules';
import { findCountryRule, SUPPORTED_COUNTRIES } from './country-rules';
import { AddressDto } from './dto/address.dto';
import {
  AddressValidationRequestDto,
  AddressValidationResponseDto,
} from './dto/address-validation.dto';
import {
  CountryValidationRulesResponseDto,
  toCountryValidationRulesResponse,
} from './dto/country-validation-rules-response.dto';

/** The country table and address validation as operations (CONTRACT 10). */
@Injectable()
export class AddressesService {
  countryRules(countryCode: string): CountryValidationRulesResponseDto {
    if (!/^[A-Za-z]{2}$/.test(countryCode)) {
      throw invalidInput(['countryCode must be an ISO 3166-1 alpha-2 code']);
    }
    const rule = findCountryRule(countryCode);
    const code = countryCode.toUpperCase();
    if (!rule) {
      const hint = code === 'UK' ? ' (UK is not an ISO 3166-1 code: use GB)' : '';
      throw notFound(
        `There are no validation rules for ${code}${hint}; supported countries: ${SUPPORTED_COUNTRIES.join(', ')}`,
      );
    }
    return toCountryValidationRulesResponse(rule);
  }

  /**
   * Every rule an address breaks, general (required fields, lengths) and per country, and the
   * address with its mechanical fixes when that is valid and differs from what was sent.
   */
  validate(address: AddressValidationRequestDto): AddressValidationResponseDto {
    const problems = problemsOf(address);
    const suggestion = suggestAddress(address);
    const fixes = JSON.stringify(suggestion) !== JSON.stringify(address);
    const suggestedAddresses =
      fixes && problemsOf(suggestion).length === 0 ? [suggestion as AddressDto] : [];
    return {
      originalAddress: address,
      suggestedAddresses,
      status: problems.length === 0 ? 'Verified' : 'NotValidated',
      validationMessage: problems.length === 0 ? undefined : problems.join('; '),
    };
  }
}

function problemsOf(address: AddressValidationRequestDto): string[] {
  const general = validationProblems(validateSync(plainToInstance(AddressDto, address)));
  return [...new Set([...general, ...addressProblems(address, '')])];
}
