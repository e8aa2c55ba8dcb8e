import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth/auth.guard';
import { TokenVerifier } from './auth/token-verifier.service';
import { Metrics } from './observability/metrics';
import { ContinuationTokens } from './paging/continuation-tokens';
import { PreRouteThrottle } from './throttling/pre-route-throttle';
import { TenantThrottlerGuard } from './throttling/tenant-throttler.guard';
import { ThrottlingModule } from './throttling/throttling.module';

@Global()
@Module({
  imports: [ThrottlingModule],
  providers: [
    TokenVerifier,
    ContinuationTokens,
    AuthGuard,
    TenantThrottlerGuard,
    // One guard authenticates and then rate-limits: the limit needs the verified tenant (CONTRACT 9).
    { provide: APP_GUARD, useExisting: TenantThrottlerGuard },
    PreRouteThrottle,
    Metrics,
  ],
  exports: [TokenVerifier, ContinuationTokens, ThrottlingModule, PreRouteThrottle, Metrics],
})
export class CommonModule {}
