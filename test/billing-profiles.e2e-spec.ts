import fc from 'fast-check';
import request, { Response } from 'supertest';
import { createCustomer, buildBillingProfile as profile } from './support/factories';
import { describeEachDatabase } from './support/databases';
import { useTestApp } from './support/test-app';
import { bearer, newTenant } from './support/tokens';
import { errorBody } from './support/errors';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

/** The same profile as the .NET SDK sends it: PascalCase, explicit nulls, the etag in Attributes. */
function dotNetProfile(companyName: string, etag: string) {
  return {
    Id: null,
    FirstName: 'Grace',
    LastName: null,
    Email: 'grace@contoso.com',
    Culture: 'EN-us',
    Language: 'en',
    CompanyName: companyName,
    DefaultAddress: {
      Country: 'US',
      Region: null,
      City: 'Arlington',
      State: 'VA',
      AddressLine1: '1 Navy Way',
      AddressLine2: null,
      PostalCode: '22202',
      PhoneNumber: null,
    },
    Links: null,
    Attributes: { Etag: etag, ObjectType: 'CustomerBillingProfile' },
  };
}

describeEachDatabase('billing profiles', (kind) => {
  const t = useTestApp(kind);

  const storedRow = async (customerId: string) =>
    (
      await t.dataSource.query<Record<string, unknown>[]>(
        'SELECT * FROM billing_profiles WHERE customer_id = ?',
        [customerId],
      )
    )[0];
  const historyCount = async (customerId: string) =>
    Number(
      (
        await t.dataSource.query<{ n: number | string }[]>(
          'SELECT COUNT(*) AS n FROM billing_profile_changes WHERE customer_id = ?',
          [customerId],
        )
      )[0].n,
    );

  async function newCustomer(tenant = newTenant()) {
    const customer = await createCustomer(t.server, tenant);
    return { tenant, id: customer.id as string };
  }

  const get = (tenant: string, id: string) =>
    request(t.server).get(`/v1/customers/${id}/profiles/billing`).set(bearer(tenant));
  const put = (tenant: string, id: string, body: unknown) =>
    request(t.server)
      .put(`/v1/customers/${id}/profiles/billing`)
      .set(bearer(tenant))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));

  describe('GET /v1/customers/{id}/profiles/billing', () => {
    it('returns the profile with its etag in attributes and in the ETag header', async () => {
      const { tenant, id } = await newCustomer();
      const response = await get(tenant, id).expect(200);
      const row = await storedRow(id);
      expect(response.body).toEqual({
        id: row.id,
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
          self: { uri: `/customers/${id}/profiles/billing`, method: 'GET', headers: [] },
        },
        attributes: { etag: row.etag, objectType: 'CustomerBillingProfile' },
      });
      expect(response.headers.etag).toBe(`"${String(row.etag)}"`);
    });

    it('answers 304 without a body when If-None-Match holds the current etag', async () => {
      const { tenant, id } = await newCustomer();
      const etag = (await get(tenant, id).expect(200)).body.attributes.etag as string;
      for (const header of [`"${etag}"`, etag, `W/"${etag}"`, `"other", "${etag}"`, '*']) {
        const response = await get(tenant, id).set('If-None-Match', header).expect(304);
        expect(response.text).toBeFalsy();
        expect(response.headers.etag).toBe(`"${etag}"`);
      }
      await get(tenant, id).set('If-None-Match', '"stale"').expect(200);
    });

    it('answers 404 to another partner, 404 for an unknown id, 400 / 900118 for a bad id', async () => {
      const { id } = await newCustomer();
      const stranger = newTenant();
      expect((await get(stranger, id).expect(404)).body).toEqual(errorBody(1000));
      await get(stranger, '6a0e1b4c-2b6f-4f43-9c3d-8a1b2c3d4e5f').expect(404);
      expect((await get(stranger, 'not-a-guid').expect(400)).body).toEqual(errorBody(900118));
    });
  });

  describe('PUT /v1/customers/{id}/profiles/billing', () => {
    it('takes a PascalCase body with the etag in Attributes.Etag and no header (.NET SDK)', async () => {
      const { tenant, id } = await newCustomer();
      const before = await storedRow(id);
      const response = await put(tenant, id, dotNetProfile('Hopper Labs', String(before.etag)));
      expect(response.status).toBe(200);
      const after = await storedRow(id);
      expect(after.etag).not.toBe(before.etag);
      expect(response.headers.etag).toBe(`"${String(after.etag)}"`);
      expect(response.body).toEqual({
        id: before.id,
        firstName: 'Grace',
        email: 'grace@contoso.com',
        culture: 'en-US',
        language: 'en',
        companyName: 'Hopper Labs',
        defaultAddress: {
          country: 'US',
          city: 'Arlington',
          state: 'VA',
          addressLine1: '1 Navy Way',
          postalCode: '22202',
        },
        links: {
          self: { uri: `/customers/${id}/profiles/billing`, method: 'GET', headers: [] },
        },
        attributes: { etag: after.etag, objectType: 'CustomerBillingProfile' },
      });
      expect(after).toMatchObject({
        company_name: 'Hopper Labs',
        last_name: null,
        address_city: 'Arlington',
        culture: 'en-US',
      });
      expect((await get(tenant, id).expect(200)).body).toEqual(response.body);
    });

    it('takes a camelCase body with If-Match, quoted or not, and * for any etag', async () => {
      const { tenant, id } = await newCustomer();
      let etag = String((await storedRow(id)).etag);
      for (const [i, header] of [`"${etag}"`, '', '*'].entries()) {
        const value = header === '' ? etag : header;
        const response = await put(tenant, id, profile(`Round ${i}`)).set('If-Match', value);
        expect(response.status).toBe(200);
        expect(response.body.companyName).toBe(`Round ${i}`);
        expect(response.body.attributes.etag).not.toBe(etag);
        etag = response.body.attributes.etag as string;
      }
      expect(await historyCount(id)).toBe(3);
    });

    it('answers 412 / 2055 for a stale etag, in the header or in the body, and changes nothing', async () => {
      const { tenant, id } = await newCustomer();
      const original = String((await storedRow(id)).etag);
      await put(tenant, id, profile('First')).set('If-Match', `"${original}"`).expect(200);
      const current = await storedRow(id);

      const viaHeader = await put(tenant, id, profile('Late')).set('If-Match', `"${original}"`);
      expect(viaHeader.status).toBe(412);
      expect(viaHeader.body).toEqual(errorBody(2055));
      await put(tenant, id, profile('Late', { attributes: { etag: original } })).expect(412);
      // With both, both must match.
      await put(tenant, id, profile('Late', { attributes: { etag: original } }))
        .set('If-Match', String(current.etag))
        .expect(412);
      await put(tenant, id, profile('Late'))
        .set('If-Match', `W/"${String(current.etag)}"`)
        .expect(412);

      expect(await storedRow(id)).toEqual(current);
      expect(await historyCount(id)).toBe(1);
    });

    it('updates unconditionally without any etag (generated clients cannot send one)', async () => {
      const { tenant, id } = await newCustomer();
      await put(tenant, id, profile('No Etag Inc')).expect(200);
      expect((await storedRow(id)).company_name).toBe('No Etag Inc');
    });

    it('lets exactly one of 25 concurrent PUTs with the same etag win', async () => {
      const { tenant, id } = await newCustomer();
      const etag = String((await storedRow(id)).etag);
      const responses = await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          put(tenant, id, profile(`Writer ${i}`)).set('If-Match', `"${etag}"`),
        ),
      );
      const statuses = responses.map((response) => response.status).sort();
      expect(statuses).toEqual([200, ...Array<number>(24).fill(412)]);
      const winner = responses.find((response) => response.status === 200) as Response;
      const row = await storedRow(id);
      expect(row.company_name).toBe(winner.body.companyName);
      expect(row.etag).toBe(winner.body.attributes.etag);
      expect(await historyCount(id)).toBe(1);
    });

    it('validates like create, names every field by its path, and changes nothing', async () => {
      const { tenant, id } = await newCustomer();
      const before = await storedRow(id);
      const response = await put(tenant, id, {
        ...profile('x'),
        email: 'not-an-email',
        culture: 'fr-FR',
        defaultAddress: { country: 'US', addressLine1: '1 Navy Way', state: 'va', postalCode: '1' },
      }).expect(400);
      expect(response.body).toEqual(errorBody(800002));
      expect(response.body.data).toEqual(
        expect.arrayContaining([
          'email must be an email address',
          expect.stringMatching(/^companyName /),
          expect.stringMatching(/^culture must be a culture supported in US/),
          'defaultAddress.city is required in US',
          expect.stringMatching(/^defaultAddress\.state must be one of the state codes of US/),
          expect.stringMatching(/^defaultAddress\.postalCode must match the US postal code format/),
        ]),
      );
      expect(await storedRow(id)).toEqual(before);
      expect(await historyCount(id)).toBe(0);
    });

    it('says "is required" for a missing field and only "must be a string" for a wrong type', async () => {
      const { tenant, id } = await newCustomer();
      const empty = await put(tenant, id, {}).expect(400);
      expect(empty.body.data).toEqual([
        'email is required',
        'culture is required',
        'language is required',
        'companyName is required',
        'defaultAddress is required',
      ]);
      const wrongType = await put(tenant, id, {
        ...profile('Typed'),
        defaultAddress: { ...profile('Typed').defaultAddress, postalCode: 22202 },
      }).expect(400);
      expect(wrongType.body.data).toEqual(['defaultAddress.postalCode must be a string']);
    });

    it('ignores server-owned properties: the id, links and any attribute but the etag', async () => {
      const { tenant, id } = await newCustomer();
      const before = await storedRow(id);
      const response = await put(
        tenant,
        id,
        profile('Owned', {
          id: '6a0e1b4c-2b6f-4f43-9c3d-8a1b2c3d4e5f',
          links: { self: { uri: '/elsewhere' } },
          attributes: { objectType: 'Hacked' },
        }),
      ).expect(200);
      expect(response.body.id).toBe(before.id);
      expect(response.body.attributes.objectType).toBe('CustomerBillingProfile');
      expect(response.body.links.self.uri).toBe(`/customers/${id}/profiles/billing`);
    });

    it("answers 404 for another partner's customer and leaves it alone", async () => {
      const { id } = await newCustomer();
      const before = await storedRow(id);
      const response = await put(newTenant(), id, profile('Intruder')).expect(404);
      expect(response.body).toEqual(errorBody(1000));
      expect(await storedRow(id)).toEqual(before);
    });
  });

  describe('GET /v1/customers/{id}/profiles/billing/history', () => {
    it('lists every change newest first, seek-paged by following links.next', async () => {
      const { tenant, id } = await newCustomer();
      const names = ['One', 'Two', 'Three', 'Four', 'Five'];
      for (const name of names) await put(tenant, id, profile(name)).expect(200);

      const first = await request(t.server)
        .get(`/v1/customers/${id}/profiles/billing/history?size=2`)
        .set(bearer(tenant))
        .expect(200);
      expect(first.body.items[0]).toEqual({
        changedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        changedBy: tenant,
        before: expect.objectContaining({ companyName: 'Four' }),
        after: {
          firstName: 'Grace',
          lastName: 'Hopper',
          email: 'grace@contoso.com',
          culture: 'en-US',
          language: 'en',
          companyName: 'Five',
          defaultAddress: {
            country: 'US',
            city: 'Arlington',
            state: 'VA',
            addressLine1: '1 Navy Way',
            postalCode: '22202',
          },
        },
        attributes: { objectType: 'BillingProfileChange' },
      });

      const seen: string[] = [];
      let page = first;
      for (;;) {
        expect(page.body.totalCount).toBe(page.body.items.length);
        seen.push(
          ...page.body.items.map(
            (item: { after: { companyName: string } }) => item.after.companyName,
          ),
        );
        const next = page.body.links.next as
          { uri: string; headers: { key: string; value: string }[] } | undefined;
        if (!next) break;
        expect(next.uri).toBe(
          `/customers/${id}/profiles/billing/history?size=2&seekOperation=Next`,
        );
        const call = request(t.server).get(`/v1${next.uri}`).set(bearer(tenant));
        for (const header of next.headers) void call.set(header.key, header.value);
        page = await call.expect(200);
      }
      expect(seen).toEqual(['Five', 'Four', 'Three', 'Two', 'One']);
      expect(first.body.items[1].before.companyName).toBe('Three');
      const oldest = page.body.items[page.body.items.length - 1];
      expect(oldest.before.companyName).toBe('Contoso');
    });

    it('rejects tokens of another customer or tenant and tampered tokens with 400', async () => {
      const { tenant, id } = await newCustomer();
      const other = await newCustomer(tenant);
      for (const name of ['Alpha', 'Beta']) {
        await put(tenant, id, profile(name)).expect(200);
        await put(tenant, other.id, profile(name)).expect(200);
      }
      const page = await request(t.server)
        .get(`/v1/customers/${id}/profiles/billing/history?size=1`)
        .set(bearer(tenant))
        .expect(200);
      const token = page.body.continuationToken as string;
      const next = (customerId: string, value: string) =>
        request(t.server)
          .get(`/v1/customers/${customerId}/profiles/billing/history?seekOperation=Next`)
          .set(bearer(tenant))
          .set('MS-ContinuationToken', value);
      expect((await next(other.id, token).expect(400)).body).toEqual(errorBody(800002));
      await next(id, `${token.slice(0, -2)}xx`).expect(400);
      await next(id, 'garbage').expect(400);
      await next(id, token).expect(200);
    });

    it('is 404 for another partner, and goes with the customer on delete', async () => {
      const { tenant, id } = await newCustomer();
      await put(tenant, id, profile('Changed')).expect(200);
      await request(t.server)
        .get(`/v1/customers/${id}/profiles/billing/history`)
        .set(bearer(newTenant()))
        .expect(404);
      await request(t.server).delete(`/v1/customers/${id}`).set(bearer(tenant)).expect(204);
      expect(await historyCount(id)).toBe(0);
    });
  });

  describe('bad input', () => {
    it('PUT with any body: never a 5xx, and a rejected one changes nothing', async () => {
      const { tenant, id } = await newCustomer();
      const anyValue = fc.oneof(fc.jsonValue(), fc.string({ maxLength: 300 }));
      const body = fc.oneof(
        fc.jsonValue(),
        fc
          .tuple(
            fc.constantFrom(
              'email',
              'culture',
              'language',
              'companyName',
              'defaultAddress',
              'attributes',
            ),
            anyValue,
          )
          .map(([key, value]) => ({ ...profile('Fuzz'), [key]: value })),
        fc
          .tuple(
            fc.constantFrom(
              'country',
              'state',
              'postalCode',
              'city',
              'phoneNumber',
              'addressLine1',
            ),
            anyValue,
          )
          .map(([key, value]) =>
            profile('Fuzz', { defaultAddress: { country: 'US', [key]: value } }),
          ),
      );
      await fc.assert(
        fc.asyncProperty(body, fc.option(fc.string({ maxLength: 80 })), async (value, ifMatch) => {
          const before = await storedRow(id);
          const call = put(tenant, id, value);
          const header = ifMatch?.replace(/[^\x20-\x7e]/g, '');
          if (header) void call.set('If-Match', header);
          const response = await call;
          expect(response.status).toBeLessThan(500);
          if (response.status !== 200) {
            expect(response.body).toEqual(errorBody(response.body.code as number));
            expect(await storedRow(id)).toEqual(before);
          }
        }),
        { numRuns: RUNS },
      );
    });

    it('history with any query and token: never a 5xx', async () => {
      const { tenant, id } = await newCustomer();
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(
            fc.constantFrom('size', 'seekOperation', 'x'),
            fc.string({ maxLength: 40 }),
          ),
          fc.option(fc.string({ maxLength: 200 })),
          async (query, token) => {
            const call = request(t.server)
              .get(`/v1/customers/${id}/profiles/billing/history`)
              .query(query)
              .set(bearer(tenant));
            const header = token?.replace(/[^\x20-\x7e]/g, '');
            if (header) void call.set('MS-ContinuationToken', header);
            const response = await call;
            expect([200, 400]).toContain(response.status);
          },
        ),
        { numRuns: RUNS },
      );
    });
  });
});
