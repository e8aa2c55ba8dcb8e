import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnvFile, readEnvironment, validateEnvironment } from './environment';

function problemsOf(raw: Record<string, string>): string {
  try {
    validateEnvironment(raw);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('validateEnvironment', () => {
  it('accepts an empty development environment: every variable has a default', () => {
    expect(problemsOf({ NODE_ENV: 'development' })).toBe('');
    expect(validateEnvironment({}, { requireTokenKeys: false })).toBeDefined();
  });

  it('names every bad variable in one message, not just the first', () => {
    const message = problemsOf({
      NODE_ENV: 'development',
      PORT: 'eighty',
      THROTTLE_LIMIT: '-1',
      LOG_LEVEL: 'loud',
      PUBLIC_BASE_URL: 'not a url',
    });
    for (const name of ['PORT', 'THROTTLE_LIMIT', 'LOG_LEVEL', 'PUBLIC_BASE_URL']) {
      expect(message).toContain(name);
    }
  });

  it('refuses any start but development mode without a way to verify tokens', () => {
    for (const NODE_ENV of [undefined, 'production', 'test']) {
      const message = problemsOf(NODE_ENV ? { NODE_ENV } : {});
      expect(message).toContain('AUTH_JWT_SECRET');
      expect(message).toContain('AUTH_JWKS_URI');
      expect(message).toContain('NODE_ENV=development');
    }
    expect(problemsOf({ AUTH_JWT_SECRET: 'a-secret-of-32-characters-000000' })).toBe('');
    expect(problemsOf({ AUTH_JWKS_URI: 'https://login.example/keys' })).toBe('');
  });

  it('validates once per environment, again when a variable changes', () => {
    const raw: Record<string, string> = { NODE_ENV: 'development', PORT: '3001' };
    const first = readEnvironment(raw);
    expect(readEnvironment({ ...raw })).toBe(first);
    raw.PORT = '3002';
    expect(readEnvironment(raw)).not.toBe(first);
    expect(readEnvironment(raw).PORT).toBe(3002);
  });

  it('reads .env without overriding the real environment', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'env-')), '.env');
    writeFileSync(file, 'ENV_SPEC_FROM_FILE=file\nENV_SPEC_BOTH=file\n');
    process.env.ENV_SPEC_BOTH = 'real';
    try {
      loadEnvFile(file);
      expect(process.env.ENV_SPEC_FROM_FILE).toBe('file');
      expect(process.env.ENV_SPEC_BOTH).toBe('real');
      expect(() => loadEnvFile(join(tmpdir(), 'no-such-dir', '.env'))).not.toThrow();
    } finally {
      delete process.env.ENV_SPEC_FROM_FILE;
      delete process.env.ENV_SPEC_BOTH;
    }
  });

  it('requires {requestId} in the relationship request URL template', () => {
    expect(
      problemsOf({
        NODE_ENV: 'development',
        RELATIONSHIP_REQUEST_URL_TEMPLATE: 'https://portal.example/accept',
      }),
    ).toContain('RELATIONSHIP_REQUEST_URL_TEMPLATE');
    expect(
      problemsOf({
        NODE_ENV: 'development',
        RELATIONSHIP_REQUEST_URL_TEMPLATE:
          'https://portal.example/accept/{requestId}?p={partnerId}',
      }),
    ).toBe('');
  });
});
