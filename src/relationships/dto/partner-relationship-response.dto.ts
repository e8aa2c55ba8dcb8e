import { ApiProperty } from '@nestjs/swagger';
import { link, ResourceAttributesDto } from '../../common/http/links';
import { CollectionDto } from '../../common/paging/collection';

/** PartnerRelationship (CONTRACT section 11): the indirect reseller of a customer. */
export class PartnerRelationshipResponseDto {
  @ApiProperty({ format: 'uuid', description: "The indirect reseller's tenant id" })
  id!: string;

  @ApiProperty({
    format: 'uuid',
    description:
      'The service keeps no directory of partner names, so this is the reseller tenant id too',
  })
  name!: string;

  @ApiProperty({ enum: ['is_indirect_reseller_of'] })
  relationshipType!: 'is_indirect_reseller_of';

  @ApiProperty({ enum: ['active'] })
  state!: 'active';

  @ApiProperty({ type: ResourceAttributesDto, example: { objectType: 'PartnerRelationship' } })
  attributes!: ResourceAttributesDto;
}

export class PartnerRelationshipCollectionDto extends CollectionDto<PartnerRelationshipResponseDto> {
  @ApiProperty({
    type: [PartnerRelationshipResponseDto],
    description: "The customer's indirect reseller; empty when it has none",
  })
  items!: PartnerRelationshipResponseDto[];
}

/** The whole collection in one page: a customer has at most one indirect reseller. */
export function toPartnerRelationshipCollection(
  customerId: string,
  resellerId: string | null,
): PartnerRelationshipCollectionDto {
  const items: PartnerRelationshipResponseDto[] = resellerId
    ? [
        {
          id: resellerId,
          name: resellerId,
          relationshipType: 'is_indirect_reseller_of',
          state: 'active',
          attributes: { objectType: 'PartnerRelationship' },
        },
      ]
    : [];
  return {
    totalCount: items.length,
    items,
    links: { self: link(`/customers/${customerId}/relationships`) },
    attributes: { objectType: 'Collection' },
  };
}
