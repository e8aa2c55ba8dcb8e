import { Injectable, Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';

/**
 * Stopping without failing a request (SIGTERM from an orchestrator, Ctrl-C): at once
 * `/health/ready` answers 503 so that load balancers stop sending, every answer from then on says
 * `Connection: close`, idle keep-alive connections are closed and no new ones are accepted;
 * requests in flight finish; the process exits when the last connection is gone, or after
 * SHUTDOWN_TIMEOUT_MS at the latest, cutting what is left.
 */
@Injectable()
export class GracefulShutdown {
  private readonly logger = new Logger('Shutdown');
  private drainingSince?: number;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Every answer sent while draining, also one whose request arrived before, closes its socket. */
  register(fastify: FastifyInstance): void {
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      if (this.draining) reply.header('Connection', 'close');
      done(null, payload);
    });
  }

  /** Drains and closes the app; resolves once it is closed, whether drained or cut off. */
  async drain(app: NestFastifyApplication, signal: string, timeoutMs: number): Promise<void> {
    if (this.draining) return;
    this.drainingSince = Date.now();
    const server: Server = app.getHttpServer();
    const open = await connectionCount(server);
    this.logger.log(
      `${signal}: draining ${open} open connection(s), closing within ${timeoutMs} ms`,
    );
    // Idle keep-alive sockets would otherwise hold the close up; ask again while draining, as busy
    // sockets go idle after their last answer.
    server.closeIdleConnections();
    const sweeper = setInterval(() => server.closeIdleConnections(), 100);
    let timer: NodeJS.Timeout | undefined;
    const cutOff = new Promise<'cut'>((resolve) => {
      timer = setTimeout(() => resolve('cut'), timeoutMs);
    });
    const closing = app.close().then(() => 'drained' as const);
    const outcome = await Promise.race([closing, cutOff]);
    clearInterval(sweeper);
    clearTimeout(timer);
    if (outcome === 'cut') {
      const left = await connectionCount(server);
      server.closeAllConnections();
      await closing.catch(() => undefined);
      this.logger.warn(`Drain cut off after ${timeoutMs} ms: closed ${left} connection(s)`);
    } else {
      this.logger.log(`Drained in ${Date.now() - this.drainingSince} ms`);
    }
  }
}

function connectionCount(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.getConnections((error, count) => resolve(error ? 0 : count)),
  );
}
