import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { Public } from '../common/auth/auth.decorators';
import { RETRY_AFTER_SECONDS } from '../common/errors/error-catalogue';
import { limiterStateOf, SlidingWindowStorage } from '../common/throttling/sliding-window.storage';
import { GracefulShutdown } from './graceful-shutdown';

const DATABASE_TIMEOUT_MS = 2_000;

@ApiTags('Health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly rateLimits: SlidingWindowStorage,
    private readonly shutdown: GracefulShutdown,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'The process is up' })
  @ApiOkResponse()
  live() {
    return { status: 'up' };
  }

  @Get('ready')
  @ApiOperation({
    summary: 'The database is reachable and the process is not shutting down',
    description:
      '`limiter` says where rate limits are counted: `shared` (in Redis), `degraded` (Redis is ' +
      'configured but unavailable: per instance) or `local` (no Redis configured). With Redis ' +
      'configured, `redis` says whether the shared rate-limit counters answer. Redis being ' +
      'down does not make the service unready: it then limits per instance (docs/contract.md, section 9).',
  })
  @ApiOkResponse()
  @ApiServiceUnavailableResponse()
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    if (this.shutdown.draining) {
      reply
        .status(HttpStatus.SERVICE_UNAVAILABLE)
        .header('Retry-After', String(RETRY_AFTER_SECONDS));
      return { status: 'shutting down' };
    }
    const [databaseUp, redis] = await Promise.all([
      this.databaseUp(),
      this.rateLimits.sharedState(),
    ]);
    const limiter = limiterStateOf(redis);
    const database = databaseUp ? 'up' : 'down';
    if (database === 'down')
      reply
        .status(HttpStatus.SERVICE_UNAVAILABLE)
        .header('Retry-After', String(RETRY_AFTER_SECONDS));
    return {
      status: database === 'up' ? 'up' : 'down',
      database,
      limiter,
      ...(redis && { redis }),
    };
  }

  private async databaseUp(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), DATABASE_TIMEOUT_MS);
    });
    const ping = this.dataSource.query('SELECT 1').then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([ping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
