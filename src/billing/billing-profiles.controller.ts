import { Body, Controller, Get, Headers, Param, Put, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiNotModifiedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { TenantId } from '../common/auth/auth.decorators';
import { ApiErrors } from '../common/errors/api-errors.decorator';
import { CustomerIdPipe } from '../common/ids/guid';
import { continuationTokenOf } from '../common/paging/page-query';
import { BillingProfilesService } from './billing-profiles.service';
import { BillingProfileChangeCollectionDto } from './dto/billing-profile-change-response.dto';
import { BillingProfileInputDto } from './dto/billing-profile-input.dto';
import {
  BillingProfileResponseDto,
  toBillingProfileResponse,
} from './dto/billing-profile-response.dto';
import { billingProfileExample } from './dto/examples';
import { matchesWeakly, parseEtagCondition, quoted } from './etags';

@ApiTags('Billing profiles')
@ApiBearerAuth()
@Controller('v1/customers/:customerTenantId/profiles/billing')
export class BillingProfilesController {
  constructor(private readonly billingProfiles: BillingProfilesService) {}

  @Get()
  @ApiOperation({ summary: "Get a customer's billing profile, with its etag" })
  @ApiHeader({ name: 'If-None-Match', required: false, description: '304 when it matches' })
  @ApiOkResponse({ type: BillingProfileResponseDto, description: 'With the ETag header' })
  @ApiNotModifiedResponse({ description: 'The profile still has the etag of If-None-Match' })
  @ApiErrors('invalidTenantId', 'notFound')
  async findOne(
    @TenantId() tenantId: string,
    @Param('customerTenantId', CustomerIdPipe) customerId: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BillingProfileResponseDto | undefined> {
    const row = await this.billingProfiles.findOwned(tenantId, customerId);
    reply.header('ETag', quoted(row.etag));
    const unchanged = parseEtagCondition(ifNoneMatch);
    if (unchanged && matchesWeakly(unchanged, row.etag)) {
      reply.status(304);
      return undefined;
    }
    return toBillingProfileResponse(row);
  }

  @Put()
  @ApiOperation({
    summary: "Replace a customer's billing profile",
    description:
      'The expected etag comes from If-Match (quoted, unquoted or *) and/or attributes.etag in ' +
      'the body; with neither, the update is unconditional. Every success returns a new etag.',
  })
  @ApiHeader({ name: 'If-Match', required: false })
  @ApiBody({
    type: BillingProfileInputDto,
    examples: { profile: { value: billingProfileExample() } },
  })
  @ApiOkResponse({ type: BillingProfileResponseDto, description: 'With the new ETag header' })
  @ApiErrors(
    'invalidTenantId',
    'invalidInput',
    'notFound',
    'etagStale',
    'bodyTooLarge',
    'unsupportedMediaType',
  )
  async replace(
    @TenantId() tenantId: string,
    @Param('customerTenantId', CustomerIdPipe) customerId: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Body() dto: BillingProfileInputDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<BillingProfileResponseDto> {
    const condition = parseEtagCondition(ifMatch);
    const profile = await this.billingProfiles.replace(tenantId, customerId, dto, condition);
    reply.header('ETag', quoted(profile.attributes.etag ?? ''));
    return profile;
  }

  @Get('history')
  @ApiOperation({ summary: 'The changes of a billing profile, newest first, seek-paged' })
  @ApiQuery({ name: 'size', required: false, description: '0–500; 0 or absent means 500' })
  @ApiQuery({ name: 'seekOperation', required: false, enum: ['Next'] })
  @ApiHeader({ name: 'MS-ContinuationToken', required: false })
  @ApiOkResponse({ type: BillingProfileChangeCollectionDto })
  @ApiErrors('invalidTenantId', 'invalidInput', 'notFound')
  async history(
    @TenantId() tenantId: string,
    @Param('customerTenantId', CustomerIdPipe) customerId: string,
    @Query('size') size: unknown,
    @Query('seekOperation') seekOperation: unknown,
    @Headers('ms-continuationtoken') token: string | undefined,
  ): Promise<BillingProfileChangeCollectionDto> {
    const continuation = continuationTokenOf(seekOperation, token);
    return this.billingProfiles.history(tenantId, customerId, size, continuation);
  }
}
