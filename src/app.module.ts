import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AddressesModule } from './addresses/addresses.module';
import { BillingProfilesModule } from './billing/billing-profiles.module';
import { CommonModule } from './common/common.module';
import { ALL_CONFIG } from './config/configuration';
import { validateEnvironment } from './config/environment';
import { CustomersModule } from './customers/customers.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { RelationshipsModule } from './relationships/relationships.module';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      load: ALL_CONFIG,
      validate: (raw) => {
        validateEnvironment(raw);
        return raw;
      },
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
