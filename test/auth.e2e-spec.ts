import { createSigner } from 'fast-jwt';
import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { DEVELOPMENT_JWT_SECRET } from '../src/config/configuration';
import { errorBody } from './support/errors';
import { TestApp, useTestApp } from './support/test-app';
import { newTenant, TEST_JWT_SECRET, tokenFor } from './support/tokens';

// Token verification (CONTRACT section 3) against a JWKS endpoint of the spec's own, and with the
// shared secret. Verification does not depend on the database, so this runs on the embedded one.
// The rotation tests wait out the refetch cooldown for real (AUTH_JWKS_REFETCH_INTERVAL_MS, shortened).

type Server = TestApp['server'];

const ISSUER = 'https://issuer.example.test/';
const AUDIENCE = 'api://customer-service';
const ISSUER_TEMPLATE = 'https://login.example.test/{tid}/v2.0';
const JWKS_PATH = '/discovery/v2.0/keys';
const COOLDOWN_MS = 3_000;
const INVALID_TOKEN = 'Bearer realm="CustomerService", error="invalid_token"';
// Rejected tokens count against the per-IP anonymous budget; rate limiting is not under test here.
const NO_ANONYMOUS_LIMIT = { THROTTLE_ANONYMOUS_LIMIT: '100000' };

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privatePem: string;
  publicPem: string;
  jwk: Record<string, unknown>;
}

function newKey(alg: SigningKey['alg'], kid: string = randomUUID()): SigningKey {
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    kid,
    alg,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
  };
}

const seconds = () => Math.floor(Date.now() / 1000);

