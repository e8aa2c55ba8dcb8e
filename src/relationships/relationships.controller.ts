import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TenantId } from '../common/auth/auth.decorators';
import { ApiErrors } from '../common/errors/api-errors.decorator';
import { CustomerIdPipe, GuidParamPipe } from '../common/ids/guid';
import { CustomerResponseDto } from '../customers/dto/customer-response.dto';
import { createCustomerExample } from '../customers/dto/examples';
import { AcceptRelationshipRequestDto } from './dto/accept-relationship-request.dto';
import { PartnerRelationshipCollectionDto } from './dto/partner-relationship-response.dto';
import { RelationshipRequestResponseDto } from './dto/relationship-request-response.dto';
import { RelationshipsService } from './relationships.service';

@ApiTags('Relationships')
@ApiBearerAuth()
@Controller('v1')
export class RelationshipsController {
  constructor(private readonly relationships: RelationshipsService) {}

  // A literal segment: Fastify's router matches it before `customers/:customerTenantId`.
  @Get('customers/relationshiprequests')
  @ApiOperation({
    summary: 'Create a relationship request: an invitation URL for a customer',
    description:
      'Each call stores a new request of the calling partner (and of the indirect reseller, when ' +
      'given), pending for 30 days. The customer accepts it by POSTing to the acceptance endpoint ' +
      'with a token of its own tenant.',
  })
  @ApiQuery({
    name: 'indirectResellerId',
    required: false,
    schema: { type: 'string', format: 'uuid' },
    description: 'The indirect reseller the customer will be associated with (name in any case)',
  })
  @ApiOkResponse({ type: RelationshipRequestResponseDto })
  @ApiErrors('invalidInput')
  createRequest(
    @TenantId() tenantId: string,
    @Query() query: Record<string, unknown>,
    @Req() request: FastifyRequest,
  ): Promise<RelationshipRequestResponseDto> {
    // Fastify answers HEAD with this handler too; a HEAD must not store an invitation.
    return this.relationships.createRequest(tenantId, query, request.method === 'HEAD');
  }

  @Post('relationshiprequests/:requestId/acceptance')
  @ApiOperation({
    summary: "Accept a relationship request, with a token of the customer's own tenant",
    description:
      "This service's extension (Partner Center accepts in its admin portal). The caller's `tid` " +
      'is the customer id. A customer new to the service sends its company and billing profile, ' +
      'validated as in POST /v1/customers; a customer the service knows sends an empty body and ' +
      'moves to the inviting partner with its billing profile. Either way it becomes the ' +
      "partner's `reseller` customer, associated with the request's indirect reseller (or none). " +
      'Unknown, expired and already accepted requests are 404.',
  })
  @ApiParam({ name: 'requestId', schema: { type: 'string', format: 'uuid' } })
  @ApiQuery({
    name: 'partnerId',
    required: false,
    schema: { type: 'string', format: 'uuid' },
    description: 'As in the invitation URL; when given it must be the inviting partner',
  })
  @ApiBody({
    type: AcceptRelationshipRequestDto,
    required: false,
    examples: {
      newCustomer: { summary: 'A customer new to the service', value: createCustomerExample() },
      existingCustomer: { summary: 'A customer the service knows', value: {} },
    },
  })
  @ApiCreatedResponse({
    type: CustomerResponseDto,
    description: 'The customer as the inviting partner sees it; Location: /v1/customers/{id}',
  })
  @ApiErrors('invalidInput', 'notFound', 'domainTaken', 'bodyTooLarge', 'unsupportedMediaType')
  async accept(
    @TenantId() customerId: string,
    @Param('requestId', new GuidParamPipe('requestId')) requestId: string,
    @Query('partnerId') partnerId: unknown,
    @Body() dto: AcceptRelationshipRequestDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CustomerResponseDto> {
    const customer = await this.relationships.accept(customerId, requestId, partnerId, dto);
    reply.header('Location', `/v1/customers/${customer.id}`);
    return customer;
  }

  @Get('customers/:customerTenantId/relationships')
  @ApiOperation({ summary: "A customer's partner relationships: its indirect reseller" })
  @ApiOkResponse({ type: PartnerRelationshipCollectionDto })
  @ApiErrors('invalidTenantId', 'notFound')
  findPartnerRelationships(
    @TenantId() tenantId: string,
    @Param('customerTenantId', CustomerIdPipe) customerId: string,
  ): Promise<PartnerRelationshipCollectionDto> {
    return this.relationships.findPartnerRelationships(tenantId, customerId);
  }
}
