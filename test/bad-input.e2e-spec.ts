import fc from 'fast-check';
import request, { Response } from 'supertest';
import { buildCustomer, createCustomer } from './support/factories';
import { describeEachDatabase } from './support/databases';
import { errorBody } from './support/errors';
import {
  tooDeep,
  deepValue,
  harmlessInsertions,
  hostileBody,
  INHERITED_NAMES,
  insert,
  own,
  prototypeKeyedValue,
  shallowInsertions,
  StatusTally,
} from './support/fuzz';
import { useTestApp } from './support/test-app';
import { bearer, newTenant } from './support/tokens';

// 100 runs keep this file near 20 s per database; FUZZ_RUNS=5000 is the long run for a closing note.
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const BODY_LIMIT_BYTES = 64 * 1024;

type Json = Record<string, unknown>;

/** A near-valid create body: one field, anywhere in it, may be replaced by an arbitrary value. */
const CREATE_PATHS = [
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

const billingProfile = () => buildCustomer().billingProfile as Json;
const address = () => billingProfile().defaultAddress as Json;

const BILLING_PATHS = [
  ['email'],
  ['culture'],
  ['language'],
  ['companyName'],
  ['firstName'],
  ['defaultAddress'],
  ['defaultAddress', 'country'],
  ['defaultAddress', 'state'],
  ['defaultAddress', 'postalCode'],
  ['defaultAddress', 'addressLine1'],
  ['attributes'],
  ['attributes', 'etag'],
];
const ADDRESS_PATHS = [
  ['country'],
  ['region'],
  ['city'],
  ['state'],
  ['postalCode'],
  ['addressLine1'],
  ['addressLine2'],
  ['phoneNumber'],
];

// Bodies that would have found the 500s of issue #10: deep nesting (up to ~1,500 levels) and
// prototype keys (`constructor`, `__proto__`, `prototype`) at random positions and as values.
const createBody = hostileBody(buildCustomer, CREATE_PATHS);
const anyBody = fc.oneof(
  { weight: 6, arbitrary: createBody },
  { weight: 1, arbitrary: fc.jsonValue() },
  { weight: 1, arbitrary: fc.object() },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: prototypeKeyedValue },
);
const patchBody = fc.oneof(
  hostileBody(() => ({ relationshipToPartner: 'none' }), [['relationshipToPartner']]),
  anyBody,
);
const billingBody = fc.oneof(
  { weight: 4, arbitrary: hostileBody(billingProfile, BILLING_PATHS) },
  { weight: 1, arbitrary: anyBody },
);
const addressBody = fc.oneof(
  { weight: 4, arbitrary: hostileBody(address, ADDRESS_PATHS) },
  { weight: 1, arbitrary: anyBody },
);
const pathSegment = fc.oneof(
  fc.uuid(),
  fc.string({ maxLength: 60 }),
  fc.constantFrom('{', '}', '%00', '..', '%2F', '{6a0e1b4c-2b6f-4f43-9c3d-8a1b2c3d4e5f'),
);

