import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class LinkHeaderDto {
  @ApiProperty({ example: 'MS-ContinuationToken' })
  key!: string;

  @ApiProperty()
  value!: string;
}

/**
 * `uri` is relative to the API root and never starts with /v1 (CONTRACT 5.6): the Java SDK
 * prepends /v1 itself. `headers` is always present.
 */
export class LinkDto {
  @ApiProperty({ example: '/customers/6a0e1b4c-2b6f-4f43-9c3d-8a1b2c3d4e5f' })
  uri!: string;

  @ApiProperty({ example: 'GET' })
  method!: string;

  @ApiProperty({ type: [LinkHeaderDto] })
  headers!: LinkHeaderDto[];
}

export class ResourceLinksDto {
  @ApiPropertyOptional({ type: LinkDto })
  self?: LinkDto;

  @ApiPropertyOptional({ type: LinkDto })
  next?: LinkDto;

  @ApiPropertyOptional({ type: LinkDto })
  previous?: LinkDto;
}

export class ResourceAttributesDto {
  @ApiPropertyOptional()
  etag?: string;

  @ApiProperty({ example: 'Customer' })
  objectType!: string;
}

export function link(uri: string, method = 'GET', headers: LinkHeaderDto[] = []): LinkDto {
  return { uri, method, headers };
}

export function selfLinks(uri: string): ResourceLinksDto {
  return { self: link(uri) };
}

/** null (from a nullable column) becomes absent: responses leave out unset properties. */
export function present<T>(value: T | null | undefined): T | undefined {
  return value ?? undefined;
}
