import { ApiProperty, OmitType } from '@nestjs/swagger';
import { ResourceAttributesDto } from '../../common/http/links';
import { CollectionDto } from '../../common/paging/collection';
import { BillingProfileChangeEntity } from '../billing-profile-change.entity';
import { BillingProfileResponseDto } from './billing-profile-response.dto';

/** The fields of a billing profile that a client writes: what a change is made of. */
export class BillingProfileValuesDto extends OmitType(BillingProfileResponseDto, [
  'id',
  'links',
  'attributes',
] as const) {}

export class BillingProfileChangeResponseDto {
  @ApiProperty({ format: 'date-time' })
  changedAt!: string;

  @ApiProperty({ format: 'uuid', description: 'The partner tenant that made the change' })
  changedBy!: string;

  @ApiProperty({ type: BillingProfileValuesDto })
  before!: BillingProfileValuesDto;

  @ApiProperty({ type: BillingProfileValuesDto })
  after!: BillingProfileValuesDto;

  @ApiProperty({ type: ResourceAttributesDto, example: { objectType: 'BillingProfileChange' } })
  attributes!: ResourceAttributesDto;
}

export class BillingProfileChangeCollectionDto extends CollectionDto<BillingProfileChangeResponseDto> {
  @ApiProperty({ type: [BillingProfileChangeResponseDto], description: 'Newest first' })
  items!: BillingProfileChangeResponseDto[];
}

export function toBillingProfileChangeResponse(
  row: BillingProfileChangeEntity,
): BillingProfileChangeResponseDto {
  return {
    changedAt: row.changedAt.toISOString(),
    changedBy: row.changedBy,
    before: JSON.parse(row.beforeValues) as BillingProfileValuesDto,
    after: JSON.parse(row.afterValues) as BillingProfileValuesDto,
    attributes: { objectType: 'BillingProfileChange' },
  };
}
