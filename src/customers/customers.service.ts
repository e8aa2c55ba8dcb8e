import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { EntityManager, Not, Repository } from 'typeorm';
import { BillingProfilesService } from '../billing/billing-profiles.service';
import { ApiError, invalidInput, notFound } from '../common/errors/error-catalogue';
import { normalizeGuid } from '../common/ids/guid';
import { Metrics } from '../common/observability/metrics';
import { isSqlite } from '../database/data-source-options';
import { isUniqueViolation } from '../database/database-errors';
import { Transactions } from '../database/transactions';
import { generateAdminPassword } from './admin-password';
import { CustomerEntity } from './customer.entity';
import { CreateCustomerDto } from './dto/create-customer.dto';
import {
  CompanyProfileResponseDto,
  CustomerResponseDto,
  toCompanyProfileResponse,
  toCustomerResponse,
} from './dto/customer-response.dto';
import { IdempotencyKey, IdempotencyService, StoredAnswer } from './idempotency.service';

export interface CreateResult extends StoredAnswer {
  body: CustomerResponseDto;
  replayed: boolean;
}

/** What a customer new to the service states about itself: on create and on acceptance. */
export type NewCustomerProfile = Pick<CreateCustomerDto, 'companyProfile' | 'billingProfile'>;

const CUSTOMER_NOT_FOUND = 'The customer was not found';

/** Customers and their company profiles (CONTRACT section 6). */
@Injectable()
export class CustomersService {
  constructor(
    @InjectRepository(CustomerEntity) private readonly customers: Repository<CustomerEntity>,
    private readonly billing: BillingProfilesService,
    private readonly idempotency: IdempotencyService,
    private readonly transactions: Transactions,
    private readonly metrics: Metrics,
  ) {}

  async create(
    tenantId: string,
    dto: CreateCustomerDto,
    requestId: string | undefined,
  ): Promise<CreateResult> {
    const key = requestId ? this.idempotency.keyFor(requestId, dto) : undefined;
    const replay = key && (await this.replay(tenantId, key));
    if (replay) return replay;
    if (key) await this.idempotency.purgeExpired(tenantId, key);

    const domain = dto.companyProfile.domain.toLowerCase();
    if (await this.isDomainTaken(domain)) return this.replayOr(tenantId, key, domainTaken());

    const password = generateAdminPassword();
    // Which unique key a violation hit: the MS-RequestId claim or the customer's domain.
    const progress: { stage: 'claim' | 'insert' } = { stage: 'claim' };
    try {
      const body = await this.transactions.run(async (manager) => {
        if (key) await this.idempotency.claim(manager, tenantId, key);
        progress.stage = 'insert';
        const { row, billing } = await this.insertCustomer(
          manager,
          tenantId,
          randomUUID(),
          dto,
          normalizeGuid(dto.associatedPartnerId) ?? null,
        );
        const response = toCustomerResponse(row, billing);
        const userName = `admin@${domain}`;
        if (key) {
          // The replay leaves the password out: it is never stored (CONTRACT section 8).
          const stored = { ...response, userCredentials: { userName } };
          await this.idempotency.complete(manager, tenantId, key, row.id, {
            status: 201,
            body: stored,
          });
        }
        return { ...response, userCredentials: { userName, password } };
      });
      return { status: 201, body, replayed: false };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // A concurrent request with the same MS-RequestId may have won (it took the domain, or the
      // claim): answer as it did.
      return this.replayOr(
        tenantId,
        key,
        progress.stage === 'insert'
          ? domainTaken()
          : new ApiError('requestIdReused', 'This MS-RequestId is being used by another request'),
      );
    }
  }

  /** The replay of a concurrent twin that got there first, else `error`. */
  private async replayOr(
    tenantId: string,
    key: IdempotencyKey | undefined,
    error: ApiError,
  ): Promise<CreateResult> {
    const answer = key && (await this.replay(tenantId, key));
    if (answer) return answer;
    throw error;
  }

  /** The full customer; the owner sees the billing profile, an indirect reseller does not. */
  async findOne(tenantId: string, id: string): Promise<CustomerResponseDto> {
    const row = await this.findVisible(tenantId, id);
    const billing =
      row.partnerTenantId === tenantId
        ? await this.billing.findForCustomer(tenantId, id)
        : undefined;
    return toCustomerResponse(row, billing);
  }

  async findCompanyProfile(tenantId: string, id: string): Promise<CompanyProfileResponseDto> {
    return toCompanyProfileResponse(await this.findVisible(tenantId, id));
  }

  /** PATCH to `none` (CONTRACT 6.4): one conditional update, so a repeat is exactly 409 / 3000. */
  async removeRelationship(tenantId: string, id: string): Promise<CustomerResponseDto> {
    await this.transactions.run(async (manager) => {
      const result = await manager.update(
        CustomerEntity,
        { id, partnerTenantId: tenantId, relationshipToPartner: Not('none') },
        { relationshipToPartner: 'none' },
      );
      if (result.affected) return;
      const owned = await manager.existsBy(CustomerEntity, { id, partnerTenantId: tenantId });
      if (!owned) throw notFound(CUSTOMER_NOT_FOUND);
      throw new ApiError(
        'relationshipMissing',
        'The relationship between the partner and the customer does not exist',
      );
    });
    return this.findOne(tenantId, id);
  }

