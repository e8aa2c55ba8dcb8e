import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import { EntityManager, LessThanOrEqual, MoreThan } from 'typeorm';
import { invalidInput, notFound } from '../common/errors/error-catalogue';
import { normalizeGuid } from '../common/ids/guid';
import { relationshipsConfig } from '../config/configuration';
import { CustomerResponseDto } from '../customers/dto/customer-response.dto';
import { CustomersService } from '../customers/customers.service';
import { isUniqueViolation } from '../database/database-errors';
import { Transactions } from '../database/transactions';
import { AcceptRelationshipRequestDto } from './dto/accept-relationship-request.dto';
import {
  PartnerRelationshipCollectionDto,
  toPartnerRelationshipCollection,
} from './dto/partner-relationship-response.dto';
import {
  RelationshipRequestResponseDto,
  toRelationshipRequestResponse,
} from './dto/relationship-request-response.dto';
import { RelationshipRequestEntity } from './relationship-request.entity';

const REQUEST_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

const REQUEST_NOT_FOUND =
  'The relationship request does not exist, has expired or has already been accepted';

/**
 * An acceptance that creates a customer can lose a race on a unique key (the customer id, or a
 * domain that a concurrent POST /v1/customers takes): its transaction is rolled back and run again,
 * and then finds the customer and moves it, or answers 409 for the domain.
 */
const MAX_ACCEPT_ATTEMPTS = 3;

/** Relationship requests, their acceptance, and a customer's indirect reseller (CONTRACT 11). */
@Injectable()
export class RelationshipsService {
  constructor(
    @Inject(relationshipsConfig.KEY)
    private readonly config: ConfigType<typeof relationshipsConfig>,
    private readonly customers: CustomersService,
    private readonly transactions: Transactions,
  ) {}

  /**
   * `GET /v1/customers/relationshiprequests`: a fresh invitation, stored as pending for 30 days
   * (checked but not stored for a HEAD).
   */
  async createRequest(
    tenantId: string,
    query: Record<string, unknown>,
    checkOnly = false,
  ): Promise<RelationshipRequestResponseDto> {
    const indirectResellerId = optionalGuid(
      'indirectResellerId',
      queryValue(query, 'indirectResellerId'),
    );
    const now = new Date();
    const request: RelationshipRequestEntity = {
      id: randomUUID(),
      partnerTenantId: tenantId,
      indirectResellerId: indirectResellerId ?? null,
      status: 'pending',
      createdAt: now,
      expiresAt: new Date(now.getTime() + REQUEST_LIFETIME_MS),
      acceptedAt: null,
      customerId: null,
    };
    if (!checkOnly) {
      await this.transactions.run((manager) => manager.insert(RelationshipRequestEntity, request));
    }
    return toRelationshipRequestResponse(this.urlOf(request));
  }

  /**
   * `POST /v1/relationshiprequests/{requestId}/acceptance`, called by the customer's own tenant:
   * the caller's `tid` is the customer id, so nobody can accept on another tenant's behalf.
   * Claiming the request and attaching the customer are one transaction: a failure leaves the
   * request pending, and of concurrent acceptances of one request exactly one claims it.
   */
  async accept(
    customerId: string,
    requestId: string,
    rawPartnerId: unknown,
    dto: AcceptRelationshipRequestDto,
  ): Promise<CustomerResponseDto> {
    const partnerId = optionalGuid('partnerId', rawPartnerId);
    for (let attempt = 1; ; attempt++) {
      let customer: CustomerResponseDto | undefined;
      try {
        customer = await this.transactions.run((manager) =>
          this.acceptWithin(manager, customerId, requestId, partnerId, dto),
        );
      } catch (error) {
        if (isUniqueViolation(error) && attempt < MAX_ACCEPT_ATTEMPTS) continue;
        throw error;
      }
      if (!customer) throw notFound(REQUEST_NOT_FOUND);
      return customer;
    }
  }

  /** `GET /v1/customers/{id}/relationships`, for the customer's owner. */
  async findPartnerRelationships(
    tenantId: string,
    customerId: string,
  ): Promise<PartnerRelationshipCollectionDto> {
    const resellerId = await this.customers.findIndirectReseller(tenantId, customerId);
    return toPartnerRelationshipCollection(customerId, resellerId);
  }

  private async acceptWithin(
    manager: EntityManager,
    customerId: string,
    requestId: string,
    partnerId: string | undefined,
    dto: AcceptRelationshipRequestDto,
  ): Promise<CustomerResponseDto | undefined> {
    const now = new Date();
    // The claim is one conditional UPDATE: on MySQL a concurrent claim waits for this row lock and
    // then matches nothing; on SQLite writes are serialised anyway.
    const claim = await manager.update(
      RelationshipRequestEntity,
      {
        id: requestId,
        status: 'pending',
        expiresAt: MoreThan(now),
        ...(partnerId && { partnerTenantId: partnerId }),
      },
      { status: 'accepted', acceptedAt: now, customerId },
    );
    if (claim.affected !== 1) {
      // A pending request past its expiry is recorded as expired (the 404 is the same).
      await manager.update(
        RelationshipRequestEntity,
        { id: requestId, status: 'pending', expiresAt: LessThanOrEqual(now) },
        { status: 'expired' },
      );
      return undefined;
    }
    const request = await manager.findOneByOrFail(RelationshipRequestEntity, { id: requestId });
    if (customerId === request.partnerTenantId || customerId === request.indirectResellerId) {
      // A partner opening its own invitation must not turn itself into its own customer.
      throw invalidInput([
        "The relationship request must be accepted with a token of the customer's tenant, " +
          "not the inviting partner's or the indirect reseller's",
      ]);
    }
    return this.customers.attachToPartner(
      manager,
      request.partnerTenantId,
      customerId,
      request.indirectResellerId,
      dto,
    );
  }

  private urlOf(request: RelationshipRequestEntity): string {
    return this.config.urlTemplate
      .replaceAll('{partnerId}', encodeURIComponent(request.partnerTenantId))
      .replaceAll('{requestId}', encodeURIComponent(request.id));
  }
}

/**
 * A query parameter by its name in any case: `?indirectresellerid=` must not be silently ignored,
 * which would hand out an invitation without the reseller.
 */
function queryValue(query: Record<string, unknown>, name: string): unknown {
  const keys = Object.keys(query).filter((key) => key.toLowerCase() === name.toLowerCase());
  if (keys.length > 1) throw invalidInput([`${name} is given more than once`]);
  return keys.length === 1 ? query[keys[0]] : undefined;
}

/** An optional GUID parameter: absent or empty means none; anything else must be one GUID. */
function optionalGuid(name: string, raw: unknown): string | undefined {
  if (raw === undefined || (typeof raw === 'string' && raw.trim() === '')) return undefined;
  const id = normalizeGuid(raw);
  if (!id) throw invalidInput([`${name} must be a GUID`]);
  return id;
}
