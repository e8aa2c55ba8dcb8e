import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { createCustomer } from './support/factories';
import { describeEachDatabase } from './support/databases';
import { TestApp, useTestApp } from './support/test-app';
import { bearer, newTenant } from './support/tokens';

interface Page {
  items: { id: string; companyProfile: { companyName: string } }[];
  continuationToken?: string;
  totalCount: number;
  links: {
    self: unknown;
    next?: { uri: string; method: string; headers: { key: string; value: string }[] };
  };
}

/** Inserts customers straight into the table (fast), as the create operation would store them. */
async function seedCustomers(t: TestApp, tenantId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const rows: unknown[][] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    ids.push(id);
    // Names collide on purpose (every 7th repeats) so the id tie-break is exercised.
    const name = `Company ${String(i % 997).padStart(4, '0')}${i % 3 === 0 ? ' GmbH' : ''}`;
    rows.push([
      id,
      tenantId,
      randomUUID(),
      `seed-${id.slice(0, 18)}.onmicrosoft.com`,
      name,
      name.toLowerCase(),
    ]);
  }
  // A literal both databases read as a DATETIME(3).
  const createdAt = new Date().toISOString().slice(0, 23).replace('T', ' ');
  for (let start = 0; start < rows.length; start += 200) {
    const chunk = rows.slice(start, start + 200);
    await t.dataSource.query(
      `INSERT INTO customers (id, partner_tenant_id, commerce_id, domain, company_name, company_name_key,
        relationship_to_partner, created_at) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?, 'reseller', ?)").join(', ')}`,
      chunk.flatMap((row) => [...row, createdAt]),
    );
  }
  return ids;
}

/** Follows links.next exactly as the Java SDK does: /v1 + uri, every header of the link. */
async function walk(t: TestApp, tenantId: string, firstUri: string, onPage?: () => Promise<void>) {
  const seen: Page['items'] = [];
  let response = await request(t.server).get(firstUri).set(bearer(tenantId)).expect(200);
  for (;;) {
    const page = response.body as Page;
    seen.push(...page.items);
    expect(page.totalCount).toBe(page.items.length);
    if (!page.links.next) {
      expect(page.continuationToken).toBeUndefined();
      return seen;
    }
    expect(page.links.next.headers[0].value).toBe(page.continuationToken);
    if (onPage) await onPage();
    const next = request(t.server).get(`/v1${page.links.next.uri}`).set(bearer(tenantId));
    for (const header of page.links.next.headers) void next.set(header.key, header.value);
    response = await next.expect(200);
  }
}

