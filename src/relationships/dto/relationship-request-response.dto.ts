import { ApiProperty } from '@nestjs/swagger';
import { ResourceAttributesDto } from '../../common/http/links';

/** CustomerRelationshipRequest (CONTRACT 5.5). */
export class RelationshipRequestResponseDto {
  @ApiProperty({
    description: 'The absolute URL the customer opens (or POSTs to, with its own token) to accept',
    example:
      'http://localhost:3000/v1/relationshiprequests/0b7c43f4-58a9-4c5e-9d0e-0d0f7b1c2a3e/acceptance?partnerId=8a4e1b2c-0d3f-4e5a-9b6c-7d8e9f0a1b2c',
  })
  url!: string;

  @ApiProperty({ type: ResourceAttributesDto, example: { objectType: 'RelationshipRequest' } })
  attributes!: ResourceAttributesDto;
}

export function toRelationshipRequestResponse(url: string): RelationshipRequestResponseDto {
  return { url, attributes: { objectType: 'RelationshipRequest' } };
}
