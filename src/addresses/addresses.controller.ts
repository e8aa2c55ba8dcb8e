import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors } from '../common/errors/api-errors.decorator';
import { AddressesService } from './addresses.service';
import {
  AddressValidationRequestDto,
  AddressValidationResponseDto,
} from './dto/address-validation.dto';
import { CountryValidationRulesResponseDto } from './dto/country-validation-rules-response.dto';

@ApiTags('Addresses')
@ApiBearerAuth()
@Controller('v1')
export class AddressesController {
  constructor(private readonly addresses: AddressesService) {}

  @Get('countryvalidationrules/:countryCode')
  @ApiOperation({ summary: "A country's address rules" })
  @ApiParam({ name: 'countryCode', example: 'US', description: 'ISO 3166-1 alpha-2, any case' })
  @ApiOkResponse({ type: CountryValidationRulesResponseDto })
  @ApiErrors('invalidInput', 'notFound')
  countryRules(@Param('countryCode') countryCode: string): CountryValidationRulesResponseDto {
    return this.addresses.countryRules(countryCode);
  }

  @Post('validations/address')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Validate an address',
    description:
      'Verified when the address passes every rule; NotValidated with every failing field ' +
      'otherwise. A suggestion is offered when mechanical fixes make it valid.',
  })
  @ApiBody({
    type: AddressValidationRequestDto,
    examples: {
      fixable: {
        summary: 'Fixable: lower-case province, postal code without its space',
        value: {
          country: 'CA',
          city: 'Ottawa',
          state: 'on',
          addressLine1: '111 Wellington St',
          postalCode: 'k1a0a9',
        },
      },
    },
  })
  @ApiOkResponse({ type: AddressValidationResponseDto })
  @ApiErrors('invalidInput', 'bodyTooLarge', 'unsupportedMediaType')
  validate(@Body() address: AddressValidationRequestDto): AddressValidationResponseDto {
    return this.addresses.validate(address);
  }
}
