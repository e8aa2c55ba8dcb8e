import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AddressesModule } from './addresses/addresses.module';
import { BillingProfilesModule } from './billing/billing-profiles.module';
import { CommonModule } from './common/common.module';
import { ALL_CONFIG } from './config/configuration';
import { CustomersModule } from './customers/customers.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { RelationshipsModule } from './relationships/relationships.module';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      // Each namespace reads the environment validated once per start (readEnvironment): forRoot
      // itself runs when this file is imported, before a test or main.ts has set the environment.
      load: ALL_CONFIG,
    }),
    DatabaseModule,
    CommonModule,
    CustomersModule,
    BillingProfilesModule,
    AddressesModule,
    RelationshipsModule,
    HealthModule,
  ],
})
export class AppModule {}
