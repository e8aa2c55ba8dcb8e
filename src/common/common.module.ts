import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth/auth.guard';
import { TokenVerifier } from './auth/token-verifier.service';
import { ContinuationTokens } from './paging/continuation-tokens';
import { TenantThrottlerGuard } from './throttling/tenant-throttler.guard';
import { ThrottlingModule } from './throttling/throttling.module';

@Global()
@Module({
  imports: [ThrottlingModule],
  providers: [
    TokenVerifier,
    ContinuationTokens,
    AuthGuard,
    // One guard authenticates and then rate-limits: the limit needs the verified tenant (CONTRACT 9).
    { provide: APP_GUARD, useClass: TenantThrottlerGuard },
  ],
  exports: [TokenVerifier, ContinuationTokens, ThrottlingModule],
})
export class CommonModule {}
