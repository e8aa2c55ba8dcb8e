import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
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
import { CustomerListService } from './customer-list.service';
import { CustomersService } from './customers.service';
import { CreateCustomerDto } from './dto/create-customer.dto';
import { CustomerCollectionDto } from './dto/customer-collection.dto';
import { CompanyProfileResponseDto, CustomerResponseDto } from './dto/customer-response.dto';
import { UpdateCustomerDto } from './dto/update-customer.dto';
import { createCustomerExample } from './dto/examples';

@ApiTags('Customers')
@ApiBearerAuth()
@Controller('v1/customers')
export class CustomersController {
  constructor(
    private readonly customers: CustomersService,
    private readonly customerList: CustomerListService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Create a customer' })
  @ApiHeader({ name: 'MS-RequestId', required: false, description: 'Idempotency key (24 hours)' })
  @ApiBody({ type: CreateCustomerDto, examples: { customer: { value: createCustomerExample() } } })
  @ApiCreatedResponse({ type: CustomerResponseDto, description: 'With userCredentials' })
  @ApiErrors(
    'invalidInput',
    'domainTaken',
    'requestIdReused',
    'bodyTooLarge',
    'unsupportedMediaType',
  )
  async create(
    @TenantId() tenantId: string,
    @Headers('ms-requestid') requestId: string | undefined,
    @Body() dto: CreateCustomerDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CustomerResponseDto> {
    const result = await this.customers.create(tenantId, dto, requestId?.trim() || undefined);
    reply.status(result.status).header('Location', `/v1/customers/${result.body.id}`);
    if (result.replayed) reply.header('Idempotent-Replayed', 'true');
    return result.body;
  }

  @Get()
  @ApiOperation({ summary: 'List customers, filtered and seek-paged' })
  @ApiQuery({ name: 'size', required: false, description: '0–500; 0 or absent means 500' })
  @ApiQuery({
    name: 'filter',
    required: false,
    description: 'JSON: {"Field":"CompanyName","Value":"Con","Operator":"starts_with"}',
  })
  @ApiQuery({ name: 'seekOperation', required: false, enum: ['Next'] })
  @ApiHeader({ name: 'MS-ContinuationToken', required: false })
  @ApiOkResponse({ type: CustomerCollectionDto })
  @ApiErrors('invalidInput')
  list(
    @TenantId() tenantId: string,
    @Query('size') size: unknown,
    @Query('filter') filter: unknown,
    @Query('seekOperation') seekOperation: unknown,
    @Headers('ms-continuationtoken') token: string | undefined,
  ): Promise<CustomerCollectionDto> {
    const continuation = continuationTokenOf(seekOperation, token);
    return this.customerList.list(tenantId, size, filter, continuation);
  }

  @Get(':customerTenantId')
  @ApiOperation({ summary: 'Get a customer' })
  @ApiOkResponse({ type: CustomerResponseDto })
  @ApiErrors('invalidTenantId', 'notFound')
  findOne(
    @TenantId() tenantId: string,
    @Param('customerTenantId', CustomerIdPipe) id: string,
  ): Promise<CustomerResponseDto> {
    return this.customers.findOne(tenantId, id);
  }

  @Patch(':customerTenantId')
  @ApiOperation({ summary: 'Remove the reseller relationship (relationshipToPartner: none)' })
  @ApiBody({
    type: UpdateCustomerDto,
    examples: { none: { value: { relationshipToPartner: 'none' } } },
  })
  @ApiOkResponse({ type: CustomerResponseDto })
  @ApiErrors('invalidTenantId', 'invalidInput', 'notFound', 'relationshipMissing')
  removeRelationship(
    @TenantId() tenantId: string,
    @Param('customerTenantId', CustomerIdPipe) id: string,
    @Body() _dto: UpdateCustomerDto,
  ): Promise<CustomerResponseDto> {
    return this.customers.removeRelationship(tenantId, id);
  }

  @Delete(':customerTenantId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a customer' })
  @ApiNoContentResponse()
  @ApiErrors('invalidTenantId', 'notFound')
  remove(
    @TenantId() tenantId: string,
    @Param('customerTenantId', CustomerIdPipe) id: string,
  ): Promise<void> {
    return this.customers.remove(tenantId, id);
  }

  @Get(':customerTenantId/profiles/company')
  @ApiOperation({ summary: "Get a customer's company profile" })
  @ApiOkResponse({ type: CompanyProfileResponseDto })
  @ApiErrors('invalidTenantId', 'notFound')
  findCompanyProfile(
    @TenantId() tenantId: string,
    @Param('customerTenantId', CustomerIdPipe) id: string,
  ): Promise<CompanyProfileResponseDto> {
    return this.customers.findCompanyProfile(tenantId, id);
  }
}
