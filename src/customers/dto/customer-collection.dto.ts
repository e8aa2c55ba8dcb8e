import { ApiProperty } from '@nestjs/swagger';
import { CollectionDto } from '../../common/paging/collection';
import { CustomerResponseDto } from './customer-response.dto';

export class CustomerCollectionDto extends CollectionDto<CustomerResponseDto> {
  @ApiProperty({
    type: [CustomerResponseDto],
    description: 'Reduced customers (no billing profile)',
  })
  items!: CustomerResponseDto[];
}
