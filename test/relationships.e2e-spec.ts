import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import request, { Response } from 'supertest';
import { RelationshipRequestEntity } from '../src/relationships/relationship-request.entity';
import { buildCustomer, createCustomer, uniqueDomain } from './support/factories';
import { describeEachDatabase } from './support/databases';
import { TestApp, useTestApp } from './support/test-app';
import { bearer, newTenant } from './support/tokens';
import { errorBody } from './support/errors';

const DAY_MS = 24 * 60 * 60 * 1000;
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

interface Invitation {
  id: string;
  /** The acceptance URL's path and query, as the customer POSTs to it. */
  path: string;
  url: string;
}

/** The helpers every describe below uses, bound to one booted app. */
function relationshipHelpers(t: TestApp) {
  const invite = async (partner: string, reseller?: string): Promise<Invitation> => {
    const query = reseller ? `?indirectResellerId=${reseller}` : '';
    const response = await request(t.server)
      .get(`/v1/customers/relationshiprequests${query}`)
      .set(bearer(partner))
      .expect(200);
    const url = new URL(response.body.url as string);
    return { id: url.pathname.split('/')[3], path: url.pathname + url.search, url: url.href };
  };

  const accept = (path: string, customerTenant: string, body?: object) => {
    const call = request(t.server).post(path).set(bearer(customerTenant));
    return body === undefined ? call : call.send(body);
  };

  const storedRequest = (id: string) =>
    t.dataSource.getRepository(RelationshipRequestEntity).findOneByOrFail({ id });

  const customerRow = async (id: string) =>
    (
      await t.dataSource.query<Record<string, string | null>[]>(
        'SELECT partner_tenant_id, relationship_to_partner, associated_partner_id FROM customers WHERE id = ?',
        [id],
      )
    )[0];

  const billingOwner = async (customerId: string) =>
    (
      await t.dataSource.query<{ p: string }[]>(
        'SELECT partner_tenant_id AS p FROM billing_profiles WHERE customer_id = ?',
        [customerId],
      )
    )[0]?.p;

  const count = async (table: string) =>
    Number((await t.dataSource.query<{ n: string }[]>(`SELECT COUNT(*) AS n FROM ${table}`))[0].n);

  /** Everything a rejected request must leave as it was. */
  const snapshot = async () =>
    JSON.stringify(
      await Promise.all(
        ['customers', 'billing_profiles', 'relationship_requests'].map((table) =>
          t.dataSource.query(`SELECT * FROM ${table} ORDER BY id`),
        ),
      ),
    );

  return { invite, accept, storedRequest, customerRow, billingOwner, count, snapshot };
}

