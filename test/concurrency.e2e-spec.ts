import { randomUUID } from 'node:crypto';
import request, { Response } from 'supertest';
import {
  buildCustomer,
  createCustomer,
  buildBillingProfile as profile,
  billingValuesOf as valuesOf,
} from './support/factories';
import { describeEachDatabase } from './support/databases';
import { errorBody } from './support/errors';
import { useTestApp } from './support/test-app';
import { bearer, newTenant } from './support/tokens';

// Issue #10: what production traffic does to one service. Every case sends PARALLEL requests at
// once, ROUNDS times, each round on a fresh tenant (so the 500-per-minute budget of CONTRACT
// section 9 never interferes). On MariaDB these raced into deadlocks (500), spurious 412s on
// unconditional PUTs and a 204 for every one of concurrent DELETEs.
const PARALLEL = 50;
const ROUNDS = 3;

jest.setTimeout(90_000);

type Body = Record<string, any>;

const times = <T>(count: number, make: (i: number) => T): T[] =>
  Array.from({ length: count }, (_, i) => make(i));

/** `201`, `201 replayed`, `409 / 600011`: how one answer is counted in the summary. */
function label(response: Response): string {
  const replayed = response.headers['idempotent-replayed'] === 'true' ? ' replayed' : '';
  const code = response.status >= 400 && typeof response.body?.code === 'number';
  return `${response.status}${replayed}${code ? ` / ${response.body.code as number}` : ''}`;
}

function expectNo5xx(responses: Response[]): void {
  const failures = responses.filter((response) => response.status >= 500).map(label);
  expect(failures).toEqual([]);
}