const FILTER_FIELDS = [
  'CompanyName',
  'Domain',
  'IndirectReseller',
  'IndirectCloudSolutionProvider',
];
const filterField = fc.oneof(
  fc.constantFrom(...FILTER_FIELDS, 'companyname', 'DOMAIN'),
  fc.constantFrom(...INHERITED_NAMES),
  fc.constantFrom(...INHERITED_NAMES).map((name) => name.charAt(0).toUpperCase() + name.slice(1)),
  fc.string({ maxLength: 20 }),
  fc.jsonValue({ maxDepth: 1 }),
  prototypeKeyedValue,
  // An object whose own toString is not a function: String(value) throws on it.
  fc.constantFrom(...INHERITED_NAMES).map((name) => own([[name, 1]])),
);
/** A filter (CONTRACT 6.2) with a random Field, prototype names included, and extra keys. */
const filter = fc
  .record({
    field: fc.option(filterField, { nil: undefined }),
    fieldKey: fc.constantFrom('Field', 'field', 'FIELD', '__proto__', 'constructor'),
    value: fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.uuid(),
      fc.constantFrom('%', '_', '\\', 'Contoso'),
      fc.jsonValue({ maxDepth: 2 }),
      prototypeKeyedValue,
    ),
    operator: fc.oneof(
      fc.constantFrom('starts_with', 'StartsWith', 'STARTS_WITH'),
      fc.constantFrom(...INHERITED_NAMES),
      fc.string({ maxLength: 12 }),
    ),
    extras: shallowInsertions,
  })
  .map(({ field, fieldKey, value, operator, extras }) => {
    const entries: [string, unknown][] = [
      ['Value', value],
      ['Operator', operator],
    ];
    if (field !== undefined) entries.push([fieldKey, field]);
    const withExtras = insert(own(entries), extras) as Json;
    return { filter: withExtras, field: fieldKey.toLowerCase() === 'field' ? field : undefined };
  });

function expectNoPollution(): void {
  const probe = {} as Json;
  expect(probe.isAdmin).toBeUndefined();
  expect(probe.polluted).toBeUndefined();
}

