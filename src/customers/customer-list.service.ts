import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository, SelectQueryBuilder } from 'typeorm';
import { toCollection } from '../common/paging/collection';
import { ContinuationTokens, invalidToken } from '../common/paging/continuation-tokens';
import { isSeekPosition, parsePageSize } from '../common/paging/page-query';
import { CustomerEntity } from './customer.entity';
import { CustomerFilter, LIKE_ESCAPE, likePrefix, parseCustomerFilter } from './customer-filter';
import { CustomerCollectionDto } from './dto/customer-collection.dto';
import { CustomerRow, toCustomerListItem } from './dto/customer-response.dto';

const TOKEN_SCOPE = 'customers';

interface ListPosition {
  size: number;
  filter: CustomerFilter | null;
  key: string;
  id: string;
}

type ListRow = CustomerRow & { companyNameKey: string };

/**
 * `GET /v1/customers` (CONTRACT 6.2): seek paging on (company_name_key, id), so every page is one
 * index range scan whatever its depth, and rows present for the whole walk are never skipped or
 * repeated while others come and go.
 */
@Injectable()
export class CustomerListService {
  constructor(
    @InjectRepository(CustomerEntity) private readonly customers: Repository<CustomerEntity>,
    private readonly tokens: ContinuationTokens,
  ) {}

  async list(
    tenantId: string,
    rawSize: unknown,
    rawFilter: unknown,
    continuationToken: string | undefined,
  ): Promise<CustomerCollectionDto> {
    // The token carries the size and the filter of the first page.
    const position = continuationToken ? this.decode(tenantId, continuationToken) : undefined;
    const size = position?.size ?? parsePageSize(rawSize);
    const filter = position ? position.filter : (parseCustomerFilter(rawFilter) ?? null);

    const rows = await this.pageQuery(tenantId, filter, position, size).getRawMany<ListRow>();
    const page = rows.slice(0, size);
    const last = page[page.length - 1];
    const next =
      rows.length > size && last
        ? this.tokens.encode(tenantId, TOKEN_SCOPE, {
            size,
            filter,
            key: last.companyNameKey,
            id: last.id,
          } satisfies ListPosition)
        : undefined;
    return toCollection('/customers', size, page.map(toCustomerListItem), next);
  }

  private pageQuery(
    tenantId: string,
    filter: CustomerFilter | null,
    after: ListPosition | undefined,
    size: number,
  ): SelectQueryBuilder<CustomerEntity> {
    const query = this.customers
      .createQueryBuilder('c')
      .select('c.id', 'id')
      .addSelect('c.commerceId', 'commerceId')
      .addSelect('c.domain', 'domain')
      .addSelect('c.companyName', 'companyName')
      .addSelect('c.companyNameKey', 'companyNameKey')
      .addSelect('c.relationshipToPartner', 'relationshipToPartner')
      .addSelect('c.associatedPartnerId', 'associatedPartnerId');

    if (filter?.field === 'IndirectCloudSolutionProvider') {
      // The caller is the indirect reseller; the value names the owning partner (section 11).
      query
        .where('c.associatedPartnerId = :tenantId', { tenantId })
        .andWhere('c.partnerTenantId = :owner', { owner: filter.value });
    } else {
      query.where('c.partnerTenantId = :tenantId', { tenantId });
    }
    if (filter?.field === 'CompanyName') {
      query.andWhere(`c.companyNameKey LIKE :prefix ESCAPE '${LIKE_ESCAPE}'`, {
        prefix: likePrefix(filter.value),
      });
    } else if (filter?.field === 'Domain') {
      query.andWhere(`c.domain LIKE :prefix ESCAPE '${LIKE_ESCAPE}'`, {
        prefix: likePrefix(filter.value),
      });
    } else if (filter?.field === 'IndirectReseller') {
      query.andWhere('c.associatedPartnerId = :reseller', { reseller: filter.value });
    }
    if (after) {
      query.andWhere('(c.companyNameKey > :key OR (c.companyNameKey = :key AND c.id > :id))', {
        key: after.key,
        id: after.id,
      });
    }
    return query
      .orderBy('c.companyNameKey', 'ASC')
      .addOrderBy('c.id', 'ASC')
      .limit(size + 1);
  }

  private decode(tenantId: string, token: string): ListPosition {
    const payload = this.tokens.decode(tenantId, TOKEN_SCOPE, token);
    if (!isSeekPosition(payload)) throw invalidToken();
    const { filter } = payload as { filter?: unknown };
    if (filter !== null && !isFilter(filter)) throw invalidToken();
    return payload as ListPosition;
  }
}

function isFilter(value: unknown): value is CustomerFilter {
  if (typeof value !== 'object' || value === null) return false;
  const { field, value: filterValue } = value as Record<string, unknown>;
  return typeof field === 'string' && typeof filterValue === 'string';
}
