import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { BillingProfileResponseDto } from '../../billing/dto/billing-profile-response.dto';
import {
  present,
  ResourceAttributesDto,
  ResourceLinksDto,
  selfLinks,
} from '../../common/http/links';
import { RELATIONSHIPS, RelationshipToPartner } from '../customer.entity';

/** The columns a response needs: an entity or a raw row read on a hot path. */
export interface CustomerRow {
  id: string;
  commerceId: string;
  domain: string;
  companyName: string;
  organizationRegistrationNumber: string | null;
  relationshipToPartner: RelationshipToPartner;
  associatedPartnerId: string | null;
}

export class CompanyProfileResponseDto {
  @ApiProperty({ format: 'uuid' })
  tenantId!: string;

  @ApiProperty({ example: 'contoso-example.onmicrosoft.com' })
  domain!: string;

  @ApiProperty({ example: 'Contoso' })
  companyName!: string;

  @ApiPropertyOptional()
  organizationRegistrationNumber?: string;

  @ApiProperty({ type: ResourceLinksDto })
  links!: ResourceLinksDto;

  @ApiProperty({ type: ResourceAttributesDto })
  attributes!: ResourceAttributesDto;
}

export class UserCredentialsDto {
  @ApiProperty({ example: 'admin@contoso-example.onmicrosoft.com' })
  userName!: string;

  @ApiPropertyOptional({
    description: 'Generated, returned once in the create response, never stored',
  })
  password?: string;
}

export class CustomerResponseDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  commerceId!: string;

  @ApiProperty({ type: CompanyProfileResponseDto })
  companyProfile!: CompanyProfileResponseDto;

  @ApiPropertyOptional({ type: BillingProfileResponseDto })
  billingProfile?: BillingProfileResponseDto;

  @ApiProperty({ enum: RELATIONSHIPS })
  relationshipToPartner!: RelationshipToPartner;

  @ApiPropertyOptional()
  allowDelegatedAccess?: boolean;

  @ApiPropertyOptional({ type: UserCredentialsDto, description: 'Create response only' })
  userCredentials?: UserCredentialsDto;

  @ApiPropertyOptional({ type: [String] })
  customDomains?: string[];

  @ApiPropertyOptional({ format: 'uuid' })
  associatedPartnerId?: string;

  @ApiProperty({ type: ResourceLinksDto })
  links!: ResourceLinksDto;

  @ApiProperty({ type: ResourceAttributesDto })
  attributes!: ResourceAttributesDto;
}

export function toCompanyProfileResponse(row: CustomerRow): CompanyProfileResponseDto {
  return {
    tenantId: row.id,
    domain: row.domain,
    companyName: row.companyName,
    organizationRegistrationNumber: present(row.organizationRegistrationNumber),
    links: selfLinks(`/customers/${row.id}/profiles/company`),
    attributes: { objectType: 'CustomerCompanyProfile' },
  };
}

/** A list item: the reduced Customer (CONTRACT 6.2). */
export function toCustomerListItem(row: CustomerRow): CustomerResponseDto {
  const full = toCompanyProfileResponse(row);
  return {
    id: row.id,
    commerceId: row.commerceId,
    companyProfile: {
      tenantId: full.tenantId,
      domain: full.domain,
      companyName: full.companyName,
      links: full.links,
      attributes: full.attributes,
    },
    relationshipToPartner: row.relationshipToPartner,
    associatedPartnerId: present(row.associatedPartnerId),
    links: selfLinks(`/customers/${row.id}`),
    attributes: { objectType: 'Customer' },
  };
}

/** The full Customer; the billing profile is left out for a reseller, which may not see it. */
export function toCustomerResponse(
  row: CustomerRow,
  billingProfile?: BillingProfileResponseDto,
): CustomerResponseDto {
  return {
    ...toCustomerListItem(row),
    companyProfile: toCompanyProfileResponse(row),
    billingProfile,
    allowDelegatedAccess: row.relationshipToPartner === 'reseller',
    customDomains: [row.domain],
  };
}
