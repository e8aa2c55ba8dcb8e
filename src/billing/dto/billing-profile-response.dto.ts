import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AddressDto } from '../../addresses/dto/address.dto';
import {
  present,
  ResourceAttributesDto,
  ResourceLinksDto,
  selfLinks,
} from '../../common/http/links';
import { BillingProfileEntity } from '../billing-profile.entity';

export class BillingProfileResponseDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiPropertyOptional()
  firstName?: string;

  @ApiPropertyOptional()
  lastName?: string;

  @ApiProperty()
  email!: string;

  @ApiProperty({ example: 'en-US' })
  culture!: string;

  @ApiProperty({ example: 'en' })
  language!: string;

  @ApiProperty()
  companyName!: string;

  @ApiProperty({ type: AddressDto })
  defaultAddress!: AddressDto;

  @ApiProperty({ type: ResourceLinksDto })
  links!: ResourceLinksDto;

  @ApiProperty({ type: ResourceAttributesDto })
  attributes!: ResourceAttributesDto;
}

export function toAddress(row: BillingProfileEntity): AddressDto {
  return {
    country: row.addressCountry,
    region: present(row.addressRegion),
    city: present(row.addressCity),
    state: present(row.addressState),
    addressLine1: row.addressLine1,
    addressLine2: present(row.addressLine2),
    addressLine3: present(row.addressLine3),
    postalCode: present(row.addressPostalCode),
    firstName: present(row.addressFirstName),
    middleName: present(row.addressMiddleName),
    lastName: present(row.addressLastName),
    phoneNumber: present(row.addressPhoneNumber),
  };
}

/** The fields a client writes: the body of the response, and what a recorded change is made of. */
export type BillingProfileValues = Omit<BillingProfileResponseDto, 'id' | 'links' | 'attributes'>;

export function toBillingProfileValues(row: BillingProfileEntity): BillingProfileValues {
  return {
    firstName: present(row.firstName),
    lastName: present(row.lastName),
    email: row.email,
    culture: row.culture,
    language: row.language,
    companyName: row.companyName,
    defaultAddress: toAddress(row),
  };
}

export function toBillingProfileResponse(row: BillingProfileEntity): BillingProfileResponseDto {
  return {
    id: row.id,
    ...toBillingProfileValues(row),
    links: selfLinks(`/customers/${row.customerId}/profiles/billing`),
    attributes: { etag: row.etag, objectType: 'CustomerBillingProfile' },
  };
}
