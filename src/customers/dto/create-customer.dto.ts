import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Validate,
  ValidateNested,
} from 'class-validator';
import { registrationNumberProblems } from '../../addresses/address-rules';
import { BillingProfileInputDto } from '../../billing/dto/billing-profile-input.dto';
import { IsCompanyName } from '../../billing/dto/company-name.validator';
import { CrossFieldRules } from '../../common/json/request-body.pipe';
import { CustomerDomainConstraint } from './customer-domain.validator';

const GUID = /^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$/;

export class CompanyProfileInputDto {
  @ApiProperty({ example: 'contoso-example.onmicrosoft.com' })
  @IsString()
  @Validate(CustomerDomainConstraint)
  domain!: string;

  @ApiPropertyOptional({
    example: 'Contoso',
    description: 'Defaults to billingProfile.companyName',
  })
  @IsOptional()
  @IsCompanyName()
  companyName?: string;

  @ApiPropertyOptional({ description: 'Required, optional or forbidden by country (section 10)' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  organizationRegistrationNumber?: string;
}

/**
 * `POST /v1/customers` (CONTRACT 6.1). Server-owned properties (id, commerceId, tenantId,
 * userCredentials, relationshipToPartner, …) are not declared, so they are dropped on input.
 */
export class CreateCustomerDto implements CrossFieldRules {
  @ApiProperty({ type: CompanyProfileInputDto })
  @IsObject()
  @ValidateNested()
  @Type(() => CompanyProfileInputDto)
  companyProfile!: CompanyProfileInputDto;

  @ApiProperty({ type: BillingProfileInputDto })
  @IsObject()
  @ValidateNested()
  @Type(() => BillingProfileInputDto)
  billingProfile!: BillingProfileInputDto;

  @ApiPropertyOptional({ format: 'uuid', description: 'The indirect reseller of this customer' })
  @IsOptional()
  @IsString()
  @Matches(GUID, { message: '$property must be a GUID' })
  associatedPartnerId?: string;

  crossFieldProblems(): string[] {
    const billing =
      this.billingProfile instanceof BillingProfileInputDto ? this.billingProfile : undefined;
    const country = billing?.defaultAddress?.country;
    const registration = (this.companyProfile as CompanyProfileInputDto | undefined)
      ?.organizationRegistrationNumber;
    return [
      ...(billing?.problemsAt('billingProfile') ?? []),
      ...registrationNumberProblems(registration, country, 'companyProfile'),
    ];
  }
}