describeEachDatabase('relationships', (kind) => {
  const t = useTestApp(kind);
  const { invite, accept, storedRequest, customerRow, billingOwner, count, snapshot } =
    relationshipHelpers(t);

  describe('GET /v1/customers/relationshiprequests', () => {
    it('stores a pending request for 30 days and returns its acceptance URL', async () => {
      const partner = newTenant();
      const response = await request(t.server)
        .get('/v1/customers/relationshiprequests')
        .set(bearer(partner))
        .expect(200);
      const id = new URL(response.body.url as string).pathname.split('/')[3];
      expect(response.body).toEqual({
        url: `http://localhost:3000/v1/relationshiprequests/${id}/acceptance?partnerId=${partner}`,
        attributes: { objectType: 'RelationshipRequest' },
      });
      const stored = await storedRequest(id);
      expect(stored).toMatchObject({
        partnerTenantId: partner,
        indirectResellerId: null,
        status: 'pending',
        acceptedAt: null,
        customerId: null,
      });
      expect(stored.expiresAt.getTime() - stored.createdAt.getTime()).toBe(30 * DAY_MS);
      expect(Math.abs(stored.createdAt.getTime() - Date.now())).toBeLessThan(60_000);

      const again = await invite(partner);
      expect(again.id).not.toBe(id);
    });

    it('records the indirect reseller, in any case, with braces, under a parameter name in any case', async () => {
      const reseller = randomUUID();
      for (const query of [
        `indirectResellerId=${reseller.toUpperCase()}`,
        `IndirectResellerId=${encodeURIComponent(`{${reseller}}`)}`,
      ]) {
        const response = await request(t.server)
          .get(`/v1/customers/relationshiprequests?${query}`)
          .set(bearer(newTenant()))
          .expect(200);
        const id = new URL(response.body.url as string).pathname.split('/')[3];
        expect((await storedRequest(id)).indirectResellerId).toBe(reseller);
      }
    });

    it('treats an empty indirectResellerId as none', async () => {
      const response = await request(t.server)
        .get('/v1/customers/relationshiprequests?indirectResellerId=')
        .set(bearer(newTenant()))
        .expect(200);
      const id = new URL(response.body.url as string).pathname.split('/')[3];
      expect((await storedRequest(id)).indirectResellerId).toBeNull();
    });

    it('answers 400 / 800002 for a reseller id that is not one GUID, and stores nothing', async () => {
      const before = await count('relationship_requests');
      for (const query of [
        'indirectResellerId=not-a-guid',
        `indirectResellerId=${randomUUID()}&indirectResellerId=${randomUUID()}`,
        `indirectResellerId=${randomUUID()}&INDIRECTRESELLERID=${randomUUID()}`,
      ]) {
        const response = await request(t.server)
          .get(`/v1/customers/relationshiprequests?${query}`)
          .set(bearer(newTenant()))
          .expect(400);
        expect(response.body).toEqual(errorBody(800002));
      }
      expect(await count('relationship_requests')).toBe(before);
    });

    it('stores nothing for a HEAD, which is checked like the GET', async () => {
      const before = await count('relationship_requests');
      await request(t.server)
        .head('/v1/customers/relationshiprequests')
        .set(bearer(newTenant()))
        .expect(200);
      await request(t.server)
        .head('/v1/customers/relationshiprequests?indirectResellerId=nope')
        .set(bearer(newTenant()))
        .expect(400);
      expect(await count('relationship_requests')).toBe(before);
    });

    it('needs a token', async () => {
      const response = await request(t.server)
        .get('/v1/customers/relationshiprequests')
        .expect(401);
      expect(response.body).toEqual(errorBody(800001));
    });
  });

  describe('POST /v1/relationshiprequests/{requestId}/acceptance', () => {
    it('creates a new customer under the inviting partner, with the reseller, as the partner sees it', async () => {
      const partner = newTenant();
      const reseller = randomUUID();
      const customerTenant = newTenant();
      const invitation = await invite(partner, reseller);
      const body = buildCustomer({ companyProfile: { companyName: 'Woodgrove Bank' } });

      const response = await accept(invitation.path, customerTenant, body).expect(201);
      expect(response.headers.location).toBe(`/v1/customers/${customerTenant}`);
      const asPartner = await request(t.server)
        .get(`/v1/customers/${customerTenant}`)
        .set(bearer(partner))
        .expect(200);
      expect(response.body).toEqual(asPartner.body);
      expect(response.body).toMatchObject({
        id: customerTenant,
        companyProfile: {
          tenantId: customerTenant,
          domain: body.companyProfile.domain,
          companyName: 'Woodgrove Bank',
        },
        billingProfile: { email: 'ada@contoso.com', companyName: 'Contoso' },
        relationshipToPartner: 'reseller',
        allowDelegatedAccess: true,
        associatedPartnerId: reseller,
        customDomains: [body.companyProfile.domain],
      });
      expect(response.body).not.toHaveProperty('userCredentials');

      expect(await customerRow(customerTenant)).toEqual({
        partner_tenant_id: partner,
        relationship_to_partner: 'reseller',
        associated_partner_id: reseller,
      });
      expect(await billingOwner(customerTenant)).toBe(partner);
      const stored = await storedRequest(invitation.id);
      expect(stored).toMatchObject({ status: 'accepted', customerId: customerTenant });
      expect(stored.acceptedAt).toBeInstanceOf(Date);
    });

    it('walks the whole flow: invite, accept, list, PATCH to none, invite again, win it back', async () => {
      const partner = newTenant();
      const customerTenant = newTenant();
      const listedRelationship = async () => {
        const list = await request(t.server).get('/v1/customers').set(bearer(partner)).expect(200);
        const items = list.body.items as { id: string; relationshipToPartner: string }[];
        expect(items.map((item) => item.id)).toEqual([customerTenant]);
        return items[0].relationshipToPartner;
      };

      await accept((await invite(partner)).path, customerTenant, buildCustomer()).expect(201);
      expect(await listedRelationship()).toBe('reseller');

      const removed = await request(t.server)
        .patch(`/v1/customers/${customerTenant}`)
        .set(bearer(partner))
        .send({ relationshipToPartner: 'none' })
        .expect(200);
      expect(removed.body).toMatchObject({
        relationshipToPartner: 'none',
        allowDelegatedAccess: false,
      });
      expect(await listedRelationship()).toBe('none');

      // An existing customer accepts with an empty body, or with none at all.
      const wonBack = await accept((await invite(partner)).path, customerTenant, {}).expect(201);
      expect(wonBack.body).toMatchObject({
        id: customerTenant,
        relationshipToPartner: 'reseller',
        allowDelegatedAccess: true,
      });
      expect(await listedRelationship()).toBe('reseller');
      expect((await customerRow(customerTenant)).relationship_to_partner).toBe('reseller');

      await request(t.server)
        .patch(`/v1/customers/${customerTenant}`)
        .set(bearer(partner))
        .send({ relationshipToPartner: 'none' })
        .expect(200);
      await accept((await invite(partner)).path, customerTenant).expect(201);
      expect(await listedRelationship()).toBe('reseller');
    });

    it("moves an existing customer to the inviting partner with its billing profile and the request's reseller", async () => {
      const oldPartner = newTenant();
      const newPartner = newTenant();
      const oldReseller = randomUUID();
      const existing = await createCustomer(t.server, oldPartner, {
        associatedPartnerId: oldReseller,
      });
      const customerTenant = existing.id as string;
      const newReseller = randomUUID();

      const response = await accept(
        (await invite(newPartner, newReseller)).path,
        customerTenant,
      ).expect(201);
      const { userCredentials: _credentials, ...before } = existing;
      expect(response.body).toEqual({
        ...before,
        associatedPartnerId: newReseller,
      });

      expect(await customerRow(customerTenant)).toEqual({
        partner_tenant_id: newPartner,
        relationship_to_partner: 'reseller',
        associated_partner_id: newReseller,
      });
      expect(await billingOwner(customerTenant)).toBe(newPartner);
      await request(t.server)
        .get(`/v1/customers/${customerTenant}/profiles/billing`)
        .set(bearer(newPartner))
        .expect(200);
      for (const path of ['', '/profiles/billing', '/profiles/company']) {
        await request(t.server)
          .get(`/v1/customers/${customerTenant}${path}`)
          .set(bearer(oldPartner))
          .expect(404);
      }
      // The old reseller belonged to the old relationship.
      await request(t.server)
        .get(`/v1/customers/${customerTenant}`)
        .set(bearer(oldReseller))
        .expect(404);
    });

    it('validates but does not apply a body sent by a customer the service knows', async () => {
      const partner = newTenant();
      const existing = await createCustomer(t.server, newTenant());
      const invitation = await invite(partner);
      const invalid = await accept(
        invitation.path,
        existing.id,
        buildCustomer({ billingProfile: { email: 'nope' } }),
      ).expect(400);
      expect(invalid.body.data).toEqual(['billingProfile.email must be an email address']);
      expect((await storedRequest(invitation.id)).status).toBe('pending');

      const other = buildCustomer({ companyProfile: { companyName: 'Renamed' } });
      const response = await accept(invitation.path, existing.id, other).expect(201);
      expect(response.body.companyProfile).toEqual(existing.companyProfile);
      expect(response.body.billingProfile).toEqual(existing.billingProfile);
      expect((await customerRow(existing.id)).partner_tenant_id).toBe(partner);
    });

    it('validates a new customer exactly like POST /v1/customers, and a rejection stores nothing', async () => {
      const partner = newTenant();
      const customerTenant = newTenant();
      const invitation = await invite(partner);
      const invalid = buildCustomer({
        companyProfile: { domain: '-bad-.example.com' },
        billingProfile: {
          email: 'not-an-email',
          companyName: 'Inc.',
          defaultAddress: { postalCode: '1234', addressLine1: '' },
        },
      });
      const before = await snapshot();

      const onCreate = await request(t.server)
        .post('/v1/customers')
        .set(bearer(partner))
        .send(invalid)
        .expect(400);
      const onAccept = await accept(invitation.path, customerTenant, invalid).expect(400);
      expect(onAccept.body).toEqual(errorBody(800002));
      expect(onAccept.body.data).toEqual(onCreate.body.data);

      const missingBoth = await accept(invitation.path, customerTenant).expect(400);
      expect(missingBoth.body).toEqual(errorBody(800002));
      expect(missingBoth.body.data).toEqual([
        'companyProfile is required when the customer is new to the service',
        'billingProfile is required when the customer is new to the service',
      ]);
      const { billingProfile: _billing, ...companyOnly } = buildCustomer();
      const missingBilling = await accept(invitation.path, customerTenant, companyOnly).expect(400);
      expect(missingBilling.body.data).toEqual([
        'billingProfile is required when the customer is new to the service',
      ]);
      // Country-dependent rules (CrossFieldRules) are part of "exactly like" too.
      const badStateAndCulture = buildCustomer({
        billingProfile: { culture: 'fr-FR', defaultAddress: { state: 'ZZ' } },
      });
      const crossField = await accept(invitation.path, customerTenant, badStateAndCulture);
      const crossFieldOnCreate = await request(t.server)
        .post('/v1/customers')
        .set(bearer(partner))
        .send(badStateAndCulture);
      expect(crossField.status).toBe(400);
      expect(crossField.body.data).toEqual(crossFieldOnCreate.body.data);

      expect(await snapshot()).toBe(before);
      expect((await storedRequest(invitation.id)).status).toBe('pending');

      // The request is still usable, also with a PascalCase body as the .NET SDK writes it.
      const valid = buildCustomer();
      await accept(invitation.path, customerTenant, {
        CompanyProfile: { Domain: valid.companyProfile.domain.toUpperCase(), TenantId: null },
        BillingProfile: { ...valid.billingProfile, Id: null },
        Attributes: { ObjectType: 'Customer' },
      }).expect(201);
      expect((await customerRow(customerTenant)).partner_tenant_id).toBe(partner);
    });

    it('answers 409 / 600010 for a taken domain and leaves the request pending', async () => {
      const taken = await createCustomer(t.server, newTenant());
      const invitation = await invite(newTenant());
      const response = await accept(
        invitation.path,
        newTenant(),
        buildCustomer({ companyProfile: { domain: taken.companyProfile.domain } }),
      ).expect(409);
      expect(response.body).toEqual(errorBody(600010));
      expect((await storedRequest(invitation.id)).status).toBe('pending');
    });

    it('answers 404 / 1000 for an unknown request, an accepted one and a foreign partnerId', async () => {
      const partner = newTenant();
      const unknown = await accept(
        `/v1/relationshiprequests/${randomUUID()}/acceptance`,
        newTenant(),
        buildCustomer(),
      ).expect(404);
      expect(unknown.body).toEqual(errorBody(1000));

      const invitation = await invite(partner);
      const foreignPartner = invitation.path.replace(partner, newTenant());
      await accept(foreignPartner, newTenant(), buildCustomer()).expect(404);
      expect((await storedRequest(invitation.id)).status).toBe('pending');

      // Without the partnerId of the URL it is still the same request.
      const first = newTenant();
      await accept(
        `/v1/relationshiprequests/${invitation.id}/acceptance`,
        first,
        buildCustomer(),
      ).expect(201);
      const customersBefore = await t.dataSource.query<unknown[]>('SELECT id FROM customers');
      for (const [tenant, body] of [
        [first, undefined],
        [newTenant(), buildCustomer()],
      ] as const) {
        const again = await accept(invitation.path, tenant, body).expect(404);
        expect(again.body).toEqual(errorBody(1000));
      }
      expect(await t.dataSource.query<unknown[]>('SELECT id FROM customers')).toEqual(
        customersBefore,
      );
      expect(await storedRequest(invitation.id)).toMatchObject({
        status: 'accepted',
        customerId: first,
      });
    });

    it('answers 404 / 1000 for a request whose stored expiry has passed, and records it expired', async () => {
      const invitation = await invite(newTenant());
      await t.dataSource
        .getRepository(RelationshipRequestEntity)
        .update(invitation.id, { expiresAt: new Date(Date.now() - 1000) });
      const customerTenant = newTenant();
      const response = await accept(invitation.path, customerTenant, buildCustomer()).expect(404);
      expect(response.body).toEqual(errorBody(1000));
      expect((await storedRequest(invitation.id)).status).toBe('expired');
      expect(await customerRow(customerTenant)).toBeUndefined();
    });

    describe('when the clock moves', () => {
      afterEach(() => {
        jest.useRealTimers();
      });

      it('accepts a request on its 29th day and answers 404 / 1000 after its 30th', async () => {
        const partner = newTenant();
        const early = await invite(partner);
        const late = await invite(partner);
        const onlyTheClock = {
          advanceTimers: true,
          doNotFake: [
            'hrtime',
            'nextTick',
            'performance',
            'queueMicrotask',
            'setImmediate',
            'clearImmediate',
            'setInterval',
            'clearInterval',
            'setTimeout',
            'clearTimeout',
          ],
        } satisfies Parameters<typeof jest.useFakeTimers>[0];

        jest.useFakeTimers({ ...onlyTheClock, now: Date.now() + 29 * DAY_MS });
        await accept(early.path, newTenant(), buildCustomer()).expect(201);

        jest.useFakeTimers({ ...onlyTheClock, now: Date.now() + 2 * DAY_MS });
        const customerTenant = newTenant();
        await accept(late.path, customerTenant, buildCustomer()).expect(404);
        expect((await storedRequest(late.id)).status).toBe('expired');
        expect(await customerRow(customerTenant)).toBeUndefined();
      });
    });

    it('answers 400 / 800002 for a request id or partnerId that is not a GUID', async () => {
      const invitation = await invite(newTenant());
      for (const path of [
        '/v1/relationshiprequests/not-a-guid/acceptance',
        `/v1/relationshiprequests/${invitation.id}/acceptance?partnerId=nope`,
        `/v1/relationshiprequests/${invitation.id}/acceptance?partnerId=${randomUUID()}&partnerId=${randomUUID()}`,
      ]) {
        const response = await accept(path, newTenant(), buildCustomer()).expect(400);
        expect(response.body).toEqual(errorBody(800002));
      }
      expect((await storedRequest(invitation.id)).status).toBe('pending');
    });

    it('refuses acceptance with the inviting partner’s or the reseller’s own token', async () => {
      const partner = newTenant();
      const reseller = newTenant();
      const invitation = await invite(partner, reseller);
      for (const tenant of [partner, reseller]) {
        const response = await accept(invitation.path, tenant, buildCustomer()).expect(400);
        expect(response.body).toEqual(errorBody(800002));
        expect(await customerRow(tenant)).toBeUndefined();
      }
      expect((await storedRequest(invitation.id)).status).toBe('pending');
    });

    it('lets exactly one of ten concurrent acceptances of one request succeed', async () => {
      const partner = newTenant();
      const invitation = await invite(partner);
      const tenants = Array.from({ length: 10 }, () => newTenant());
      const responses = await Promise.all(
        tenants.map((tenant) => accept(invitation.path, tenant, buildCustomer())),
      );
      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 201)).toHaveLength(1);
      expect(statuses.filter((status) => status === 404)).toHaveLength(9);
      const winner = tenants[statuses.indexOf(201)];
      const owned = await t.dataSource.query<{ id: string }[]>(
        'SELECT id FROM customers WHERE partner_tenant_id = ?',
        [partner],
      );
      expect(owned).toEqual([{ id: winner }]);
      expect(await storedRequest(invitation.id)).toMatchObject({
        status: 'accepted',
        customerId: winner,
      });
    });

    it('lets one of two concurrent acceptances by the same customer succeed', async () => {
      const invitation = await invite(newTenant());
      const customerTenant = newTenant();
      const body = buildCustomer();
      const statuses = (
        await Promise.all([
          accept(invitation.path, customerTenant, body),
          accept(invitation.path, customerTenant, body),
        ])
      ).map((response) => response.status);
      expect(statuses.sort()).toEqual([201, 404]);
    });

    it('creates one customer when two partners’ invitations are accepted by it at once', async () => {
      const partners = [newTenant(), newTenant()];
      const invitations = await Promise.all(partners.map((partner) => invite(partner)));
      const customerTenant = newTenant();
      const body = buildCustomer();
      const responses = await Promise.all(
        invitations.map((invitation) => accept(invitation.path, customerTenant, body)),
      );
      expect(responses.map((response) => response.status)).toEqual([201, 201]);
      const row = await customerRow(customerTenant);
      expect(partners).toContain(row.partner_tenant_id);
      expect(await billingOwner(customerTenant)).toBe(row.partner_tenant_id);
      for (const invitation of invitations) {
        expect((await storedRequest(invitation.id)).status).toBe('accepted');
      }
    });
  });

  describe('GET /v1/customers/{id}/relationships', () => {
    it('lists the indirect reseller to the owner, and nothing for a customer without one', async () => {
      const partner = newTenant();
      const reseller = randomUUID();
      const withReseller = await createCustomer(t.server, partner, {
        associatedPartnerId: reseller,
      });
      const response = await request(t.server)
        .get(`/v1/customers/${withReseller.id}/relationships`)
        .set(bearer(partner))
        .expect(200);
      expect(response.body).toEqual({
        totalCount: 1,
        items: [
          {
            id: reseller,
            name: reseller,
            relationshipType: 'is_indirect_reseller_of',
            state: 'active',
            attributes: { objectType: 'PartnerRelationship' },
          },
        ],
        links: {
          self: { uri: `/customers/${withReseller.id}/relationships`, method: 'GET', headers: [] },
        },
        attributes: { objectType: 'Collection' },
      });

      const without = await createCustomer(t.server, partner);
      const empty = await request(t.server)
        .get(`/v1/customers/${without.id}/relationships`)
        .set(bearer(partner))
        .expect(200);
      expect(empty.body).toEqual({
        totalCount: 0,
        items: [],
        links: {
          self: { uri: `/customers/${without.id}/relationships`, method: 'GET', headers: [] },
        },
        attributes: { objectType: 'Collection' },
      });
    });

    it('answers 404 to other partners and to the reseller, 400 / 900118 for a bad id', async () => {
      const reseller = newTenant();
      const customer = await createCustomer(t.server, newTenant(), {
        associatedPartnerId: reseller,
      });
      for (const tenant of [newTenant(), reseller]) {
        const response = await request(t.server)
          .get(`/v1/customers/${customer.id}/relationships`)
          .set(bearer(tenant))
          .expect(404);
        expect(response.body).toEqual(errorBody(1000));
      }
      const bad = await request(t.server)
        .get('/v1/customers/not-a-guid/relationships')
        .set(bearer(reseller))
        .expect(400);
      expect(bad.body).toEqual(errorBody(900118));
    });
  });

  describe('the indirect reseller', () => {
    const owner = newTenant();
    const otherOwner = newTenant();
    const reseller = newTenant();
    const otherReseller = newTenant();
    const customers: Record<string, Record<string, any>> = {};

    beforeAll(async () => {
      const make = (tenant: string, name: string, associatedPartnerId?: string) =>
        createCustomer(t.server, tenant, {
          companyProfile: { companyName: name },
          ...(associatedPartnerId && { associatedPartnerId }),
        });
      customers.alpha = await make(owner, 'Alpha', reseller);
      customers.beta = await make(owner, 'Beta', reseller);
      customers.gamma = await make(owner, 'Gamma', otherReseller);
      customers.delta = await make(owner, 'Delta');
      customers.epsilon = await make(otherOwner, 'Epsilon', reseller);
      // A customer won through an invitation that names the reseller counts the same.
      const invitation = await invite(owner, reseller);
      const zetaTenant = newTenant();
      await accept(
        invitation.path,
        zetaTenant,
        buildCustomer({ companyProfile: { companyName: 'Zeta' } }),
      ).expect(201);
      customers.zeta = (
        await request(t.server).get(`/v1/customers/${zetaTenant}`).set(bearer(owner)).expect(200)
      ).body;
    });

    const listAs = async (tenant: string, filter?: object) => {
      const query = filter ? `?filter=${encodeURIComponent(JSON.stringify(filter))}` : '';
      const response = await request(t.server)
        .get(`/v1/customers${query}`)
        .set(bearer(tenant))
        .expect(200);
      return (response.body.items as { id: string }[]).map((item) => item.id);
    };

    it('reads its customers and their company profiles, without the billing profile', async () => {
      for (const name of ['alpha', 'epsilon', 'zeta']) {
        const {
          id,
          billingProfile: _billing,
          userCredentials: _credentials,
          ...visible
        } = customers[name];
        const response = await request(t.server)
          .get(`/v1/customers/${id}`)
          .set(bearer(reseller))
          .expect(200);
        expect(response.body).toEqual({ id, ...visible });
        const profile = await request(t.server)
          .get(`/v1/customers/${id}/profiles/company`)
          .set(bearer(reseller))
          .expect(200);
        expect(profile.body).toEqual(customers[name].companyProfile);
      }
    });

    it('lists its customers per owning partner with the IndirectCloudSolutionProvider filter', async () => {
      const byOwner = (partner: string) => ({
        Field: 'IndirectCloudSolutionProvider',
        Value: partner.toUpperCase(),
        Operator: 'starts_with',
      });
      expect(await listAs(reseller, byOwner(owner))).toEqual(
        [customers.alpha, customers.beta, customers.zeta].map((c) => c.id),
      );
      expect(await listAs(reseller, byOwner(otherOwner))).toEqual([customers.epsilon.id]);
      expect(await listAs(otherReseller, byOwner(owner))).toEqual([customers.gamma.id]);
      expect(await listAs(reseller, byOwner(newTenant()))).toEqual([]);
      // Unfiltered, the list is the caller's own customers: a reseller owns none.
      expect(await listAs(reseller)).toEqual([]);
    });

    it('is the filter of the owner’s IndirectReseller list', async () => {
      const filter = { Field: 'IndirectReseller', Value: reseller, Operator: 'starts_with' };
      expect(await listAs(owner, filter)).toEqual(
        [customers.alpha, customers.beta, customers.zeta].map((c) => c.id),
      );
    });

    it('gets 404 on billing profiles, on every write, and on customers that are not its own', async () => {
      const before = await snapshot();
      const alpha = customers.alpha.id as string;
      const auth = bearer(reseller);
      const attempts: [string, () => PromiseLike<Response>][] = [
        [
          'GET billing',
          () => request(t.server).get(`/v1/customers/${alpha}/profiles/billing`).set(auth),
        ],
        [
          'PUT billing',
          () =>
            request(t.server)
              .put(`/v1/customers/${alpha}/profiles/billing`)
              .set(auth)
              .send(buildCustomer().billingProfile),
        ],
        [
          'GET history',
          () => request(t.server).get(`/v1/customers/${alpha}/profiles/billing/history`).set(auth),
        ],
        [
          'PATCH',
          () =>
            request(t.server)
              .patch(`/v1/customers/${alpha}`)
              .set(auth)
              .send({ relationshipToPartner: 'none' }),
        ],
        ['DELETE', () => request(t.server).delete(`/v1/customers/${alpha}`).set(auth)],
        [
          'GET relationships',
          () => request(t.server).get(`/v1/customers/${alpha}/relationships`).set(auth),
        ],
        [
          'GET other reseller’s',
          () => request(t.server).get(`/v1/customers/${customers.gamma.id}`).set(auth),
        ],
        [
          'GET other reseller’s company profile',
          () =>
            request(t.server).get(`/v1/customers/${customers.gamma.id}/profiles/company`).set(auth),
        ],
        [
          'GET without reseller',
          () => request(t.server).get(`/v1/customers/${customers.delta.id}`).set(auth),
        ],
      ];
      for (const [what, attempt] of attempts) {
        const response = await attempt();
        expect({ what, status: response.status, body: response.body }).toEqual({
          what,
          status: 404,
          body: errorBody(1000),
        });
      }
      expect(await snapshot()).toBe(before);
      await request(t.server)
        .get(`/v1/customers/${alpha}/profiles/billing`)
        .set(bearer(owner))
        .expect(200);
    });
  });

  describe('bad input', () => {
    /** The contract's error shape (CONTRACT section 4), and never a 5xx. */
    const expectContractAnswer = (response: Response) => {
      expect(response.status).toBeLessThan(500);
      if (response.status >= 400 && response.status !== 429) {
        expect(response.body).toEqual(errorBody(expect.any(Number)));
        for (const line of response.body.data as unknown[]) expect(typeof line).toBe('string');
      }
    };

    const weirdValue = fc.oneof(
      fc.jsonValue(),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.constantFrom('', ' ', '\u0000', '\ud800', 'x'.repeat(5000), '__proto__', '%_\\', '{}'),
      fc.constantFrom(1e308, -0, true, [], {}, null),
    );
    const PATHS = [
      ['companyProfile'],
      ['companyProfile', 'domain'],
      ['companyProfile', 'companyName'],
      ['companyProfile', 'organizationRegistrationNumber'],
      ['billingProfile'],
      ['billingProfile', 'email'],
      ['billingProfile', 'culture'],
      ['billingProfile', 'companyName'],
      ['billingProfile', 'defaultAddress'],
      ['billingProfile', 'defaultAddress', 'country'],
      ['billingProfile', 'defaultAddress', 'postalCode'],
      ['relationshipToPartner'],
      ['id'],
    ];
    const mutatedBody = fc
      .tuple(fc.constantFrom(...PATHS), weirdValue)
      .map(([path, value]): unknown => {
        const body = buildCustomer();
        let target: Record<string, unknown> = body;
        for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
        target[path[path.length - 1]] = value;
        return body;
      });
    const anyBody = fc.oneof(mutatedBody, fc.jsonValue(), fc.object(), fc.constant(undefined));
    const pathSegment = fc.oneof(
      fc.uuid(),
      fc.string({ maxLength: 60 }),
      fc.constantFrom('{', '}', '%00', '..', '%2F', `{${randomUUID()}`, randomUUID().toUpperCase()),
    );

    it('answers 400, not 500, for a string that is not valid Unicode (a lone surrogate)', async () => {
      // JSON can spell a lone surrogate ("\ud800"); validator's isEmail throws on it (encodeURI).
      const invitation = await invite(newTenant());
      const customerTenant = newTenant();
      const body = JSON.stringify(buildCustomer({ billingProfile: { email: '\ud800' } }));
      const response = await request(t.server)
        .post(invitation.path)
        .set(bearer(customerTenant))
        .set('Content-Type', 'application/json')
        .send(body);
      expect(response.status).toBe(400);
      expect(response.body).toEqual(errorBody(800002));
      expect(await customerRow(customerTenant)).toBeUndefined();
    });

    it('GET relationshiprequests: any query is 200 storing one request, or a 400 storing nothing', async () => {
      const partner = newTenant();
      await fc.assert(
        fc.asyncProperty(
          fc.dictionary(
            fc.constantFrom('indirectResellerId', 'INDIRECTRESELLERID', 'partnerId', 'other'),
            fc.oneof(
              fc.string({ maxLength: 80 }),
              fc.uuid(),
              fc.array(fc.uuid(), { maxLength: 3 }),
            ),
          ),
          async (query) => {
            const before = await count('relationship_requests');
            const response = await request(t.server)
              .get('/v1/customers/relationshiprequests')
              .query(query)
              .set(bearer(partner));
            expectContractAnswer(response);
            expect([200, 400]).toContain(response.status);
            const after = await count('relationship_requests');
            expect(after).toBe(response.status === 200 ? before + 1 : before);
          },
        ),
        { numRuns: RUNS },
      );
    });

    it('acceptance: any body, request id and partnerId is 201 or a contract 4xx; a rejection stores nothing', async () => {
      const partner = newTenant();
      await fc.assert(
        fc.asyncProperty(
          anyBody,
          fc.option(pathSegment, { nil: undefined }),
          fc.option(fc.oneof(fc.constant('own'), fc.string({ maxLength: 40 })), { nil: undefined }),
          async (body, requestSegment, partnerParam) => {
            const invitation = await invite(partner);
            const id = requestSegment ?? invitation.id;
            const query =
              partnerParam === undefined
                ? ''
                : `?partnerId=${encodeURIComponent(partnerParam === 'own' ? partner : partnerParam)}`;
            const customerTenant = newTenant();
            const before = await snapshot();
            const call = request(t.server)
              .post(`/v1/relationshiprequests/${encodeURIComponent(id)}/acceptance${query}`)
              .set(bearer(customerTenant));
            const response =
              body === undefined
                ? await call
                : await call.set('Content-Type', 'application/json').send(JSON.stringify(body));
            expectContractAnswer(response);
            if (response.status === 201) {
              expect(response.body.id).toBe(customerTenant);
              expect((await storedRequest(invitation.id)).customerId).toBe(customerTenant);
            } else {
              expect(await snapshot()).toBe(before);
            }
          },
        ),
        { numRuns: RUNS },
      );
    });

    it('GET relationships: any id is 200 or a contract 4xx', async () => {
      const owner = newTenant();
      const customer = await createCustomer(t.server, owner, { associatedPartnerId: randomUUID() });
      await fc.assert(
        fc.asyncProperty(fc.oneof(pathSegment, fc.constant(customer.id as string)), async (id) => {
          const response = await request(t.server)
            .get(`/v1/customers/${encodeURIComponent(id)}/relationships`)
            .set(bearer(owner));
          expectContractAnswer(response);
          expect(id === customer.id ? [200] : [400, 404]).toContain(response.status);
        }),
        { numRuns: RUNS },
      );
    });
  });
});

describeEachDatabase('relationships with RELATIONSHIP_REQUEST_URL_TEMPLATE', (kind) => {
  const t = useTestApp(kind, {
    RELATIONSHIP_REQUEST_URL_TEMPLATE:
      'https://portal.example.com/invite?partner={partnerId}&request={requestId}&again={partnerId}',
  });

  it('builds the invitation URL from the template, replacing every placeholder', async () => {
    const partner = newTenant();
    const response = await request(t.server)
      .get('/v1/customers/relationshiprequests')
      .set(bearer(partner))
      .expect(200);
    const url = new URL(response.body.url as string);
    const requestId = url.searchParams.get('request') ?? '';
    expect(response.body.url).toBe(
      `https://portal.example.com/invite?partner=${partner}&request=${requestId}&again=${partner}`,
    );
    const stored = await t.dataSource
      .getRepository(RelationshipRequestEntity)
      .findOneByOrFail({ id: requestId });
    expect(stored.partnerTenantId).toBe(partner);
    await request(t.server)
      .post(`/v1/relationshiprequests/${requestId}/acceptance`)
      .set(bearer(newTenant()))
      .send(buildCustomer({ companyProfile: { domain: uniqueDomain('template') } }))
      .expect(201);
  });
});
