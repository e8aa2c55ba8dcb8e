import { Controller, Head, HttpCode, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { TenantId } from '../common/auth/auth.decorators';
import { ApiErrors } from '../common/errors/api-errors.decorator';
import { notFound } from '../common/errors/error-catalogue';
import { CustomersService } from './customers.service';

@ApiTags('Customers')
@ApiBearerAuth()
@Controller('v1/domains')
export class DomainsController {
  constructor(private readonly customers: CustomersService) {}

  @Head(':domain')
  @HttpCode(200)
  @ApiOperation({ summary: 'Is the domain taken (by any customer of any partner)?' })
  @ApiOkResponse({ description: 'Taken' })
  @ApiErrors('notFound')
  async checkDomain(@TenantId() _tenantId: string, @Param('domain') domain: string): Promise<void> {
    if (!(await this.customers.isDomainTaken(domain))) throw notFound('The domain is free');
  }
}
