/**
 * Loaded before anything else in main.ts: `.env` first (so that it can configure tracing too), then
 * OpenTelemetry, which must hook `http`, `mysql2`, `ioredis` and `pino` before they are loaded.
 * Without OTEL_EXPORTER_OTLP_ENDPOINT no OpenTelemetry package is even loaded.
 */
import { loadEnvFile } from './config/environment';
import { startTracingIfConfigured } from './common/observability/tracing';

loadEnvFile();
startTracingIfConfigured();
