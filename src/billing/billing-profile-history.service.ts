import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { toCollection } from '../common/paging/collection';
import { ContinuationTokens, invalidToken } from '../common/paging/continuation-tokens';
import { isPageSize, parsePageSize } from '../common/paging/page-query';
import { BillingProfileChangeEntity } from './billing-profile-change.entity';
import { BillingProfileEntity } from './billing-profile.entity';
import {
  BillingProfileChangeCollectionDto,
  toBillingProfileChangeResponse,
} from './dto/billing-profile-change-response.dto';
import { toBillingProfileValues } from './dto/billing-profile-response.dto';

interface HistoryPosition {
  size: number;
  id: number;
}

/**
 * The history of billing-profile changes (CONTRACT 7.3): recorded in the transaction of each change,
 * listed newest first with the same seek paging as the customer list. A partner sees the changes it
 * made itself, so a customer that moved between partners leaks nothing of the previous owner.
 */
@Injectable()
export class BillingProfileHistoryService {
  constructor(
    @InjectRepository(BillingProfileChangeEntity)
    private readonly changes: Repository<BillingProfileChangeEntity>,
    private readonly tokens: ContinuationTokens,
  ) {}

  async record(
    manager: EntityManager,
    changedBy: string,
    before: BillingProfileEntity,
    after: BillingProfileEntity,
  ): Promise<void> {
    await manager.insert(BillingProfileChangeEntity, {
      customerId: before.customerId,
      changedBy,
      changedAt: after.updatedAt,
      beforeValues: JSON.stringify(toBillingProfileValues(before)),
      afterValues: JSON.stringify(toBillingProfileValues(after)),
    });
  }

  /** The caller must own the customer's billing profile (checked by the caller). */
  async list(
    tenantId: string,
    customerId: string,
    rawSize: unknown,
    continuationToken: string | undefined,
  ): Promise<BillingProfileChangeCollectionDto> {
    const scope = `billing-history:${customerId}`;
    const position = continuationToken
      ? this.decode(tenantId, scope, continuationToken)
      : undefined;
    const size = position?.size ?? parsePageSize(rawSize);

    const query = this.changes
      .createQueryBuilder('h')
      .where('h.customerId = :customerId', { customerId })
      .andWhere('h.changedBy = :tenantId', { tenantId })
      .orderBy('h.id', 'DESC')
      .limit(size + 1);
    if (position) query.andWhere('h.id < :after', { after: position.id });
    const rows = await query.getMany();

    const page = rows.slice(0, size);
    const last = page[page.length - 1];
    const next =
      rows.length > size && last
        ? this.tokens.encode(tenantId, scope, { size, id: last.id } satisfies HistoryPosition)
        : undefined;
    return toCollection(
      `/customers/${customerId}/profiles/billing/history`,
      size,
      page.map(toBillingProfileChangeResponse),
      next,
    );
  }

  private decode(tenantId: string, scope: string, token: string): HistoryPosition {
    const payload = this.tokens.decode(tenantId, scope, token);
    if (!isHistoryPosition(payload)) throw invalidToken();
    return payload;
  }
}

function isHistoryPosition(value: unknown): value is HistoryPosition {
  if (typeof value !== 'object' || value === null) return false;
  const { size, id } = value as Record<string, unknown>;
  return isPageSize(size) && Number.isInteger(id);
}
