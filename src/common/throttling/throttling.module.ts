import { Module } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { getOptionsToken, getStorageToken } from '@nestjs/throttler';
import { throttleConfig } from '../../config/configuration';
import { RedisSlidingWindow } from './redis-sliding-window';
import { MemorySlidingWindow } from './sliding-window';
import { SlidingWindowStorage } from './sliding-window.storage';
import { throttlerOptions } from './throttler-options';

/**
 * What @nestjs/throttler's guard needs (its options and storage), provided directly rather than
 * through ThrottlerModule so that the storage is ours: the sliding window, shared through Redis
 * when REDIS_URL is set. The guard itself is registered by CommonModule, after authentication.
 */
@Module({
  providers: [
    {
      provide: SlidingWindowStorage,
      inject: [throttleConfig.KEY],
      useFactory: (config: ConfigType<typeof throttleConfig>) =>
        new SlidingWindowStorage(
          new MemorySlidingWindow(),
          config.redisUrl || config.redisSentinels
            ? new RedisSlidingWindow({
                url: config.redisUrl,
                sentinels: config.redisSentinels,
                sentinelName: config.redisSentinelName,
              })
            : undefined,
        ),
    },
    { provide: getStorageToken(), useExisting: SlidingWindowStorage },
    { provide: getOptionsToken(), inject: [throttleConfig.KEY], useFactory: throttlerOptions },
  ],
  exports: [SlidingWindowStorage, getStorageToken(), getOptionsToken()],
})
export class ThrottlingModule {}
