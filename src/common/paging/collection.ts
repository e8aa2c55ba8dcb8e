import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { link, LinkDto, ResourceAttributesDto } from '../http/links';

export class CollectionLinksDto {
  @ApiProperty({ type: LinkDto })
  self!: LinkDto;

  @ApiPropertyOptional({
    type: LinkDto,
    description: 'Present unless this is the last page; follow it exactly (uri and headers)',
  })
  next?: LinkDto;
}

/** A page of a collection (CONTRACT 5.6). Subclasses declare `items` for Swagger. */
export abstract class CollectionDto<T> {
  @ApiProperty({ description: 'The number of items in this page' })
  totalCount!: number;

  abstract items: T[];

  @ApiPropertyOptional({ description: 'Present unless this is the last page' })
  continuationToken?: string;

  @ApiProperty({ type: CollectionLinksDto })
  links!: CollectionLinksDto;

  @ApiProperty({ type: ResourceAttributesDto })
  attributes!: ResourceAttributesDto;
}

/**
 * A page, with `links.next` pointing at `<path>?size=<n>&seekOperation=Next` and the token in the
 * MS-ContinuationToken header, as the SDKs follow it.
 */
export function toCollection<T>(
  path: string,
  size: number,
  items: T[],
  continuationToken: string | undefined,
): CollectionDto<T> {
  const next = continuationToken
    ? link(`${path}?size=${size}&seekOperation=Next`, 'GET', [
        { key: 'MS-ContinuationToken', value: continuationToken },
      ])
    : undefined;
  return {
    totalCount: items.length,
    items,
    continuationToken,
    links: { self: link(`${path}?size=${size}`), next },
    attributes: { objectType: 'Collection' },
  };
}
