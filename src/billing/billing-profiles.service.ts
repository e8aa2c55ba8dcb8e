import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { EntityManager, Repository } from 'typeorm';
import { normaliseCulture } from '../addresses/address-rules';
import { BillingProfileEntity } from './billing-profile.entity';
import { BillingProfileInputDto } from './dto/billing-profile-input.dto';
import {
  BillingProfileResponseDto,
  toBillingProfileResponse,
} from './dto/billing-profile-response.dto';

export function newEtag(): string {
  return randomBytes(18).toString('base64url');
}

/** The stored columns of a billing profile as a client wrote it (validated beforehand). */
export function billingColumns(input: BillingProfileInputDto) {
  const address = input.defaultAddress;
  return {
    firstName: input.firstName ?? null,
    lastName: input.lastName ?? null,
    email: input.email,
    culture: normaliseCulture(input.culture),
    language: input.language,
    companyName: input.companyName,
    addressCountry: address.country.toUpperCase(),
    addressRegion: address.region ?? null,
    addressCity: address.city ?? null,
    addressState: address.state ?? null,
    addressLine1: address.addressLine1,
    addressLine2: address.addressLine2 ?? null,
    addressLine3: address.addressLine3 ?? null,
    addressPostalCode: address.postalCode ?? null,
    addressFirstName: address.firstName ?? null,
    addressMiddleName: address.middleName ?? null,
    addressLastName: address.lastName ?? null,
    addressPhoneNumber: address.phoneNumber ?? null,
  };
}

/**
 * Billing profiles (CONTRACT 5.3, 7). Every query filters by the owning partner tenant, stored on
 * the row itself, so a reseller or another partner finds nothing (404).
 */
@Injectable()
export class BillingProfilesService {
  constructor(
    @InjectRepository(BillingProfileEntity)
    private readonly profiles: Repository<BillingProfileEntity>,
  ) {}

  /** Part of the customer's create transaction. */
  async insertForCustomer(
    manager: EntityManager,
    tenantId: string,
    customerId: string,
    input: BillingProfileInputDto,
  ): Promise<BillingProfileResponseDto> {
    const row = manager.create(BillingProfileEntity, {
      id: randomUUID(),
      customerId,
      partnerTenantId: tenantId,
      ...billingColumns(input),
      etag: newEtag(),
      updatedAt: new Date(),
    });
    await manager.insert(BillingProfileEntity, row);
    return toBillingProfileResponse(row);
  }

  async findForCustomer(
    tenantId: string,
    customerId: string,
  ): Promise<BillingProfileResponseDto | undefined> {
    const row = await this.profiles.findOneBy({ customerId, partnerTenantId: tenantId });
    return row ? toBillingProfileResponse(row) : undefined;
  }

  /** Part of the customer's delete transaction. */
  async deleteForCustomer(manager: EntityManager, customerId: string): Promise<void> {
    await manager.delete(BillingProfileEntity, { customerId });
  }

  /** A customer that moves to another partner takes its billing profile along. */
  async transferForCustomer(
    manager: EntityManager,
    customerId: string,
    partnerTenantId: string,
  ): Promise<void> {
    await manager.update(BillingProfileEntity, { customerId }, { partnerTenantId });
  }
}
