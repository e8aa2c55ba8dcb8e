import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Not, Repository } from 'typeorm';
import { BillingProfilesService } from '../billing/billing-profiles.service';
import { ApiError, notFound } from '../common/errors/error-catalogue';
import { normalizeGuid } from '../common/ids/guid';
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

const CUSTOMER_NOT_FOUND = 'The customer was not found';

/** Customers and their company profiles (CONTRACT section 6). */
@Injectable()
export class CustomersService {
  constructor(
    @InjectRepository(CustomerEntity) private readonly customers: Repository<CustomerEntity>,
    private readonly billing: BillingProfilesService,
    private readonly idempotency: IdempotencyService,
    private readonly transactions: Transactions,
  ) {}

  async create(
    tenantId: string,
    dto: CreateCustomerDto,
    requestId: string | undefined,
  ): Promise<CreateResult> {
    const key = requestId ? this.idempotency.keyFor(requestId, dto) : undefined;
    const replay = key && (await this.replay(tenantId, key));
    if (replay) return replay;

    const domain = dto.companyProfile.domain.toLowerCase();
    if (await this.isDomainTaken(domain)) throw domainTaken();

    const password = generateAdminPassword();
    // Which unique key a violation hit: the MS-RequestId claim or the customer's domain.
    const progress: { stage: 'claim' | 'insert' } = { stage: 'claim' };
    try {
      const body = await this.transactions.run(async (manager) => {
        if (key) await this.idempotency.claim(manager, tenantId, key);
        progress.stage = 'insert';
        const companyName = dto.companyProfile.companyName ?? dto.billingProfile.companyName;
        const row = manager.create(CustomerEntity, {
          id: randomUUID(),
          partnerTenantId: tenantId,
          commerceId: randomUUID(),
          domain,
          companyName,
          companyNameKey: companyName.toLowerCase(),
          organizationRegistrationNumber: dto.companyProfile.organizationRegistrationNumber ?? null,
          relationshipToPartner: 'reseller',
          associatedPartnerId: normalizeGuid(dto.associatedPartnerId) ?? null,
          createdAt: new Date(),
        });
        await manager.insert(CustomerEntity, row);
        const billing = await this.billing.insertForCustomer(
          manager,
          tenantId,
          row.id,
          dto.billingProfile,
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
      if (progress.stage === 'insert') throw domainTaken();
      // A concurrent request with the same MS-RequestId won the claim: answer as it did.
      const answer = key && (await this.replay(tenantId, key));
      if (answer) return answer;
      throw new ApiError('requestIdReused', 'This MS-RequestId is being used by another request');
    }
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

  /** Deletes the customer with its billing profile and idempotency records (CONTRACT 6.5). */
  async remove(tenantId: string, id: string): Promise<void> {
    await this.transactions.run(async (manager) => {
      const owned = await manager.existsBy(CustomerEntity, { id, partnerTenantId: tenantId });
      if (!owned) throw notFound(CUSTOMER_NOT_FOUND);
      await this.idempotency.deleteForCustomer(manager, id);
      await this.billing.deleteForCustomer(manager, id);
      await manager.delete(CustomerEntity, { id, partnerTenantId: tenantId });
    });
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

  private async replay(tenantId: string, key: IdempotencyKey): Promise<CreateResult | undefined> {
    const answer = await this.idempotency.replayFor(tenantId, key);
    return answer && { ...answer, body: answer.body as CustomerResponseDto, replayed: true };
  }
}

function domainTaken(): ApiError {
  return new ApiError('domainTaken', 'The domain is already taken', [
    'companyProfile.domain is already taken',
  ]);
}
