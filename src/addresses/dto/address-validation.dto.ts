import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { AddressDto } from './address.dto';

const MAX_FIELD_LENGTH = 1_000;

/**
 * The body of `POST /v1/validations/address`: an Address whose values may break any rule, because
 * reporting the broken rules is the point. Only a value that is not a string (or absurdly long) is
 * a malformed request (400); everything else is answered 200 with the problems named.
 */
export class AddressValidationRequestDto {
  @ApiProperty({ example: 'CA' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD_LENGTH)
  country?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD_LENGTH)
  region?: string;

  @ApiPropertyOptional({ example: 'Ottawa' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD_LENGTH)
  city?: string;

  @ApiPropertyOptional({ example: 'on' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD_LENGTH)
  state?: string;

  @ApiProperty({ example: '111 Wellington St' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD_LENGTH)
  addressLine1?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD_LENGTH)
  addressLine2?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD_LENGTH)
  addressLine3?: string;

  @ApiPropertyOptional({ example: 'k1a0a9' })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD_LENGTH)
  postalCode?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD_LENGTH)
  firstName?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD_LENGTH)
  middleName?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD_LENGTH)
  lastName?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FIELD_LENGTH)
  phoneNumber?: string;
}

/** For Swagger: addresses in the answer may be incomplete, as they were sent. */
export class AddressAsSentDto extends PartialType(AddressDto) {}

export type AddressValidationStatus = 'Verified' | 'NotValidated';

export class AddressValidationResponseDto {
  @ApiProperty({ type: AddressAsSentDto })
  originalAddress!: AddressAsSentDto;

  @ApiProperty({
    type: [AddressDto],
    description: 'The address with its mechanical fixes applied, when that differs and is valid',
  })
  suggestedAddresses!: AddressDto[];

  @ApiProperty({ enum: ['Verified', 'NotValidated'] })
  status!: AddressValidationStatus;

  @ApiPropertyOptional({ description: 'Every failing field and its rule, when not Verified' })
  validationMessage?: string;
}
