import { Injectable, Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Stopping without failing a request (SIGTERM from an orchestrator, Ctrl-C): at once
 * `/health/ready` answers 503 so that load balancers stop sending, every answer from then on says
 * `Connection: close`, and idle keep-alive connections are closed; new connections are still
 * accepted for SHUTDOWN_DELAY_MS (until the load balancer has seen the 503), then no more; requests
 * in flight finish; the process exits when the last connection is gone, or after
 * SHUTDOWN_TIMEOUT_MS at the latest, cutting what is left.
 */
@Injectable()
export class GracefulShutdown {
  private readonly logger = new Logger('Shutdown');
  private drainingSince?: number;
  private readonly afterDrain: (() => void)[] = [];

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Also closed when the drain ends (the metrics listener). */
  onDrained(close: () => void): void {
    this.afterDrain.push(close);
  }

  /** Every answer sent while draining, also one whose request arrived before, closes its socket. */
  register(fastify: FastifyInstance): void {
    fastify.addHook('onSend', (_request, reply, payload, done) => {
      if (this.draining) reply.header('Connection', 'close');
      done(null, payload);
    });
  }

  /** Drains and closes the app; resolves once it is closed, whether drained or cut off. */
  async drain(
    app: NestFastifyApplication,
    signal: string,
    { timeoutMs, delayMs = 0 }: { timeoutMs: number; delayMs?: number },
  ): Promise<void> {
    if (this.draining) return;
    this.drainingSince = Date.now();
    const server: Server = app.getHttpServer();
    const open = await connectionCount(server);
    this.logger.log(
      `${signal}: draining ${open} open connection(s), accepting new ones for ${delayMs} ms, ` +
        `closing within ${timeoutMs} ms`,
    );
    // Idle keep-alive sockets would otherwise hold the close up; ask again while draining, as busy
    // sockets go idle after their last answer.
    server.closeIdleConnections();
    const sweeper = setInterval(() => server.closeIdleConnections(), 100);
    let timer: NodeJS.Timeout | undefined;
    const cutOff = new Promise<'cut'>((resolve) => {
      timer = setTimeout(() => resolve('cut'), timeoutMs);
    });
    // Load balancers notice the 503 only at their next health check: until then new connections are
    // still accepted (and answered with Connection: close) rather than refused.
    const closing = sleep(Math.min(delayMs, timeoutMs))
      .then(() => app.close())
      .then(() => 'drained' as const);
    const outcome = await Promise.race([closing, cutOff]);
    clearInterval(sweeper);
    clearTimeout(timer);
    for (const close of this.afterDrain) close();
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