  /**
   * Deletes the customer (CONTRACT 6.5); its billing profile and history go with it by the foreign
   * keys' cascade. The DELETE itself decides: of concurrent deletes exactly one removes the row, and
   * the others, which waited for its lock, find nothing (404).
   */
  async remove(tenantId: string, id: string): Promise<void> {
    await this.transactions.run(async (manager) => {
      const { affected } = await manager.delete(CustomerEntity, { id, partnerTenantId: tenantId });
      if (!affected) throw notFound(CUSTOMER_NOT_FOUND);
      await this.idempotency.deleteForCustomer(manager, id);
    });
  }

  /**
   * Part of a relationship request's acceptance (CONTRACT section 11): the accepting tenant becomes
   * the customer of `tenantId`, the inviting partner, with the reseller relationship, and the
   * answer is the customer as that partner sees it. A customer the service knows (whichever
   * partner had it, even with relationship `none`) moves over with its billing profile; a new one
   * is created from `profile`, which the body pipe validated like a `POST /v1/customers` body,
   * except that each part is optional there because a known customer sends none.
   */
  async attachToPartner(
    manager: EntityManager,
    tenantId: string,
    customerId: string,
    associatedPartnerId: string | null,
    profile: Partial<NewCustomerProfile>,
  ): Promise<CustomerResponseDto> {
    // On MySQL the row is locked, so concurrent acceptances by one customer move it one at a
    // time, and two that both create it deadlock, which Transactions.run retries. SQLite has no
    // row locks, and its writes are serialised anyway.
    const existing = await manager.findOne(CustomerEntity, {
      where: { id: customerId },
      ...(isSqlite(manager.connection.options) ? {} : { lock: { mode: 'pessimistic_write' } }),
    });
    if (existing) {
      // Read before the move: the billing module reads through its own repository, which on MySQL
      // is another connection that does not see this transaction's writes.
      const billing = await this.billing.findForCustomer(existing.partnerTenantId, customerId);
      const changes = {
        partnerTenantId: tenantId,
        relationshipToPartner: 'reseller' as const,
        associatedPartnerId,
      };
      await manager.update(CustomerEntity, { id: customerId }, changes);
      await this.billing.transferForCustomer(manager, customerId, tenantId);
      return toCustomerResponse({ ...existing, ...changes }, billing);
    }
    const { companyProfile, billingProfile } = profile;
    if (!companyProfile || !billingProfile) {
      throw invalidInput(
        (['companyProfile', 'billingProfile'] as const)
          .filter((name) => !profile[name])
          .map((name) => `${name} is required when the customer is new to the service`),
      );
    }
    const domain = companyProfile.domain.toLowerCase();
    if (await manager.existsBy(CustomerEntity, { domain })) throw domainTaken();
    const { row, billing } = await this.insertCustomer(
      manager,
      tenantId,
      customerId,
      { companyProfile, billingProfile },
      associatedPartnerId,
    );
    return toCustomerResponse(row, billing);
  }

  /** The indirect reseller of a customer the caller owns, or null; 404 for anyone else. */
  async findIndirectReseller(tenantId: string, id: string): Promise<string | null> {
    const row = await this.customers.findOne({
      select: { id: true, associatedPartnerId: true },
      where: { id, partnerTenantId: tenantId },
    });
    if (!row) throw notFound(CUSTOMER_NOT_FOUND);
    return row.associatedPartnerId;
  }

  /** Any partner's customer counts: the answer depends on the domain alone (CONTRACT 6.7). */
  async isDomainTaken(domain: string): Promise<boolean> {
    if (domain.length > 255) return false;
    return this.customers.existsBy({ domain: domain.toLowerCase() });
  }

  /** Owned by the caller, or associated with it as indirect reseller (CONTRACT section 11). */
  private async findVisible(tenantId: string, id: string): Promise<CustomerEntity> {
    const row = await this.customers.findOne({
      where: [
        { id, partnerTenantId: tenantId },
        { id, associatedPartnerId: tenantId },
      ],
    });
    if (!row) throw notFound(CUSTOMER_NOT_FOUND);
    return row;
  }

  private async insertCustomer(
    manager: EntityManager,
    tenantId: string,
    id: string,
    profile: NewCustomerProfile,
    associatedPartnerId: string | null,
  ) {
    const companyName = profile.companyProfile.companyName ?? profile.billingProfile.companyName;
    const row = manager.create(CustomerEntity, {
      id,
      partnerTenantId: tenantId,
      commerceId: randomUUID(),
      domain: profile.companyProfile.domain.toLowerCase(),
      companyName,
      companyNameKey: companyName.toLowerCase(),
      organizationRegistrationNumber: profile.companyProfile.organizationRegistrationNumber ?? null,
      relationshipToPartner: 'reseller',
      associatedPartnerId,
      createdAt: new Date(),
    });
    await manager.insert(CustomerEntity, row);
    const billing = await this.billing.insertForCustomer(
      manager,
      tenantId,
      id,
      profile.billingProfile,
    );
    return { row, billing };
  }

  private async replay(tenantId: string, key: IdempotencyKey): Promise<CreateResult | undefined> {
    const answer = await this.idempotency.replayFor(tenantId, key);
    if (!answer) return undefined;
    this.metrics.idempotentReplays.inc();
    return { ...answer, body: answer.body as CustomerResponseDto, replayed: true };
  }
}

function domainTaken(): ApiError {
  return new ApiError('domainTaken', 'The domain is already taken', [
    'companyProfile.domain is already taken',
  ]);
}
