import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { EntityManager, Repository } from 'typeorm';
import { normaliseCulture } from '../addresses/address-rules';
import { ApiError, notFound } from '../common/errors/error-catalogue';
import { isSqlite } from '../database/data-source-options';
import { Transactions } from '../database/transactions';
import { BillingProfileHistoryService } from './billing-profile-history.service';
import { BillingProfileEntity } from './billing-profile.entity';
import { BillingProfileChangeCollectionDto } from './dto/billing-profile-change-response.dto';
import { BillingProfileInputDto } from './dto/billing-profile-input.dto';
import {
  BillingProfileResponseDto,
  toBillingProfileResponse,
} from './dto/billing-profile-response.dto';
import { EtagCondition, matchesStrongly } from './etags';

const BILLING_PROFILE_NOT_FOUND = 'The customer or its billing profile was not found';

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
    private readonly changes: BillingProfileHistoryService,
    private readonly transactions: Transactions,
  ) {}

  /** The billing profile of a customer the caller owns; 404 for anyone else (resellers included). */
  async findOwned(tenantId: string, customerId: string): Promise<BillingProfileEntity> {
    const row = await this.profiles.findOneBy({ customerId, partnerTenantId: tenantId });
    if (!row) throw notFound(BILLING_PROFILE_NOT_FOUND);
    return row;
  }

  /** `GET …/profiles/billing/history` (CONTRACT 7.3), for the owner only. */
  async history(
    tenantId: string,
    customerId: string,
    size: unknown,
    continuationToken: string | undefined,
  ): Promise<BillingProfileChangeCollectionDto> {
    await this.findOwned(tenantId, customerId);
    return this.changes.list(tenantId, customerId, size, continuationToken);
  }

  /**
   * `PUT …/profiles/billing` (CONTRACT 7.2). The expected etag comes from If-Match and/or the body's
   * `attributes.etag`; every one given must match. The row is read with a write lock (MySQL; SQLite
   * serialises writes anyway), so concurrent PUTs of one profile take turns: of those holding one
   * etag exactly one matches, and unconditional ones all succeed, the last one winning, each
   * recorded in the history. The UPDATE is still conditional on the etag that was read, as a
   * backstop.
   */
  async replace(
    tenantId: string,
    customerId: string,
    input: BillingProfileInputDto,
    ifMatch: EtagCondition | undefined,
  ): Promise<BillingProfileResponseDto> {
    const bodyEtag = input.attributes?.etag?.trim() || undefined;
    const updated = await this.transactions.run(async (manager) => {
      const current = await manager.findOne(BillingProfileEntity, {
        where: { customerId, partnerTenantId: tenantId },
        ...(isSqlite(manager.connection.options) ? {} : { lock: { mode: 'pessimistic_write' } }),
      });
      if (!current) throw notFound(BILLING_PROFILE_NOT_FOUND);
      if (ifMatch && !matchesStrongly(ifMatch, current.etag)) throw etagStale();
      if (bodyEtag !== undefined && bodyEtag !== current.etag) throw etagStale();

      const changes = { ...billingColumns(input), etag: newEtag(), updatedAt: new Date() };
      const result = await manager.update(
        BillingProfileEntity,
        { id: current.id, etag: current.etag },
        changes,
      );
      if (result.affected !== 1) throw etagStale();
      const next = { ...current, ...changes };
      await this.changes.record(manager, tenantId, current, next);
      return next;
    });
    return toBillingProfileResponse(updated);
  }

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

  /** A customer that moves to another partner takes its billing profile along. */
  async transferForCustomer(
    manager: EntityManager,
    customerId: string,
    partnerTenantId: string,
  ): Promise<void> {
    await manager.update(BillingProfileEntity, { customerId }, { partnerTenantId });
  }
}

function etagStale(): ApiError {
  return new ApiError(
    'etagStale',
    'The etag is no longer valid: the billing profile has changed. Read it again and retry.',
  );
}
