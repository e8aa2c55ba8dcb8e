import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsEmail,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { addressProblems, cultureProblems } from '../../addresses/address-rules';
import { AddressDto } from '../../addresses/dto/address.dto';
import { CrossFieldRules } from '../../common/json/request-body.pipe';
import { IsCompanyName } from './company-name.validator';

/** The only attribute read from a body: the etag on a billing-profile PUT (CONTRACT 7.2). */
export class BillingProfileAttributesInputDto {
  @ApiPropertyOptional({ description: 'The etag from GET, as the .NET and Java SDKs send it' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  etag?: string;
}

/** A billing profile as a client writes it: on create (inside the customer) and on PUT. */
export class BillingProfileInputDto implements CrossFieldRules {
  @ApiPropertyOptional({ example: 'Ada' })
  @IsOptional()
  @IsString()
  @Length(1, 50)
  firstName?: string;

  @ApiPropertyOptional({ example: 'Lovelace' })
  @IsOptional()
  @IsString()
  @Length(1, 50)
  lastName?: string;

  @ApiProperty({ example: 'ada@contoso.com' })
  @IsString()
  @MaxLength(254)
  @IsEmail({}, { message: '$property must be an email address' })
  email!: string;

  @ApiProperty({ example: 'en-US', description: 'll-CC, supported for the address country' })
  @IsString()
  @Matches(/^[A-Za-z]{2}-[A-Za-z]{2}$/, { message: '$property must look like en-US' })
  culture!: string;

  @ApiProperty({ example: 'en' })
  @IsString()
  @Matches(/^[A-Za-z]{2}$/, { message: '$property must be a two-letter language code' })
  language!: string;

  @ApiProperty({ example: 'Contoso' })
  @IsCompanyName()
  companyName!: string;

  @ApiProperty({ type: AddressDto })
  @IsObject()
  @ValidateNested()
  @Type(() => AddressDto)
  defaultAddress!: AddressDto;

  @ApiPropertyOptional({ type: BillingProfileAttributesInputDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => BillingProfileAttributesInputDto)
  attributes?: BillingProfileAttributesInputDto;

  /** The country-dependent rules, with paths under `path` (empty for a PUT body). */
  problemsAt(path: string): string[] {
    const under = (name: string) => (path ? `${path}.${name}` : name);
    const address = isObject(this.defaultAddress) ? this.defaultAddress : undefined;
    return [
      ...cultureProblems(this.culture, address?.country, path),
      ...addressProblems(address, under('defaultAddress')),
    ];
  }

  crossFieldProblems(): string[] {
    return this.problemsAt('');
  }
}

function isObject(value: unknown): value is AddressDto {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
