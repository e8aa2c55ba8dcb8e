import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BillingProfilesModule } from '../billing/billing-profiles.module';
import { CustomerEntity } from './customer.entity';
import { CustomerListService } from './customer-list.service';
import { CustomersController } from './customers.controller';
import { CustomersService } from './customers.service';
import { DomainsController } from './domains.controller';
import { CustomerDomainConstraint } from './dto/customer-domain.validator';
import { IdempotencyRecordEntity } from './idempotency-record.entity';
import { IdempotencyService } from './idempotency.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([CustomerEntity, IdempotencyRecordEntity]),
    BillingProfilesModule,
  ],
  controllers: [CustomersController, DomainsController],
  providers: [CustomersService, CustomerListService, IdempotencyService, CustomerDomainConstraint],
  exports: [CustomersService],
})
export class CustomersModule {}
