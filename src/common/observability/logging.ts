import type { LoggerService } from '@nestjs/common';
import pino, { Logger as PinoLogger } from 'pino';

export type LogLevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * The one logger of the process: Fastify logs requests through it, and Nest's own lines (start-up,
 * errors, the database, the limiter) are routed into it by NestPinoLogger, so every line is one
 * JSON shape: `{"level":30,"time":…,"msg":…}` plus its fields. With tracing on, the OpenTelemetry
 * pino instrumentation adds `trace_id` and `span_id`.
 */
export function createRootLogger(level: string): PinoLogger {
  return pino({ level, base: { service: 'customer-service' } });
}

/** Nest's LoggerService on top of pino: Nest's context becomes the `context` field. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: PinoLogger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /**
   * Nest calls `logger.error(message, stack?, context?)` and `logger.log(message, context?)`: the
   * last string argument is the context, a string before it (for errors) the stack.
   */
  private write(level: Exclude<LogLevelName, 'silent'>, message: unknown, rest: unknown[]): void {
    const strings = rest.filter((value): value is string => typeof value === 'string');
    const context = strings.length > 0 ? strings[strings.length - 1] : undefined;
    const stack = level === 'error' && strings.length > 1 ? strings[0] : undefined;
    const fields = {
      ...(context && { context }),
      ...(stack && { stack }),
      ...(typeof message === 'object' && message !== null ? message : {}),
    };
    const text =
      typeof message === 'string'
        ? message
        : ((message as { message?: string } | null)?.message ?? undefined);
    this.logger[level](fields, text);
  }
}
