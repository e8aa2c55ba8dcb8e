import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BillingProfileEntity } from './billing-profile.entity';
import { BillingProfilesService } from './billing-profiles.service';

@Module({
  imports: [TypeOrmModule.forFeature([BillingProfileEntity])],
  providers: [BillingProfilesService],
  exports: [BillingProfilesService],
})
export class BillingProfilesModule {}
