import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BillingProfileChangeEntity } from './billing-profile-change.entity';
import { BillingProfileHistoryService } from './billing-profile-history.service';
import { BillingProfileEntity } from './billing-profile.entity';
import { BillingProfilesController } from './billing-profiles.controller';
import { BillingProfilesService } from './billing-profiles.service';

@Module({
  imports: [TypeOrmModule.forFeature([BillingProfileEntity, BillingProfileChangeEntity])],
  controllers: [BillingProfilesController],
  providers: [BillingProfilesService, BillingProfileHistoryService],
  exports: [BillingProfilesService],
})
export class BillingProfilesModule {}
