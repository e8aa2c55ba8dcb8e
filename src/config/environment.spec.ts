import { validateEnvironment } from './environment';

function problemsOf(raw: Record<string, string>): string {
  try {
    validateEnvironment(raw);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('validateEnvironment', () => {
  it('accepts an empty environment: every variable has a default', () => {
    expect(problemsOf({})).toBe('');
  });

  it('names every bad variable in one message, not just the first', () => {
    const message = problemsOf({
      PORT: 'eighty',
      THROTTLE_LIMIT: '-1',
      LOG_LEVEL: 'loud',
      PUBLIC_BASE_URL: 'not a url',
    });
    for (const name of ['PORT', 'THROTTLE_LIMIT', 'LOG_LEVEL', 'PUBLIC_BASE_URL']) {
      expect(message).toContain(name);
    }
  });

  it('refuses production without a way to verify tokens', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toContain('AUTH_JWT_SECRET or AUTH_JWKS_URI');
    expect(
      problemsOf({ NODE_ENV: 'production', AUTH_JWT_SECRET: 'a-secret-of-32-characters-000000' }),
    ).toBe('');
  });

  it('requires {requestId} in the relationship request URL template', () => {
    expect(
      problemsOf({ RELATIONSHIP_REQUEST_URL_TEMPLATE: 'https://portal.example/accept' }),
    ).toContain('RELATIONSHIP_REQUEST_URL_TEMPLATE');
    expect(
      problemsOf({
        RELATIONSHIP_REQUEST_URL_TEMPLATE:
          'https://portal.example/accept/{requestId}?p={partnerId}',
      }),
    ).toBe('');
  });
});
