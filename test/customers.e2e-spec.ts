import request from 'supertest';
import { buildCustomer, createCustomer, uniqueDomain } from './support/factories';
import { describeEachDatabase } from './support/databases';
import { useTestApp } from './support/test-app';
import { bearer, newTenant } from './support/tokens';
import { errorBody } from './support/errors';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describeEachDatabase('customers', (kind) => {
  const t = useTestApp(kind);
  const countCustomers = async () =>
    Number(
      (
        await t.dataSource.query<
          {
            n: number | string;
          }[]
        >('SELECT COUNT(*) AS n FROM customers')
      )[0].n,
    );

  describe('POST /v1/customers', () => {
    it('creates a customer with generated ids, credentials and a stored billing profile', async () => {
      const tenant = newTenant();
      const body = buildCustomer({ companyProfile: { domain: 'Fabrikam-Ltd.onmicrosoft.com' } });
      const response = await request(t.server)
        .post('/v1/customers')
        .set(bearer(tenant))
        .send(body)
        .expect(201);

      const customer = response.body;
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.headers.location).toBe(`/v1/customers/${customer.id}`);
      expect(response.headers['ms-requestid']).toMatch(GUID);
      expect(response.headers['ms-correlationid']).toMatch(GUID);
      expect(customer).toEqual({
        id: expect.stringMatching(GUID),
        commerceId: expect.stringMatching(GUID),
        companyProfile: {
          tenantId: customer.id,
          domain: 'fabrikam-ltd.onmicrosoft.com',
          companyName: 'Contoso',
          links: {
            self: { uri: `/customers/${customer.id}/profiles/company`, method: 'GET', headers: [] },
          },
          attributes: { objectType: 'CustomerCompanyProfile' },
        },
        billingProfile: {
          id: expect.stringMatching(GUID),
          firstName: 'Ada',
          lastName: 'Lovelace',
          email: 'ada@contoso.com',
          culture: 'en-US',
          language: 'en',
          companyName: 'Contoso',
          defaultAddress: {
            country: 'US',
            city: 'Redmond',
            state: 'WA',
            addressLine1: '1 Microsoft Way',
            postalCode: '98052',
          },
          links: {
            self: { uri: `/customers/${customer.id}/profiles/billing`, method: 'GET', headers: [] },
          },
          attributes: { etag: expect.any(String), objectType: 'CustomerBillingProfile' },
        },
        relationshipToPartner: 'reseller',
        allowDelegatedAccess: true,
        userCredentials: {
          userName: 'admin@fabrikam-ltd.onmicrosoft.com',
          password: expect.any(String),
        },
        customDomains: ['fabrikam-ltd.onmicrosoft.com'],
        links: { self: { uri: `/customers/${customer.id}`, method: 'GET', headers: [] } },
        attributes: { objectType: 'Customer' },
      });
      expect(customer.billingProfile.id).not.toBe(customer.id);
      const password: string = customer.userCredentials.password;
      expect(password.length).toBeGreaterThanOrEqual(16);
      for (const pattern of [/[A-Z]/, /[a-z]/, /\d/, /[^A-Za-z0-9]/])
        expect(password).toMatch(pattern);

      const [row] = await t.dataSource.query<Record<string, unknown>[]>(
        'SELECT * FROM customers WHERE id = ?',
        [customer.id],
      );
      expect(row).toMatchObject({
        partner_tenant_id: tenant,
        domain: 'fabrikam-ltd.onmicrosoft.com',
        company_name: 'Contoso',
        relationship_to_partner: 'reseller',
      });
      const [billing] = await t.dataSource.query<Record<string, unknown>[]>(
        'SELECT * FROM billing_profiles WHERE customer_id = ?',
        [customer.id],
      );
      expect(billing).toMatchObject({ email: 'ada@contoso.com', address_postal_code: '98052' });
      // The password is never stored, in any form.
      const dump = JSON.stringify([row, billing]);
      expect(dump).not.toContain(password);
    });

    it('reads a PascalCase body with explicit nulls, as the .NET SDK sends it', async () => {
      const domain = uniqueDomain('dotnet');
      const response = await request(t.server)
        .post('/v1/customers')
        .set(bearer(newTenant()))
        .send({
          Id: null,
          CommerceId: null,
          CompanyProfile: { Domain: domain, CompanyName: null, TenantId: null, Attributes: null },
          BillingProfile: {
            Id: null,
            FirstName: 'Grace',
            LastName: null,
            Email: 'grace@contoso.com',
            Culture: 'EN-us',
            Language: 'en',
            CompanyName: 'Dotnet Corp',
            DefaultAddress: {
              Country: 'US',
              City: 'Seattle',
              State: 'WA',
              AddressLine1: '  400 Broad St  ',
              AddressLine2: null,
              PostalCode: '98109',
              PhoneNumber: null,
            },
            Attributes: { ObjectType: 'CustomerBillingProfile' },
          },
          RelationshipToPartner: 'unknown',
          AllowDelegatedAccess: null,
          UserCredentials: null,
          Attributes: { ObjectType: 'Customer' },
        })
        .expect(201);
      expect(response.body.companyProfile).toMatchObject({ domain, companyName: 'Dotnet Corp' });
      expect(response.body.billingProfile).toMatchObject({
        firstName: 'Grace',
        culture: 'en-US',
        defaultAddress: { addressLine1: '400 Broad St', postalCode: '98109' },
      });
      expect(response.body.billingProfile).not.toHaveProperty('lastName');
      expect(response.body.relationshipToPartner).toBe('reseller');
    });

    it('reads a camelCase body with links and attributes, as the Java SDK sends it', async () => {
      const body = buildCustomer({
        id: '00000000-0000-0000-0000-000000000001',
        links: { self: { uri: '/customers/x', method: 'GET', headers: [] } },
        attributes: { objectType: 'Customer' },
        relationshipToPartner: 'unknown',
        userCredentials: { userName: 'me', password: 'Chosen-Password-1' },
      });
      const response = await request(t.server)
        .post('/v1/customers')
        .set(bearer(newTenant()))
        .set('MS-SdkVersion', '')
        .set('MS-PartnerCenter-Application', '')
        .send(body)
        .expect(201);
      expect(response.body.id).not.toBe('00000000-0000-0000-0000-000000000001');
      expect(response.body.userCredentials.password).not.toBe('Chosen-Password-1');
    });

    it('lists every invalid field by its camelCase path and stores nothing', async () => {
      const before = await countCustomers();
      const response = await request(t.server)
        .post('/v1/customers')
        .set(bearer(newTenant()))
        .send(
          buildCustomer({
            companyProfile: { domain: '-bad-.example.com' },
            billingProfile: {
              email: 'not-an-email',
              companyName: 'Inc.',
              defaultAddress: { postalCode: '1234', addressLine1: '' },
            },
          }),
        )
        .expect(400);
      expect(response.body).toEqual(errorBody(800002));
      const data: string[] = response.body.data;
      for (const path of [
        'companyProfile.domain',
        'billingProfile.email',
        'billingProfile.companyName',
        'billingProfile.defaultAddress.addressLine1',
        'billingProfile.defaultAddress.postalCode',
      ]) {
        expect(data.some((line) => line.startsWith(`${path} `))).toBe(true);
      }
      expect(await countCustomers()).toBe(before);
    });

    it('rejects the same property twice in different cases', async () => {
      const body = buildCustomer();
      const response = await request(t.server)
        .post('/v1/customers')
        .set(bearer(newTenant()))
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ ...body, CompanyProfile: body.companyProfile }))
        .expect(400);
      expect(response.body.data).toContain(
        'companyProfile is given more than once (property names are case-insensitive)',
      );
    });

    it('answers 409 / 600010 for a taken domain, whoever owns it', async () => {
      const domain = uniqueDomain();
      await createCustomer(t.server, newTenant(), { companyProfile: { domain } });
      const response = await request(t.server)
        .post('/v1/customers')
        .set(bearer(newTenant()))
        .send(buildCustomer({ companyProfile: { domain: domain.toUpperCase() } }))
        .expect(409);
      expect(response.body).toEqual(errorBody(600010));
    });

    it('lets exactly one of 20 concurrent creates of one domain win', async () => {
      const tenant = newTenant();
      const body = buildCustomer();
      const statuses = await Promise.all(
        Array.from({ length: 20 }, () =>
          request(t.server)
            .post('/v1/customers')
            .set(bearer(tenant))
            .send(body)
            .then((r) => r.status),
        ),
      );
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(19);
      const rows = await t.dataSource.query<unknown[]>(
        'SELECT id FROM customers WHERE domain = ?',
        [body.companyProfile.domain],
      );
      expect(rows).toHaveLength(1);
    });

    it('answers 413 for a body over 64 KiB, 415 for another media type, 400 for broken JSON', async () => {
      const auth = bearer(newTenant());
      const big = buildCustomer({ padding: 'x'.repeat(70 * 1024) });
      const tooLarge = await request(t.server)
        .post('/v1/customers')
        .set(auth)
        .send(big)
        .expect(413);
      expect(tooLarge.body).toEqual(errorBody(800003));
      const media = await request(t.server)
        .post('/v1/customers')
        .set(auth)
        .set('Content-Type', 'text/plain')
        .send('hello')
        .expect(415);
      expect(media.body).toEqual(errorBody(800005));
      const broken = await request(t.server)
        .post('/v1/customers')
        .set(auth)
        .set('Content-Type', 'application/json')
        .send('{"companyProfile": ')
        .expect(400);
      expect(broken.body).toEqual(errorBody(800002));
    });
  });

  describe('MS-RequestId (idempotent create)', () => {
    it('replays the first answer without the password and creates nothing more', async () => {
      const tenant = newTenant();
      const body = buildCustomer();
      const first = await request(t.server)
        .post('/v1/customers')
        .set(bearer(tenant))
        .set('MS-RequestId', 'request-1')
        .send(body)
        .expect(201);
      const second = await request(t.server)
        .post('/v1/customers')
        .set(bearer(tenant))
        .set('MS-RequestId', 'request-1')
        .send(body)
        .expect(201);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.headers['ms-requestid']).toBe('request-1');
      const { userCredentials, ...rest } = first.body;
      expect(second.body).toEqual({
        ...rest,
        userCredentials: { userName: userCredentials.userName },
      });
    });

    it('answers 409 / 600011 for the same MS-RequestId with another body', async () => {
      const tenant = newTenant();
      await request(t.server)
        .post('/v1/customers')
        .set(bearer(tenant))
        .set('MS-RequestId', 'request-2')
        .send(buildCustomer())
        .expect(201);
      const response = await request(t.server)
        .post('/v1/customers')
        .set(bearer(tenant))
        .set('MS-RequestId', 'request-2')
        .send(buildCustomer())
        .expect(409);
      expect(response.body).toEqual(errorBody(600011));
    });

    it('keeps keys per partner', async () => {
      for (const tenant of [newTenant(), newTenant()]) {
        const response = await request(t.server)
          .post('/v1/customers')
          .set(bearer(tenant))
          .set('MS-RequestId', 'shared-key')
          .send(buildCustomer())
          .expect(201);
        expect(response.headers['idempotent-replayed']).toBeUndefined();
      }
    });

    it('creates exactly one customer from 20 concurrent requests with one MS-RequestId', async () => {
      const tenant = newTenant();
      const body = buildCustomer();
      const responses = await Promise.all(
        Array.from({ length: 20 }, () =>
          request(t.server)
            .post('/v1/customers')
            .set(bearer(tenant))
            .set('MS-RequestId', 'concurrent-key')
            .send(body),
        ),
      );
      for (const response of responses) expect([201, 409]).toContain(response.status);
      const ids = new Set(responses.filter((r) => r.status === 201).map((r) => r.body.id));
      expect(ids.size).toBe(1);
      const rows = await t.dataSource.query<unknown[]>(
        'SELECT id FROM customers WHERE partner_tenant_id = ?',
        [tenant],
      );
      expect(rows).toHaveLength(1);
    });
  });

  describe('GET /v1/customers/{id}', () => {
    it('returns the full customer without credentials, id in any case and with braces', async () => {
      const tenant = newTenant();
      const created = await createCustomer(t.server, tenant);
      const { userCredentials: _credentials, ...expected } = created;
      for (const id of [created.id, created.id.toUpperCase(), `{${created.id}}`]) {
        const response = await request(t.server)
          .get(`/v1/customers/${encodeURIComponent(id)}`)
          .set(bearer(tenant))
          .set('Content-Type', 'application/json')
          .expect(200);
        expect(response.body).toEqual(expected);
      }
    });

    it("answers 404 / 1000 for another partner's customer and for an unknown id", async () => {
      const created = await createCustomer(t.server, newTenant());
      for (const id of [created.id, '6a0e1b4c-2b6f-4f43-9c3d-8a1b2c3d4e5f']) {
        const response = await request(t.server)
          .get(`/v1/customers/${id}`)
          .set(bearer(newTenant()))
          .expect(404);
        expect(response.body).toEqual(errorBody(1000));
      }
    });

    it('answers 400 / 900118 for an id that is not a GUID', async () => {
      const response = await request(t.server)
        .get('/v1/customers/not-a-guid')
        .set(bearer(newTenant()))
        .expect(400);
      expect(response.body).toEqual(errorBody(900118));
    });

    it('answers 401 / 800001 with WWW-Authenticate without a valid token', async () => {
      for (const authorization of [undefined, 'Bearer nonsense', 'Basic abc']) {
        const call = request(t.server).get('/v1/customers/6a0e1b4c-2b6f-4f43-9c3d-8a1b2c3d4e5f');
        if (authorization) void call.set('Authorization', authorization);
        const response = await call.expect(401);
        expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
        expect(response.body).toEqual(errorBody(800001));
      }
    });
  });

  describe('GET /v1/customers/{id}/profiles/company', () => {
    it('returns the company profile to its owner only', async () => {
      const tenant = newTenant();
      const created = await createCustomer(t.server, tenant, {
        companyProfile: { companyName: 'Northwind Traders' },
      });
      const response = await request(t.server)
        .get(`/v1/customers/${created.id}/profiles/company`)
        .set(bearer(tenant))
        .expect(200);
      expect(response.body).toEqual({
        ...created.companyProfile,
        companyName: 'Northwind Traders',
      });
      await request(t.server)
        .get(`/v1/customers/${created.id}/profiles/company`)
        .set(bearer(newTenant()))
        .expect(404);
    });
  });

  describe('PATCH /v1/customers/{id}', () => {
    it('removes the relationship once, then answers 409 / 3000', async () => {
      const tenant = newTenant();
      const created = await createCustomer(t.server, tenant);
      const response = await request(t.server)
        .patch(`/v1/customers/${created.id}`)
        .set(bearer(tenant))
        .send({ RelationshipToPartner: 'none', CompanyProfile: { Domain: 'ignored' } })
        .expect(200);
      expect(response.body).toMatchObject({
        relationshipToPartner: 'none',
        allowDelegatedAccess: false,
      });
      const [row] = await t.dataSource.query<{ r: string }[]>(
        'SELECT relationship_to_partner AS r FROM customers WHERE id = ?',
        [created.id],
      );
      expect(row.r).toBe('none');
      const again = await request(t.server)
        .patch(`/v1/customers/${created.id}`)
        .set(bearer(tenant))
        .send({ relationshipToPartner: 'none' })
        .expect(409);
      expect(again.body).toEqual(errorBody(3000));
    });

    it('answers 400 for another value and 404 for another partner', async () => {
      const tenant = newTenant();
      const created = await createCustomer(t.server, tenant);
      for (const body of [{ relationshipToPartner: 'advisor' }, {}]) {
        const response = await request(t.server)
          .patch(`/v1/customers/${created.id}`)
          .set(bearer(tenant))
          .send(body)
          .expect(400);
        expect(response.body).toEqual(errorBody(800002));
      }
      await request(t.server)
        .patch(`/v1/customers/${created.id}`)
        .set(bearer(newTenant()))
        .send({ relationshipToPartner: 'none' })
        .expect(404);
    });
  });

  describe('DELETE /v1/customers/{id}', () => {
    it('deletes the customer with its billing profile and idempotency records, freeing the domain', async () => {
      const tenant = newTenant();
      const body = buildCustomer();
      const created = (
        await request(t.server)
          .post('/v1/customers')
          .set(bearer(tenant))
          .set('MS-RequestId', 'delete-me')
          .send(body)
          .expect(201)
      ).body;
      await request(t.server)
        .delete(`/v1/customers/${created.id}`)
        .set(bearer(newTenant()))
        .expect(404);
      await request(t.server)
        .delete(`/v1/customers/${created.id}`)
        .set(bearer(tenant))
        .set('Content-Type', 'application/json')
        .expect(204)
        .expect((r) => expect(r.text).toBe(''));
      for (const table of ['customers', 'billing_profiles', 'idempotency_records']) {
        const column = table === 'customers' ? 'id' : 'customer_id';
        const rows = await t.dataSource.query<unknown[]>(
          `SELECT * FROM ${table} WHERE ${column} = ?`,
          [created.id],
        );
        expect(rows).toHaveLength(0);
      }
      await request(t.server).get(`/v1/customers/${created.id}`).set(bearer(tenant)).expect(404);
      await request(t.server).post('/v1/customers').set(bearer(tenant)).send(body).expect(201);
    });
  });

  describe('HEAD /v1/domains/{domain}', () => {
    it('answers 200 when any partner has the domain and 404 when it is free', async () => {
      const created = await createCustomer(t.server, newTenant());
      const caller = bearer(newTenant());
      await request(t.server)
        .head(`/v1/domains/${created.companyProfile.domain.toUpperCase()}`)
        .set(caller)
        .expect(200);
      await request(t.server).head(`/v1/domains/${uniqueDomain()}`).set(caller).expect(404);
      await request(t.server).head(`/v1/domains/${uniqueDomain()}`).expect(401);
    });
  });

  describe('transport', () => {
    it('echoes MS-RequestId and MS-CorrelationId, and tolerates informational headers', async () => {
      const response = await request(t.server)
        .get('/v1/customers')
        .set(bearer(newTenant()))
        .set('ms-requestid', 'abc')
        .set('MS-CORRELATIONID', 'def')
        .set('MS-Contract-Version', 'v1')
        .set('X-Locale', 'en-US')
        .set('MS-CV', 'x.1')
        .set('Accept-Language', 'en')
        .expect(200);
      expect(response.headers['ms-requestid']).toBe('abc');
      expect(response.headers['ms-correlationid']).toBe('def');
    });

    it('answers 405 / 800004 for a known path with another method, 404 / 1000 for an unknown path', async () => {
      const auth = bearer(newTenant());
      const put = await request(t.server).put('/v1/customers').set(auth).send({}).expect(405);
      expect(put.body).toEqual(errorBody(800004));
      const unknown = await request(t.server).get('/v1/nothing-here').set(auth).expect(404);
      expect(unknown.body).toEqual(errorBody(1000));
    });

    it('serves the health checks without a token', async () => {
      await request(t.server).get('/health/live').expect(200, { status: 'up' });
      await request(t.server)
        .get('/health/ready')
        .expect(200, { status: 'up', database: 'up', limiter: 'local' });
    });
  });
});