/** A complete, valid claim set for the tenant; a change set to undefined removes the claim. */
function claims(tenant: string, changes: Record<string, unknown> = {}): Record<string, unknown> {
  const all: Record<string, unknown> = {
    tid: tenant,
    iss: ISSUER,
    aud: AUDIENCE,
    exp: seconds() + 3600,
    ...changes,
  };
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

function sign(key: SigningKey, payload: Record<string, unknown>, kid: string = key.kid): string {
  return createSigner({ key: key.privatePem, algorithm: key.alg, kid })(payload);
}

function signHs256(secret: string, payload: Record<string, unknown>): string {
  return createSigner({ key: secret, algorithm: 'HS256' })(payload);
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token put together by hand, HMAC-SHA256-signed with `secret` (or unsigned without one). */
function handMade(header: object, payload: object, secret?: string): string {
  const input = `${base64url(header)}.${base64url(payload)}`;
  const signature = secret ? createHmac('sha256', secret).update(input).digest('base64url') : '';
  return `${input}.${signature}`;
}

/** A JWKS endpoint on a free loopback port that counts how often it is fetched. */
class JwksServer {
  fetches = 0;
  lastFetchAt = 0;
  private readonly server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== JWKS_PATH) {
      res.writeHead(404).end();
      return;
    }
    this.fetches++;
    this.lastFetchAt = Date.now();
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify({ keys: this.keys.map((key) => key.jwk) }));
  });

  constructor(private keys: SigningKey[]) {}

  /** From now on the endpoint serves this set (the provider rotated its keys). */
  serve(keys: SigningKey[]): void {
    this.keys = keys;
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}${JWKS_PATH}`;
  }

  async stop(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Until the service may fetch the set again (jose's cooldown since the last fetch). */
  async waitOutCooldown(): Promise<void> {
    await sleep(Math.max(0, this.lastFetchAt + COOLDOWN_MS + 1_000 - Date.now()));
  }
}

/**
 * The app verifying RS256/ES256 tokens with the keys of a JWKS server of its own, and no shared
 * secret (an empty AUTH_JWT_SECRET counts as unset). The server starts before the app boots.
 */
function useJwksApp(
  keys: SigningKey[],
  env: Record<string, string>,
): { t: TestApp; jwks: JwksServer } {
  const jwks = new JwksServer(keys);
  const appEnv: Record<string, string> = {
    AUTH_JWT_SECRET: '',
    AUTH_JWKS_URI: '',
    ...NO_ANONYMOUS_LIMIT,
    ...env,
  };
  beforeAll(async () => {
    appEnv.AUTH_JWKS_URI = await jwks.start();
  });
  const t = useTestApp('sqlite', appEnv);
  afterAll(() => jwks.stop());
  return { t, jwks };
}

function list(server: Server, token?: string) {
  const call = request(server).get('/v1/customers?size=1');
  return token === undefined ? call : call.set('Authorization', `Bearer ${token}`);
}

async function expectAccepted(server: Server, token: string): Promise<void> {
  const response = await list(server, token);
  expect({ status: response.status, body: response.body }).toEqual({
    status: 200,
    body: expect.objectContaining({ items: [] }),
  });
}

async function expectRejected(server: Server, token: string): Promise<void> {
  const response = await list(server, token);
  expect(response.status).toBe(401);
  expect(response.body).toEqual(errorBody(800001));
  expect(response.headers['www-authenticate']).toBe(INVALID_TOKEN);
}

describe('tokens verified with JWKS keys, AUTH_ISSUER and AUTH_AUDIENCE', () => {
  const rsa = newKey('RS256');
  const ec = newKey('ES256');
  const foreignRsa = newKey('RS256');
  const foreignEc = newKey('ES256');
  const { t, jwks } = useJwksApp([rsa, ec], { AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE });

  it('accepts RS256 and ES256 tokens with the right kid, iss, aud, exp and tid', async () => {
    await expectAccepted(t.server, sign(rsa, claims(newTenant())));
    await expectAccepted(t.server, sign(ec, claims(newTenant())));
    // Both keys came from one fetch of the set, which is then cached.
    expect(jwks.fetches).toBe(1);
  });

  it('answers 401 with a realm-only challenge when there is no token', async () => {
    const response = await list(t.server);
    expect(response.status).toBe(401);
    expect(response.body).toEqual(errorBody(800001));
    expect(response.headers['www-authenticate']).toBe('Bearer realm="CustomerService"');
  });

  const rejected: [string, (tenant: string) => string][] = [
    ['no exp', (tenant) => sign(rsa, claims(tenant, { exp: undefined }))],
    ['an expired exp (ES256)', (tenant) => sign(ec, claims(tenant, { exp: seconds() - 60 }))],
    ['an expired exp (RS256)', (tenant) => sign(rsa, claims(tenant, { exp: seconds() - 60 }))],
    ['an nbf in the future', (tenant) => sign(rsa, claims(tenant, { nbf: seconds() + 600 }))],
    ['no iss', (tenant) => sign(rsa, claims(tenant, { iss: undefined }))],
    ['a wrong iss', (tenant) => sign(ec, claims(tenant, { iss: 'https://evil.example.test/' }))],
    ['no aud', (tenant) => sign(rsa, claims(tenant, { aud: undefined }))],
    ['a wrong aud', (tenant) => sign(ec, claims(tenant, { aud: 'api://another-service' }))],
    ['no tid', (tenant) => sign(rsa, claims(tenant, { tid: undefined }))],
    ['a tid that is not a GUID', () => sign(rsa, claims('contoso'))],
    ['a numeric tid', () => sign(ec, claims('', { tid: 42 }))],
    [
      'alg none',
      (tenant) => handMade({ alg: 'none', typ: 'JWT', kid: rsa.kid }, claims(tenant, {})),
    ],
    [
      'HS256 signed with the RSA public key PEM as secret (algorithm confusion)',
      (tenant) =>
        handMade({ alg: 'HS256', typ: 'JWT', kid: rsa.kid }, claims(tenant), rsa.publicPem),
    ],
    [
      'HS256 signed with the EC public key PEM as secret (algorithm confusion)',
      (tenant) => handMade({ alg: 'HS256', typ: 'JWT', kid: ec.kid }, claims(tenant), ec.publicPem),
    ],
    [
      'HS256 signed with the JWK JSON as secret (algorithm confusion)',
      (tenant) =>
        handMade(
          { alg: 'HS256', typ: 'JWT', kid: rsa.kid },
          claims(tenant),
          JSON.stringify(rsa.jwk),
        ),
    ],
    [
      'an RS256 signature by a key not in the set (under the kid of one in it)',
      (tenant) => sign(foreignRsa, claims(tenant), rsa.kid),
    ],
    [
      'an ES256 signature by a key not in the set (under the kid of one in it)',
      (tenant) => sign(foreignEc, claims(tenant), ec.kid),
    ],
    [
      'an RS256 signature by a key not in the set (under its own kid)',
      (tenant) => sign(foreignRsa, claims(tenant)),
    ],
    ['a kid not in the set', (tenant) => sign(rsa, claims(tenant), 'no-such-kid')],
    // AUTH_JWT_SECRET is empty here: no HS256 secret, neither the tests' nor the development one.
    [
      'HS256 signed with the e2e test secret',
      (tenant) => signHs256(TEST_JWT_SECRET, claims(tenant)),
    ],
    [
      'HS256 signed with the development secret',
      (tenant) => signHs256(DEVELOPMENT_JWT_SECRET, claims(tenant)),
    ],
    [
      'an ES256 header on a token signed with the RSA key',
      (tenant) => {
        const token = sign(rsa, claims(tenant));
        const [, payload, signature] = token.split('.');
        return `${base64url({ alg: 'ES256', typ: 'JWT', kid: ec.kid })}.${payload}.${signature}`;
      },
    ],
  ];

  it.each(rejected)('answers 401 / 800001 to a token with %s', async (_name, make) => {
    await expectRejected(t.server, make(newTenant()));
  });
});

describe('tokens verified with JWKS keys and a per-tenant AUTH_ISSUER ({tid})', () => {
  const rsa = newKey('RS256');
  const ec = newKey('ES256');
  const { t } = useJwksApp([rsa, ec], { AUTH_ISSUER: ISSUER_TEMPLATE, AUTH_AUDIENCE: AUDIENCE });
  const issuerOf = (tenant: string) => ISSUER_TEMPLATE.replace('{tid}', tenant);

  it("accepts a token whose iss is the template with the token's own tid", async () => {
    const tenant = newTenant();
    await expectAccepted(t.server, sign(rsa, claims(tenant, { iss: issuerOf(tenant) })));
    const other = newTenant();
    await expectAccepted(t.server, sign(ec, claims(other, { iss: issuerOf(other) })));
  });

  it("answers 401 to a token whose iss names another tenant's id", async () => {
    const tenant = newTenant();
    await expectRejected(t.server, sign(rsa, claims(tenant, { iss: issuerOf(newTenant()) })));
    await expectRejected(t.server, sign(ec, claims(tenant, { iss: issuerOf(newTenant()) })));
  });

  it('answers 401 to a token without iss', async () => {
    await expectRejected(t.server, sign(rsa, claims(newTenant(), { iss: undefined })));
    await expectRejected(t.server, sign(ec, claims(newTenant(), { iss: undefined })));
  });

  it('answers 401 to an iss that is the bare template, the fixed issuer or another host', async () => {
    const tenant = newTenant();
    for (const iss of [
      ISSUER_TEMPLATE,
      ISSUER,
      `https://evil.example.test/${tenant}/v2.0`,
      `${issuerOf(tenant)}/`,
    ]) {
      await expectRejected(t.server, sign(rsa, claims(tenant, { iss })));
    }
  });

  it('still requires aud and exp', async () => {
    const tenant = newTenant();
    const iss = issuerOf(tenant);
    await expectRejected(t.server, sign(rsa, claims(tenant, { iss, aud: undefined })));
    await expectRejected(t.server, sign(rsa, claims(tenant, { iss, exp: undefined })));
  });
});

