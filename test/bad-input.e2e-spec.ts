import fc from 'fast-check';
import request, { Response } from 'supertest';
import { buildCustomer, createCustomer } from './support/factories';
import { describeEachDatabase } from './support/databases';
import { useTestApp } from './support/test-app';
import { bearer, newTenant } from './support/tokens';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

/** The contract's error shape (CONTRACT section 4), and never a 5xx. */
function expectContractAnswer(response: Response): void {
  expect(response.status).toBeLessThan(500);
  // HEAD answers carry no body (supertest leaves text undefined).
  if (response.status >= 400 && response.status !== 429 && response.text) {
    expect(response.body).toEqual({
      code: expect.any(Number),
      description: expect.any(String),
      data: expect.any(Array),
      source: 'CustomerService',
    });
    for (const line of response.body.data as unknown[]) expect(typeof line).toBe('string');
  }
}

/** A near-valid create body with one field, anywhere in it, replaced by an arbitrary value. */
const PATHS = [
  ['companyProfile'],
  ['companyProfile', 'domain'],
  ['companyProfile', 'companyName'],
  ['companyProfile', 'organizationRegistrationNumber'],
  ['billingProfile'],
  ['billingProfile', 'email'],
  ['billingProfile', 'culture'],
  ['billingProfile', 'language'],
  ['billingProfile', 'companyName'],
  ['billingProfile', 'firstName'],
  ['billingProfile', 'defaultAddress'],
  ['billingProfile', 'defaultAddress', 'country'],
  ['billingProfile', 'defaultAddress', 'state'],
  ['billingProfile', 'defaultAddress', 'postalCode'],
  ['billingProfile', 'defaultAddress', 'addressLine1'],
  ['billingProfile', 'defaultAddress', 'phoneNumber'],
  ['associatedPartnerId'],
];

const weirdValue = fc.oneof(
  fc.jsonValue(),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '💥'.repeat(80),
    'x'.repeat(5000),
    '__proto__',
    '%_\\',
  ),
  fc.constantFrom(1e308, -0, Number.MAX_SAFE_INTEGER, true, [], {}, null),
);

const mutatedBody = fc
  .tuple(fc.constantFrom(...PATHS), weirdValue, fc.boolean())
  .map(([path, value, pascal]) => {
    const body = buildCustomer();
    let target: Record<string, unknown> = body;
    for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
    target[path[path.length - 1]] = value;
    return pascal ? pascalCase(body) : body;
  });

function pascalCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pascalCase);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), pascalCase(v)]),
  );
}

const anyBody = fc.oneof(mutatedBody, fc.jsonValue(), fc.object());
const pathSegment = fc.oneof(
  fc.uuid(),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('{', '}', '%00', '..', '%2F', '{6a0e1b4c-2b6f-4f43-9c3d-8a1b2c3d4e5f'),
);

describeEachDatabase('bad input never breaks the service', (kind) => {
  const t = useTestApp(kind);
  const tenant = newTenant();
  let existingId: string;

  const count = async (table: string) =>
    Number((await t.dataSource.query<{ n: string }[]>(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
  const snapshot = async () =>
    JSON.stringify(await t.dataSource.query('SELECT * FROM customers ORDER BY id')) +
    JSON.stringify(await t.dataSource.query('SELECT * FROM billing_profiles ORDER BY id'));

  beforeAll(async () => {
    existingId = (await createCustomer(t.server, tenant)).id as string;
  });

  it('POST /v1/customers: any body is 201 or a contract 4xx; a rejected one stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const before = await count('customers');
        const response = await request(t.server)
          .post('/v1/customers')
          .set(bearer(tenant))
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(body));
        expectContractAnswer(response);
        const after = await count('customers');
        expect(after).toBe(response.status === 201 ? before + 1 : before);
      }),
      { numRuns: RUNS },
    );
  });

  it('PATCH and PUT-like writes with any body change nothing unless accepted', async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, pathSegment, async (body, id) => {
        const before = await snapshot();
        const response = await request(t.server)
          .patch(`/v1/customers/${encodeURIComponent(id)}`)
          .set(bearer(tenant))
          .set('Content-Type', 'application/json')
          .send(JSON.stringify(body));
        expectContractAnswer(response);
        expect(response.status).not.toBe(200);
        expect(await snapshot()).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /v1/customers: any query string and continuation header is 200 or a contract 4xx', async () => {
    const queryValue = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('size', 'filter', 'seekOperation', 'other', 'SIZE'),
          queryValue,
        ),
        fc.option(fc.string({ maxLength: 200 })),
        async (query, token) => {
          const call = request(t.server).get('/v1/customers').query(query).set(bearer(tenant));
          if (token) void call.set('MS-ContinuationToken', token.replace(/[^\x20-\x7e]/g, ''));
          expectContractAnswer(await call);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('any id on every customer route, any method: never a 5xx, never a change', async () => {
    await fc.assert(
      fc.asyncProperty(
        pathSegment,
        fc.constantFrom('', '/profiles/company', '/profiles/billing', '/unknown'),
        fc.constantFrom('get', 'delete', 'put', 'post', 'head'),
        async (id, suffix, method) => {
          const before = await snapshot();
          const agent = request(t.server);
          const response = await agent[method](
            `/v1/customers/${encodeURIComponent(id)}${suffix}`,
          ).set(bearer(newTenant()));
          expectContractAnswer(response);
          expect(await snapshot()).toBe(before);
        },
      ),
      { numRuns: RUNS },
    );
    await request(t.server).get(`/v1/customers/${existingId}`).set(bearer(tenant)).expect(200);
  });

  it('any Authorization and content headers: never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 300 }),
        fc.constantFrom(
          'application/json',
          'text/plain',
          'application/xml',
          'application/json; charset=latin1',
          '',
        ),
        fc.string({ maxLength: 100 }),
        async (authorization, contentType, body) => {
          const call = request(t.server).post('/v1/customers');
          const header = authorization.replace(/[^\x20-\x7e]/g, '');
          if (header) void call.set('Authorization', header);
          if (contentType) void call.set('Content-Type', contentType);
          const response = await call.send(body);
          expectContractAnswer(response);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