describeEachDatabase('concurrency', (kind) => {
  const t = useTestApp(kind);

  // Status counts per case, summed over the rounds, printed once for the closing note.
  const summary = new Map<string, Map<string, number>>();
  function tally(name: string, responses: Response[], prefix = ''): void {
    const counts = summary.get(name) ?? new Map<string, number>();
    summary.set(name, counts);
    for (const response of responses) {
      const key = `${prefix}${label(response)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  afterAll(() => {
    const lines = [...summary].map(
      ([name, counts]) =>
        `  ${name}: ${[...counts]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, n]) => `${n} × ${key}`)
          .join(', ')}`,
    );
    console.log(
      `concurrency [${kind}]: ${PARALLEL} in parallel, ${ROUNDS} rounds\n${lines.join('\n')}`,
    );
  });

  const count = async (table: string, column: string, value: string) =>
    Number(
      (
        await t.dataSource.query<{ n: number | string }[]>(
          `SELECT COUNT(*) AS n FROM ${table} WHERE ${column} = ?`,
          [value],
        )
      )[0].n,
    );

  const post = (tenant: string, body: Body, requestId?: string) => {
    const call = request(t.server).post('/v1/customers').set(bearer(tenant));
    return (requestId ? call.set('MS-RequestId', requestId) : call).send(body);
  };
  const getProfile = (tenant: string, id: string) =>
    request(t.server).get(`/v1/customers/${id}/profiles/billing`).set(bearer(tenant));
  const put = (tenant: string, id: string, body: Body) =>
    request(t.server)
      .put(`/v1/customers/${id}/profiles/billing`)
      .set(bearer(tenant))
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));
  const remove = (tenant: string, id: string) =>
    request(t.server).delete(`/v1/customers/${id}`).set(bearer(tenant));

  /** Every change in the history, newest first, following links.next as a client does. */
  async function history(tenant: string, id: string): Promise<Body[]> {
    const items: Body[] = [];
    let page = await request(t.server)
      .get(`/v1/customers/${id}/profiles/billing/history?size=20`)
      .set(bearer(tenant))
      .expect(200);
    for (;;) {
      items.push(...(page.body.items as Body[]));
      const next = page.body.links.next as
        { uri: string; headers: { key: string; value: string }[] } | undefined;
      if (!next) return items;
      const call = request(t.server).get(`/v1${next.uri}`).set(bearer(tenant));
      for (const header of next.headers) void call.set(header.key, header.value);
      page = await call.expect(200);
    }
  }

  it(`creates ${PARALLEL} customers with their own MS-RequestId at once, and replays each`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const tenant = newTenant();
      const requestIds = times(PARALLEL, () => randomUUID());
      const bodies = requestIds.map(() => buildCustomer());
      const responses = await Promise.all(
        requestIds.map((requestId, i) => post(tenant, bodies[i], requestId)),
      );
      tally('1. creates, own MS-RequestId', responses);
      expectNo5xx(responses);
      expect(responses.map(label)).toEqual(Array(PARALLEL).fill('201'));
      expect(await count('customers', 'partner_tenant_id', tenant)).toBe(PARALLEL);
      expect(new Set(responses.map((response) => response.body.id)).size).toBe(PARALLEL);

      const replays = await Promise.all(
        requestIds.map((requestId, i) => post(tenant, bodies[i], requestId)),
      );
      tally('1. replays of each MS-RequestId', replays);
      replays.forEach((replay, i) => {
        expect(label(replay)).toBe('201 replayed');
        expect(replay.headers['ms-requestid']).toBe(requestIds[i]);
        // The replay leaves the password out: it is never stored (CONTRACT section 8).
        const { userCredentials, ...rest } = responses[i].body as Body;
        expect(replay.body).toEqual({
          ...rest,
          userCredentials: { userName: userCredentials.userName },
        });
      });
      expect(await count('customers', 'partner_tenant_id', tenant)).toBe(PARALLEL);
    }
  });

  it(`creates ${PARALLEL} customers without MS-RequestId at once`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const tenant = newTenant();
      const responses = await Promise.all(times(PARALLEL, () => post(tenant, buildCustomer())));
      tally('2. creates, no MS-RequestId', responses);
      expectNo5xx(responses);
      expect(responses.map(label)).toEqual(Array(PARALLEL).fill('201'));
      expect(await count('customers', 'partner_tenant_id', tenant)).toBe(PARALLEL);
    }
  });

  it(`creates exactly one customer from ${PARALLEL} concurrent requests with one MS-RequestId`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const tenant = newTenant();
      const requestId = randomUUID();
      const body = buildCustomer();
      const responses = await Promise.all(times(PARALLEL, () => post(tenant, body, requestId)));
      tally('3. one MS-RequestId', responses);
      expectNo5xx(responses);
      expect(await count('customers', 'partner_tenant_id', tenant)).toBe(1);
      const [created] = await t.dataSource.query<{ id: string }[]>(
        'SELECT id FROM customers WHERE partner_tenant_id = ?',
        [tenant],
      );
      for (const response of responses) {
        expect(['201', '201 replayed', '409 / 600011']).toContain(label(response));
        if (response.status === 201) expect(response.body.id).toBe(created.id);
        else expect(response.body).toEqual(errorBody(600011));
      }
      // Exactly one answer is the original, with the password; the other 201s are replays.
      const originals = responses.filter((response) => label(response) === '201');
      expect(originals).toHaveLength(1);
      expect(originals[0].body.userCredentials.password).toEqual(expect.any(String));
    }
  });

  it(`serialises ${PARALLEL} concurrent unconditional PUTs: all succeed and all are in the history`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const tenant = newTenant();
      const { id } = (await createCustomer(t.server, tenant)) as { id: string };
      const initial = valuesOf((await getProfile(tenant, id).expect(200)).body);
      const names = times(PARALLEL, (i) => `Contoso ${i}`);

      const responses = await Promise.all(names.map((name) => put(tenant, id, profile(name))));
      tally('4. unconditional PUTs', responses);
      expectNo5xx(responses);
      expect(responses.map(label)).toEqual(Array(PARALLEL).fill('200'));
      responses.forEach((response, i) =>
        expect(valuesOf(response.body)).toEqual(profile(names[i])),
      );
      const etags = responses.map((response) => response.body.attributes.etag as string);
      expect(new Set(etags).size).toBe(PARALLEL);

      // The last one wins: the stored profile is one of the bodies, with that answer's etag.
      const stored = (await getProfile(tenant, id).expect(200)).body as Body;
      const winner = names.indexOf(stored.companyName as string);
      expect(winner).toBeGreaterThanOrEqual(0);
      expect(valuesOf(stored)).toEqual(profile(names[winner]));
      expect(stored.attributes.etag).toBe(etags[winner]);

      // Every PUT is in the history exactly once, and the changes form one chain from the
      // profile as created to the stored one: nothing was lost or overwritten unrecorded.
      const changes = await history(tenant, id);
      expect(await count('billing_profile_changes', 'customer_id', id)).toBe(PARALLEL);
      expect(changes).toHaveLength(PARALLEL);
      expect(changes.map((change) => change.after.companyName as string).sort()).toEqual(
        [...names].sort(),
      );
      const oldestFirst = [...changes].reverse();
      expect(oldestFirst[0].before).toEqual(initial);
      oldestFirst.slice(1).forEach((change, i) => {
        expect(change.before).toEqual(oldestFirst[i].after);
      });
      expect(changes[0].after).toEqual(valuesOf(stored));
      for (const change of changes) expect(change.changedBy).toBe(tenant);
    }
  });

  it(`lets exactly one of ${PARALLEL} concurrent PUTs with the same If-Match win`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const tenant = newTenant();
      const { id } = (await createCustomer(t.server, tenant)) as { id: string };
      const before = (await getProfile(tenant, id).expect(200)).body as Body;
      const etag = before.attributes.etag as string;

      const responses = await Promise.all(
        times(PARALLEL, (i) =>
          put(tenant, id, profile(`Writer ${i}`)).set('If-Match', `"${etag}"`),
        ),
      );
      tally('5. PUTs with one If-Match', responses);
      expectNo5xx(responses);
      expect(responses.map(label).sort()).toEqual([
        '200',
        ...Array<string>(PARALLEL - 1).fill('412 / 2055'),
      ]);
      for (const response of responses) {
        if (response.status === 412) expect(response.body).toEqual(errorBody(2055));
      }
      const winner = responses.find((response) => response.status === 200) as Response;
      const stored = (await getProfile(tenant, id).expect(200)).body as Body;
      expect(stored).toEqual(winner.body);
      expect(stored.attributes.etag).not.toBe(etag);
      expect(await count('billing_profile_changes', 'customer_id', id)).toBe(1);
    }
  });

  it(`answers exactly one of ${PARALLEL} concurrent DELETEs of one customer with 204`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const tenant = newTenant();
      const created = await post(tenant, buildCustomer(), randomUUID()).expect(201);
      const id = created.body.id as string;
      for (const name of ['Before Delete 1', 'Before Delete 2']) {
        await put(tenant, id, profile(name)).expect(200);
      }
      expect(await count('billing_profiles', 'customer_id', id)).toBe(1);
      expect(await count('billing_profile_changes', 'customer_id', id)).toBe(2);
      expect(await count('idempotency_records', 'customer_id', id)).toBe(1);

      const responses = await Promise.all(times(PARALLEL, () => remove(tenant, id)));
      tally('6. DELETEs of one customer', responses);
      expectNo5xx(responses);
      expect(responses.map(label).sort()).toEqual([
        '204',
        ...Array<string>(PARALLEL - 1).fill('404 / 1000'),
      ]);
      for (const response of responses) {
        if (response.status === 204) expect(response.text).toBeFalsy();
        else expect(response.body).toEqual(errorBody(1000));
      }

      // CONTRACT 6.5: the billing profile, its history and the idempotency records go with it.
      expect(await count('customers', 'id', id)).toBe(0);
      expect(await count('billing_profiles', 'customer_id', id)).toBe(0);
      expect(await count('billing_profile_changes', 'customer_id', id)).toBe(0);
      expect(await count('idempotency_records', 'customer_id', id)).toBe(0);
      await request(t.server).get(`/v1/customers/${id}`).set(bearer(tenant)).expect(404);
    }
  });

  it('answers a mix of concurrent DELETEs, unconditional PUTs and GETs of one customer without a 5xx', async () => {
    type Operation = 'DELETE' | 'PUT' | 'GET customer' | 'GET profile';
    // Deletes spread through the batch, so some PUTs and GETs start before and some after them.
    const operations = times(PARALLEL, (i): Operation => {
      if (i % 10 === 5) return 'DELETE';
      return (['PUT', 'PUT', 'GET customer', 'GET profile'] as const)[i % 4];
    });
    const allowed: Record<Operation, string[]> = {
      DELETE: ['204', '404 / 1000'],
      PUT: ['200', '404 / 1000'],
      'GET customer': ['200', '404 / 1000'],
      'GET profile': ['200', '404 / 1000'],
    };

    for (let round = 0; round < ROUNDS; round++) {
      const tenant = newTenant();
      const { id } = (await createCustomer(t.server, tenant)) as { id: string };
      await put(tenant, id, profile('Before The Race')).expect(200);

      const responses = await Promise.all(
        operations.map((operation, i) => {
          switch (operation) {
            case 'DELETE':
              return remove(tenant, id);
            case 'PUT':
              return put(tenant, id, profile(`Racer ${i}`));
            case 'GET customer':
              return request(t.server).get(`/v1/customers/${id}`).set(bearer(tenant));
            case 'GET profile':
              return getProfile(tenant, id);
          }
        }),
      );
      responses.forEach((response, i) => tally('7. mixed', [response], `${operations[i]} `));
      expectNo5xx(responses);
      const answers = responses.map((response, i) => `${operations[i]} ${label(response)}`);
      const unexpected = answers.filter(
        (_, i) => !allowed[operations[i]].includes(label(responses[i])),
      );
      expect(unexpected).toEqual([]);
      expect(answers.filter((answer) => answer === 'DELETE 204')).toHaveLength(1);
      for (const response of responses) {
        if (response.status === 404) expect(response.body).toEqual(errorBody(1000));
        if (response.status === 200 && response.body.attributes.objectType === 'Customer') {
          expect(response.body.id).toBe(id);
        }
      }

      // A PUT that raced the delete leaves nothing behind: no profile, no orphaned history.
      expect(await count('customers', 'id', id)).toBe(0);
      expect(await count('billing_profiles', 'customer_id', id)).toBe(0);
      expect(await count('billing_profile_changes', 'customer_id', id)).toBe(0);
      await getProfile(tenant, id).expect(404);
    }
  });
});