describeEachDatabase('bad input never breaks the service', (kind) => {
  // The fuzz sends far more than a minute's budget as one tenant; limiting is rate-limit.e2e-spec's.
  const t = useTestApp(kind, { THROTTLE_LIMIT: '1000000', THROTTLE_ANONYMOUS_LIMIT: '1000000' });
  const tenant = newTenant();
  const tally = new StatusTally();
  let existingId: string;
  let patchedId: string;

  /** The contract's error shape (CONTRACT section 4), and never a 5xx. */
  function expectContractAnswer(response: Response): void {
    tally.add(response.status, () => {
      const { method, url } = response.request as unknown as { method: string; url: string };
      return `${method} ${url.slice(0, 120)} → ${response.status} ${response.text?.slice(0, 120)}`;
    });
    expect(response.status).toBeLessThan(500);
    // HEAD answers carry no body (supertest leaves text undefined).
    if (response.status >= 400 && response.status !== 429 && response.text) {
      expect(response.body).toEqual(errorBody(expect.any(Number) as number));
      for (const line of response.body.data as unknown[]) expect(typeof line).toBe('string');
    }
    expectNoPollution();
  }

  /** A body nested past the limit is 400 / 800002 wherever the depth is (issue #10). */
  function expectDepthRule(body: unknown, text: string, response: Response): void {
    if (tooDeep(body) && Buffer.byteLength(text) <= BODY_LIMIT_BYTES) {
      expect({ status: response.status, code: response.body?.code }).toEqual({
        status: 400,
        code: 800002,
      });
    }
  }

  const sendJson = (method: 'post' | 'patch' | 'put', path: string, text: string) => {
    const agent = request(t.server);
    return agent[method](path)
      .set(bearer(tenant))
      .set('Content-Type', 'application/json')
      .send(text);
  };

  const count = async (table: string) =>
    Number((await t.dataSource.query<{ n: string }[]>(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);
  const snapshot = async () =>
    JSON.stringify(await t.dataSource.query('SELECT * FROM customers ORDER BY id')) +
    JSON.stringify(await t.dataSource.query('SELECT * FROM billing_profiles ORDER BY id')) +
    JSON.stringify(await t.dataSource.query('SELECT * FROM billing_profile_changes ORDER BY id'));

  beforeAll(async () => {
    existingId = (await createCustomer(t.server, tenant)).id as string;
    patchedId = (await createCustomer(t.server, tenant)).id as string;
  });

  afterAll(() => {
    process.stdout.write(
      `[${kind}] bad-input fuzz (FUZZ_RUNS=${RUNS}): ${tally.summary()}, 5xx: ${tally.count((s) => s >= 500)}\n` +
        tally.failures.map((failure) => `  first 5xx: ${failure}\n`).join(''),
    );
  });

  it('POST /v1/customers: any body is 201 or a contract 4xx; a rejected one stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        const before = await count('customers');
        const text = JSON.stringify(body);
        const response = await sendJson('post', '/v1/customers', text);
        expectContractAnswer(response);
        expectDepthRule(body, text, response);
        const after = await count('customers');
        expect(after).toBe(response.status === 201 ? before + 1 : before);
      }),
      { numRuns: RUNS },
    );
  });

  it('POST /v1/customers: prototype keys anywhere in a valid body are ignored (201, not echoed)', async () => {
    await fc.assert(
      fc.asyncProperty(harmlessInsertions, async (extras) => {
        const before = await count('customers');
        const response = await sendJson(
          'post',
          '/v1/customers',
          JSON.stringify(insert(buildCustomer(), extras)),
        );
        expectContractAnswer(response);
        expect(response.status).toBe(201);
        expect(response.text).not.toMatch(
          /"(constructor|__proto__|prototype|isAdmin|polluted)"\s*:/,
        );
        expect(await count('customers')).toBe(before + 1);
      }),
      { numRuns: RUNS },
    );
  });

  it('PATCH with any body and id changes nothing unless accepted', async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, pathSegment, async (body, id) => {
        const before = await snapshot();
        const response = await sendJson(
          'patch',
          `/v1/customers/${encodeURIComponent(id)}`,
          JSON.stringify(body),
        );
        expectContractAnswer(response);
        expect(response.status).not.toBe(200);
        expect(await snapshot()).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('PATCH an existing customer: any body is 200, 409 or a contract 4xx; a rejected one changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(patchBody, async (body) => {
        const before = await snapshot();
        const text = JSON.stringify(body);
        const response = await sendJson('patch', `/v1/customers/${patchedId}`, text);
        expectContractAnswer(response);
        expectDepthRule(body, text, response);
        if (response.status !== 200) expect(await snapshot()).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('PUT billing profile: any body is 200 or a contract 4xx; a rejected one changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(billingBody, async (body) => {
        const before = await snapshot();
        const text = JSON.stringify(body);
        const response = await sendJson(
          'put',
          `/v1/customers/${existingId}/profiles/billing`,
          text,
        );
        expectContractAnswer(response);
        expectDepthRule(body, text, response);
        if (response.status === 200) {
          expect(response.text).not.toMatch(/"(constructor|__proto__|prototype)"\s*:/);
        } else {
          expect(await snapshot()).toBe(before);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('POST /v1/validations/address: any body is 200 or a contract 4xx, and stores nothing', async () => {
    await fc.assert(
      fc.asyncProperty(addressBody, async (body) => {
        const before = await snapshot();
        const text = JSON.stringify(body);
        const response = await sendJson('post', '/v1/validations/address', text);
        expectContractAnswer(response);
        expectDepthRule(body, text, response);
        if (response.status === 200) {
          expect(response.text).not.toMatch(/"(constructor|__proto__|prototype)"\s*:/);
        }
        expect(await snapshot()).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('GET /v1/customers: a filter whose Field is not one of the four is 400 / 800002', async () => {
    const known = FILTER_FIELDS.map((field) => field.toLowerCase());
    await fc.assert(
      fc.asyncProperty(filter, async ({ filter: value, field }) => {
        const response = await request(t.server)
          .get('/v1/customers')
          .query({ filter: JSON.stringify(value) })
          .set(bearer(tenant));
        expectContractAnswer(response);
        expect([200, 400]).toContain(response.status);
        if (typeof field !== 'string' || !known.includes(field.toLowerCase())) {
          expect({ field, status: response.status, code: response.body?.code }).toEqual({
            field,
            status: 400,
            code: 800002,
          });
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('GET /v1/customers: any query string and continuation header is 200 or a contract 4xx', async () => {
    const queryValue = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      filter.map(({ filter: value }) => JSON.stringify(value)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('size', 'filter', 'seekOperation', 'other', 'SIZE', ...INHERITED_NAMES),
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