describe('JWKS key rotation and the refetch cooldown', () => {
  const oldKey = newKey('RS256');
  const newKeySet = [newKey('RS256'), newKey('ES256')];
  const { t, jwks } = useJwksApp([oldKey], {
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    AUTH_JWKS_REFETCH_INTERVAL_MS: String(COOLDOWN_MS),
  });

  /** Tokens signed with a key of the current set but naming random kids it does not have. */
  const unknownKids = (count: number) =>
    Array.from({ length: count }, (_, i) =>
      sign(newKeySet[i % 2], claims(newTenant()), `forged-${randomUUID()}`),
    );

  it('accepts a token with a rotated-in kid after exactly one refetch', async () => {
    await expectAccepted(t.server, sign(oldKey, claims(newTenant())));
    expect(jwks.fetches).toBe(1);

    jwks.serve(newKeySet);
    const rotated = sign(newKeySet[0], claims(newTenant()));
    // Within the cooldown of that first fetch the service may not fetch again: the new kid is
    // still unknown to it.
    await expectRejected(t.server, rotated);
    expect(jwks.fetches).toBe(1);

    await jwks.waitOutCooldown();
    await expectAccepted(t.server, rotated);
    expect(jwks.fetches).toBe(2);
    await expectAccepted(t.server, sign(newKeySet[1], claims(newTenant())));
    await expectAccepted(t.server, sign(newKeySet[0], claims(newTenant())));
    expect(jwks.fetches).toBe(2);
    // The old key left the set with that refetch.
    await expectRejected(t.server, sign(oldKey, claims(newTenant())));
  });

  it('fetches at most once more for a burst of 20 unknown kids within the cooldown', async () => {
    const before = jwks.fetches;
    const answers = await Promise.all(unknownKids(20).map((token) => list(t.server, token)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(401));
    for (const answer of answers) {
      expect(answer.body).toEqual(errorBody(800001));
      expect(answer.headers['www-authenticate']).toBe(INVALID_TOKEN);
    }
    expect(jwks.fetches - before).toBeLessThanOrEqual(1);
    // Known keys are still served from the cache.
    await expectAccepted(t.server, sign(newKeySet[1], claims(newTenant())));
    expect(jwks.fetches - before).toBeLessThanOrEqual(1);
  });

  it('fetches exactly once for a burst of 20 unknown kids after the cooldown', async () => {
    await jwks.waitOutCooldown();
    const before = jwks.fetches;
    const answers = await Promise.all(unknownKids(20).map((token) => list(t.server, token)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(401));
    expect(jwks.fetches - before).toBe(1);
    // And one more sequential round within the new cooldown fetches nothing.
    for (const token of unknownKids(5)) await expectRejected(t.server, token);
    expect(jwks.fetches - before).toBe(1);
  });
});

describe('tokens verified with AUTH_JWT_SECRET only', () => {
  const t = useTestApp('sqlite', { ...NO_ANONYMOUS_LIMIT });

  it('accepts an HS256 token with exp', async () => {
    await expectAccepted(t.server, tokenFor(newTenant()));
    await expectAccepted(
      t.server,
      signHs256(TEST_JWT_SECRET, { tid: newTenant(), exp: seconds() + 60 }),
    );
  });

  it('answers 401 to an HS256 token without exp', async () => {
    await expectRejected(t.server, signHs256(TEST_JWT_SECRET, { tid: newTenant() }));
  });

  it('answers 401 to an RS256 token, as no JWKS is configured', async () => {
    await expectRejected(t.server, sign(newKey('RS256'), claims(newTenant())));
  });
});

describe('tokens verified with AUTH_JWT_SECRET, AUTH_ISSUER and AUTH_AUDIENCE', () => {
  const t = useTestApp('sqlite', {
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
    ...NO_ANONYMOUS_LIMIT,
  });

  it('accepts an HS256 token with the right iss, aud and exp', async () => {
    await expectAccepted(t.server, signHs256(TEST_JWT_SECRET, claims(newTenant())));
  });

  it.each([
    ['no iss', { iss: undefined }],
    ['a wrong iss', { iss: 'https://evil.example.test/' }],
    ['no aud', { aud: undefined }],
    ['a wrong aud', { aud: 'api://another-service' }],
    ['no exp', { exp: undefined }],
  ])('answers 401 to an HS256 token with %s', async (_name, changes) => {
    await expectRejected(t.server, signHs256(TEST_JWT_SECRET, claims(newTenant(), changes)));
  });
});
