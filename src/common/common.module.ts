import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth/auth.guard';
import { TokenVerifier } from './auth/token-verifier.service';
import { ContinuationTokens } from './paging/continuation-tokens';

@Global()
@Module({
  providers: [TokenVerifier, ContinuationTokens, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [TokenVerifier, ContinuationTokens],
})
export class CommonModule {}