function byListOrder(a: Page['items'][number], b: Page['items'][number]): number {
  const ka = a.companyProfile.companyName.toLowerCase();
  const kb = b.companyProfile.companyName.toLowerCase();
  return ka < kb ? -1 : ka > kb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

describeEachDatabase('customer list and paging', (kind) => {
  const t = useTestApp(kind);

  it('walks 1,234 customers with size=100 by following links.next: each once, in order', async () => {
    const tenant = newTenant();
    const ids = await seedCustomers(t, tenant, 1234);
    await seedCustomers(t, newTenant(), 50); // another partner's: never seen

    const seen = await walk(t, tenant, '/v1/customers?size=100');
    expect(seen).toHaveLength(1234);
    expect(new Set(seen.map((c) => c.id))).toEqual(new Set(ids));
    expect([...seen].sort(byListOrder)).toEqual(seen);
  });

  it('loses and repeats nothing present throughout while customers come and go', async () => {
    const tenant = newTenant();
    const stable = await seedCustomers(t, tenant, 600);
    const churn = await seedCustomers(t, tenant, 200);
    let round = 0;
    const seen = await walk(t, tenant, '/v1/customers?size=50', async () => {
      round++;
      // Delete some customers of the churn set and create new ones, on both sides of the cursor.
      const victims = churn.splice(0, 10);
      await t.dataSource.query(
        `DELETE FROM customers WHERE id IN (${victims.map(() => '?').join(', ')})`,
        victims,
      );
      await seedCustomers(t, tenant, 10);
      await createCustomer(t.server, tenant, {
        billingProfile: { companyName: round % 2 ? 'Aardvark Ltd' : 'Zebra Holdings' },
      });
    });
    const ids = seen.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    const seenIds = new Set(ids);
    for (const id of stable) expect(seenIds.has(id)).toBe(true);
  });

  it('keeps the size and the filter in the token (seekOperation=Next with the header alone)', async () => {
    const tenant = newTenant();
    for (const name of ['Alpha One', 'alpha two', 'Alpha_Three', 'Beta']) {
      await createCustomer(t.server, tenant, { billingProfile: { companyName: name } });
    }
    const filter = encodeURIComponent(
      JSON.stringify({ Field: 'CompanyName', Value: 'ALPHA', Operator: 'starts_with' }),
    );
    const first = await request(t.server)
      .get(`/v1/customers?size=2&filter=${filter}`)
      .set(bearer(tenant))
      .expect(200);
    expect(first.body.items.map((c: Page['items'][0]) => c.companyProfile.companyName)).toEqual([
      'Alpha One',
      'alpha two',
    ]);
    expect(first.body.items[0]).not.toHaveProperty('billingProfile');
    expect(first.body.links.next.uri).toBe('/customers?size=2&seekOperation=Next');
    const second = await request(t.server)
      .get('/v1/customers?seekOperation=next')
      .set(bearer(tenant))
      .set('MS-ContinuationToken', first.body.continuationToken)
      .expect(200);
    expect(second.body.items.map((c: Page['items'][0]) => c.companyProfile.companyName)).toEqual([
      'Alpha_Three',
    ]);
    expect(second.body.links.next).toBeUndefined();
  });

  it('filters by domain prefix and matches LIKE wildcards literally', async () => {
    const tenant = newTenant();
    const a = await createCustomer(t.server, tenant, {
      companyProfile: { domain: 'wild-a1.onmicrosoft.com' },
    });
    await createCustomer(t.server, tenant, { billingProfile: { companyName: '100% Natural' } });
    await createCustomer(t.server, tenant, { billingProfile: { companyName: '1000 Natural' } });
    const query = async (filter: object) =>
      (
        await request(t.server)
          .get(`/v1/customers?filter=${encodeURIComponent(JSON.stringify(filter))}`)
          .set(bearer(tenant))
          .expect(200)
      ).body.items.map((c: Page['items'][0]) => c.id);
    // The Java SDK's shape: lower-case keys, StartsWith, an extra fieldType.
    expect(
      await query({
        field: 'Domain',
        value: 'WILD-A',
        operator: 'StartsWith',
        fieldType: 'String',
      }),
    ).toEqual([a.id]);
    const percent = await query({ Field: 'CompanyName', Value: '100%', Operator: 'starts_with' });
    expect(percent).toHaveLength(1);
    expect(await query({ Field: 'CompanyName', Value: '_', Operator: 'starts_with' })).toEqual([]);
  });

  it('filters by indirect reseller', async () => {
    const tenant = newTenant();
    const reseller = randomUUID();
    const mine = await createCustomer(t.server, tenant, {
      associatedPartnerId: reseller.toUpperCase(),
    });
    await createCustomer(t.server, tenant);
    const filter = encodeURIComponent(
      JSON.stringify({ Field: 'IndirectReseller', Value: reseller, Operator: 'starts_with' }),
    );
    const response = await request(t.server)
      .get(`/v1/customers?filter=${filter}`)
      .set(bearer(tenant))
      .expect(200);
    expect(response.body.items.map((c: Page['items'][0]) => c.id)).toEqual([mine.id]);
    expect(response.body.items[0].associatedPartnerId).toBe(reseller);
  });

  it('answers 400 / 800002 for bad sizes, filters, seek operations and tokens', async () => {
    const tenant = newTenant();
    await seedCustomers(t, tenant, 3);
    const first = await request(t.server)
      .get('/v1/customers?size=1')
      .set(bearer(tenant))
      .expect(200);
    const token: string = first.body.continuationToken;
    const [body, mac] = token.split('.');
    const tampered = `${Buffer.from(JSON.stringify({ size: 1, filter: null, key: '', id: '' })).toString('base64url')}.${mac}`;
    const badRequests: [string, Record<string, string>][] = [
      ['/v1/customers?size=501', {}],
      ['/v1/customers?size=-1', {}],
      ['/v1/customers?size=abc', {}],
      ['/v1/customers?size=1&size=2', {}],
      ['/v1/customers?filter=notjson', {}],
      ['/v1/customers?filter=%7B%7D', {}],
      [
        `/v1/customers?filter=${encodeURIComponent('{"Field":"Nope","Value":"a","Operator":"starts_with"}')}`,
        {},
      ],
      [
        `/v1/customers?filter=${encodeURIComponent('{"Field":"CompanyName","Value":"a","Operator":"equals"}')}`,
        {},
      ],
      [
        `/v1/customers?filter=${encodeURIComponent('{"Field":"CompanyName","Value":"","Operator":"starts_with"}')}`,
        {},
      ],
      ['/v1/customers?seekOperation=Previous', { 'MS-ContinuationToken': token }],
      ['/v1/customers?seekOperation=Next', {}],
      ['/v1/customers?seekOperation=Next', { 'MS-ContinuationToken': tampered }],
      ['/v1/customers?seekOperation=Next', { 'MS-ContinuationToken': token.slice(0, -3) }],
      ['/v1/customers?seekOperation=Next', { 'MS-ContinuationToken': `${body}x.${mac}` }],
      ['/v1/customers?seekOperation=Next', { 'MS-ContinuationToken': 'garbage' }],
    ];
    for (const [uri, headers] of badRequests) {
      const response = await request(t.server).get(uri).set(bearer(tenant)).set(headers);
      expect({ uri, status: response.status, code: response.body.code }).toEqual({
        uri,
        status: 400,
        code: 800002,
      });
    }
    // A token is valid only for the tenant it was issued to.
    const foreign = await request(t.server)
      .get('/v1/customers?seekOperation=Next')
      .set(bearer(newTenant()))
      .set('MS-ContinuationToken', token)
      .expect(400);
    expect(foreign.body.code).toBe(800002);
    // size=0 means the default.
    const all = await request(t.server).get('/v1/customers?size=0').set(bearer(tenant)).expect(200);
    expect(all.body.totalCount).toBe(3);
  });
});
