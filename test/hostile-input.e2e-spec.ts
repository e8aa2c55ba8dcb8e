import { randomUUID } from 'node:crypto';
import { AddressInfo, connect, Socket } from 'node:net';
import request, { Response } from 'supertest';
import { buildCustomer, createCustomer, buildBillingProfile } from './support/factories';
import { describeEachDatabase } from './support/databases';
import { errorBody } from './support/errors';
import { containerDepth, nested, own, PROTOTYPE_KEYS, setOwn, Shape } from './support/fuzz';
import { TestApp, useTestApp } from './support/test-app';
import { bearer, newTenant, tokenFor } from './support/tokens';

// Issue #10, "Hostile input": bodies, filters, sockets and paths that used to crash the service or
// answer outside the contract's shape (CONTRACT sections 1 and 4). The app listens on a real port so
// that the raw-socket tests see exactly the bytes the HTTP layer writes.
jest.setTimeout(60_000);

const BODY_TIMEOUT_MS = 1_000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What the test bodies carry under prototype keys: none of it may reach a response or a row. */
const MARK = 'prototype-key-marker';

type Json = Record<string, any>;

// A raw HTTP/1.1 client: supertest (and Node's own client) would normalise paths, refuse control
// bytes in headers, and hide whether the server said `Connection: close` before closing.

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

class RawConnection {
  private buffer = Buffer.alloc(0);
  private closedByPeer = false;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    const closed = () => {
      this.closedByPeer = true;
      this.wake();
    };
    socket.on('end', closed);
    socket.on('close', closed);
    // ECONNRESET / EPIPE after the server closed: the test asserts on what arrived before.
    socket.on('error', closed);
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.closedByPeer;
  }

  write(data: string | Buffer): void {
    if (!this.closedByPeer && !this.socket.destroyed) this.socket.write(data);
  }

  /** The next complete response. A HEAD answer has no body, whatever Content-Length says. */
  async response(options: { head?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    for (;;) {
      const parsed = this.parse(options.head ?? false);
      if (parsed) return parsed;
      if (this.closedByPeer) {
        throw new Error(
          `connection closed after: ${JSON.stringify(this.buffer.toString('latin1'))}`,
        );
      }
      if (!(await this.wait(deadline))) {
        throw new Error(`no complete response in time: ${JSON.stringify(this.buffer.toString())}`);
      }
    }
  }

  /** True once the server has closed the connection, waiting at most `ms`. */
  async closesWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closedByPeer) if (!(await this.wait(deadline))) return false;
    return true;
  }

  /** Bytes received after the responses parsed so far. */
  get rest(): Buffer {
    return this.buffer;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
  }

  private wait(deadline: number): Promise<boolean> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(value);
      };
      const wake = () => done(true);
      const timer = setTimeout(() => done(false), remaining);
      this.waiters.add(wake);
    });
  }

  private parse(head: boolean): RawResponse | undefined {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const [statusLine, ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    let offset = end + 4;
    let body = Buffer.alloc(0);
    const noBody = head || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (!noBody && /chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const chunks: Buffer[] = [];
      for (;;) {
        const lineEnd = this.buffer.indexOf('\r\n', offset);
        if (lineEnd < 0) return undefined;
        const size = parseInt(this.buffer.subarray(offset, lineEnd).toString(), 16);
        if (this.buffer.length < lineEnd + 2 + size + 2) return undefined;
        chunks.push(this.buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        offset = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
      body = Buffer.concat(chunks);
    } else if (!noBody && headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (this.buffer.length < offset + length) return undefined;
      body = this.buffer.subarray(offset, offset + length);
      offset += length;
    } else if (!noBody && this.closedByPeer) {
      body = this.buffer.subarray(offset);
      offset = this.buffer.length;
    } else if (!noBody && /close/i.test(headers.connection ?? '')) {
      return undefined;
    }
    this.buffer = this.buffer.subarray(offset);
    return { status, headers, body, text: body.toString() };
  }
}

/** A request as bytes, exactly as given: no normalisation of the path or the headers. */
function rawRequest(
  method: string,
  path: string,
  headers: [string, string][] = [],
  body?: string,
): Buffer {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.concat([
    Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'),
    Buffer.from(body ?? ''),
  ]);
}

/** One request on a fresh connection, answered and (with `Connection: close`) closed. */
async function rawExchange(
  port: number,
  bytes: Buffer,
  head = false,
): Promise<{ response: RawResponse; connection: RawConnection }> {
  const connection = await RawConnection.open(port);
  try {
    connection.write(bytes);
    return { response: await connection.response({ head }), connection };
  } catch (error) {
    connection.destroy();
    throw error;
  }
}

function json(response: RawResponse): unknown {
  try {
    return JSON.parse(response.text);
  } catch {
    return response.text;
  }
}

/** The contract's shape (CONTRACT sections 1 and 4) for an error answer written by any layer. */
function expectContractError(
  response: RawResponse,
  status: number,
  code: unknown = expect.any(Number),
) {
  expect({ status: response.status, body: json(response) }).toEqual({
    status,
    body: errorBody(code as number),
  });
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(response.headers['ms-requestid']).toMatch(GUID);
  expect(response.headers['ms-correlationid']).toMatch(GUID);
}

/** Request headers adding up to more than the 16 KiB the HTTP parser accepts. */
const OVERSIZED_HEADERS: [string, string][] = Array.from({ length: 20 }, (_, i) => [
  `X-Padding-${i}`,
  'p'.repeat(1_000),
]);

// The operations that take a body (issue #10: "on every operation with a body").

interface Target {
  /** A fresh valid body for this operation. */
  body: Json;
  /** Sends a raw JSON text to a fresh target (a new customer, a new invitation). */
  send(json: string): Promise<Response>;
  ok: number;
}

interface Operation {
  name: string;
  prepare(): Promise<Target>;
  /** String fields of the valid body, by path, and the name a 400 gives each. */
  stringFields: [path: string[], named: string][];
  /** A nested object of the body, for values hidden inside it. */
  innerObject: string[];
}

function operations(t: TestApp): Operation[] {
  const sendAs =
    (method: 'post' | 'patch' | 'put', path: string, tenant: string) => (text: string) => {
      const agent = request(t.server);
      return agent[method](path)
        .set(bearer(tenant))
        .set('Content-Type', 'application/json')
        .send(text);
    };
  const customerFields: [string[], string][] = [
    [['companyProfile', 'domain'], 'companyProfile.domain'],
    [['companyProfile', 'companyName'], 'companyProfile.companyName'],
    [['billingProfile', 'email'], 'billingProfile.email'],
    [['billingProfile', 'culture'], 'billingProfile.culture'],
    [['billingProfile', 'companyName'], 'billingProfile.companyName'],
    [['billingProfile', 'defaultAddress', 'country'], 'billingProfile.defaultAddress.country'],
    [
      ['billingProfile', 'defaultAddress', 'postalCode'],
      'billingProfile.defaultAddress.postalCode',
    ],
  ];
  return [
    {
      name: 'POST /v1/customers',
      prepare: () => {
        const tenant = newTenant();
        return Promise.resolve({
          body: buildCustomer(),
          send: sendAs('post', '/v1/customers', tenant),
          ok: 201,
        });
      },
      stringFields: [...customerFields, [['associatedPartnerId'], 'associatedPartnerId']],
      innerObject: ['billingProfile', 'defaultAddress'],
    },
    {
      name: 'PATCH /v1/customers/{id}',
      prepare: async () => {
        const tenant = newTenant();
        const { id } = await createCustomer(t.server, tenant);
        return {
          body: { relationshipToPartner: 'none' },
          send: sendAs('patch', `/v1/customers/${id}`, tenant),
          ok: 200,
        };
      },
      stringFields: [[['relationshipToPartner'], 'relationshipToPartner']],
      innerObject: [],
    },
    {
      name: 'PUT /v1/customers/{id}/profiles/billing',
      prepare: async () => {
        const tenant = newTenant();
        const { id } = await createCustomer(t.server, tenant);
        return {
          body: buildBillingProfile('Hopper Industries'),
          send: sendAs('put', `/v1/customers/${id}/profiles/billing`, tenant),
          ok: 200,
        };
      },
      stringFields: [
        [['email'], 'email'],
        [['culture'], 'culture'],
        [['companyName'], 'companyName'],
        [['defaultAddress', 'country'], 'defaultAddress.country'],
        [['defaultAddress', 'addressLine1'], 'defaultAddress.addressLine1'],
      ],
      innerObject: ['defaultAddress'],
    },
    {
      name: 'POST /v1/validations/address',
      prepare: () =>
        Promise.resolve({
          body: buildBillingProfile('Hopper Industries').defaultAddress as Json,
          send: sendAs('post', '/v1/validations/address', newTenant()),
          ok: 200,
        }),
      stringFields: [
        [['country'], 'country'],
        [['city'], 'city'],
        [['postalCode'], 'postalCode'],
        [['addressLine1'], 'addressLine1'],
      ],
      innerObject: [],
    },
    {
      name: 'POST /v1/relationshiprequests/{requestId}/acceptance',
      prepare: async () => {
        const invitation = await request(t.server)
          .get('/v1/customers/relationshiprequests')
          .set(bearer(newTenant()))
          .expect(200);
        const url = new URL(invitation.body.url as string);
        return {
          body: buildCustomer(),
          send: sendAs('post', url.pathname + url.search, newTenant()),
          ok: 201,
        };
      },
      stringFields: customerFields,
      innerObject: ['billingProfile', 'defaultAddress'],
    },
  ];
}

function at(body: Json, path: string[]): Json {
  let target = body;
  for (const key of path) target = target[key] as Json;
  return target;
}

/** A copy of `body` with `path` set to `value` (as an own property, `__proto__` included). */
function withValue(body: Json, path: string[], value: unknown): Json {
  const copy = JSON.parse(JSON.stringify(body)) as Json;
  setOwn(at(copy, path.slice(0, -1)), path[path.length - 1], value);
  return copy;
}

function mentions(lines: unknown, field: string): boolean {
  const name = new RegExp(`(^|[\\s'"(])${field.replace(/\./g, '\\.')}\\b`);
  return Array.isArray(lines) && lines.some((line) => typeof line === 'string' && name.test(line));
}

function expectNoPollution(): void {
  const probe = {} as Json;
  expect(probe.isAdmin).toBeUndefined();
  expect(probe.polluted).toBeUndefined();
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'isAdmin')).toBe(false);
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
}

describeEachDatabase('hostile input', (kind) => {
  const t = useTestApp(kind, { HTTP_BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS) });
  let port: number;
  const ops = operations(t);

  beforeAll(async () => {
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
  });

  /** Every table, rows sorted: what a rejected request must leave exactly as it was. */
  const snapshot = async () => {
    const tables = [
      'customers',
      'billing_profiles',
      'billing_profile_changes',
      'relationship_requests',
      'idempotency_records',
    ];
    const rows = await Promise.all(
      tables.map(async (table) =>
        (await t.dataSource.query<object[]>(`SELECT * FROM ${table}`))
          .map((row) => JSON.stringify(row))
          .sort(),
      ),
    );
    return JSON.stringify(rows);
  };

  describe('nesting limit', () => {
    // Levels count the body's own object or array as level 1: `{"a":{}}` is 2 levels deep.
    const SHAPES = ['object', 'array', 'mixed'] as const;

    /** Where a deep value can hide in the operation's body (a path of object keys). */
    const placesOf = (op: Operation): [string, string[]][] => {
      const places: [string, string[]][] = [
        ['an unknown top-level property', ['extra']],
        ['a __proto__ property', ['__proto__']],
        ['a string field', op.stringFields[0][0]],
      ];
      if (op.innerObject.length > 0) {
        places.push(
          [`an unknown property of ${op.innerObject.join('.')}`, [...op.innerObject, 'extra']],
          [`the object field ${op.innerObject.join('.')}`, op.innerObject],
        );
      }
      return places;
    };

    /** The body with a value at `path` that makes the whole body exactly `levels` deep. */
    const nestedTo = (body: Json, path: string[], levels: number, shape: Shape) => {
      const deep = withValue(body, path, nested(levels - path.length, shape));
      expect(containerDepth(deep)).toBe(levels);
      return deep;
    };

    it('answers 400 / 800002 for a body nested 33, 100 or 1,300 levels anywhere, on every operation, storing nothing', async () => {
      const answers: string[] = [];
      const expected: string[] = [];
      for (const op of ops) {
        for (const levels of [33, 100, 1_300]) {
          for (const shape of SHAPES) {
            for (const [where, path] of placesOf(op)) {
              const target = await op.prepare();
              const before = await snapshot();
              const text = JSON.stringify(nestedTo(target.body, path, levels, shape));
              const response = await target.send(text);
              const label = `${op.name}: ${levels} levels of ${shape} in ${where}`;
              const stored = (await snapshot()) !== before;
              answers.push(
                `${label} → ${response.status} ${response.body?.code} stored: ${stored}`,
              );
              expected.push(`${label} → 400 800002 stored: false`);
            }
          }
        }
      }
      expect(answers).toEqual(expected);
    });

    it('answers 400 / 800002 for a bare array or object body nested 33 to 1,300 levels (a 2.6 KB body), on every operation', async () => {
      const bodies: [string, string][] = [
        ['1,300 arrays (2.6 KB)', '['.repeat(1_300) + ']'.repeat(1_300)],
        ['1,300 objects', JSON.stringify(nested(1_300, 'object'))],
        ['100 mixed', JSON.stringify(nested(100, 'mixed'))],
        ['100 objects with a value', JSON.stringify(nested(100, 'object', 'companyProfile', 'x'))],
        ['33 arrays', '['.repeat(33) + ']'.repeat(33)],
        ['33 objects', JSON.stringify(nested(33, 'object'))],
      ];
      expect(bodies[0][1]).toHaveLength(2_600);
      const answers: string[] = [];
      const expected: string[] = [];
      for (const op of ops) {
        for (const [what, text] of bodies) {
          const target = await op.prepare();
          const before = await snapshot();
          const response = await target.send(text);
          const stored = (await snapshot()) !== before;
          answers.push(
            `${op.name}: ${what} → ${response.status} ${response.body?.code} stored: ${stored}`,
          );
          expected.push(`${op.name}: ${what} → 400 800002 stored: false`);
        }
      }
      expect(answers).toEqual(expected);
    });

    it('accepts a body 32 levels deep whose nesting is inside an ignored unknown property, on every operation', async () => {
      const answers: string[] = [];
      const expected: string[] = [];
      for (const op of ops) {
        const places = placesOf(op).filter(([where]) => where.startsWith('an unknown'));
        for (const shape of SHAPES) {
          for (const [where, path] of places) {
            const target = await op.prepare();
            const response = await target.send(
              JSON.stringify(nestedTo(target.body, path, 32, shape)),
            );
            const label = `${op.name}: 32 levels of ${shape} in ${where}`;
            answers.push(
              `${label} → ${response.status} echoed: ${response.text.includes('"extra"')}`,
            );
            expected.push(`${label} → ${target.ok} echoed: false`);
          }
        }
      }
      expect(answers).toEqual(expected);
    });

    it('still answers a normal request on the same app afterwards', async () => {
      await request(t.server).get('/v1/customers').set(bearer(newTenant())).expect(200);
    });
  });

  describe('prototype keys in bodies', () => {
    /** Prototype keys at every level of the body, carrying values that must not matter. */
    function decorate(body: Json): Json {
      const copy = JSON.parse(JSON.stringify(body)) as Json;
      const objects: Json[] = [];
      const walk = (value: unknown) => {
        if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
        objects.push(value);
        Object.values(value).forEach(walk);
      };
      walk(copy);
      for (const object of objects) {
        setOwn(
          object,
          '__proto__',
          own({
            isAdmin: true,
            polluted: MARK,
            companyName: MARK,
            region: MARK,
            addressLine2: MARK,
            organizationRegistrationNumber: MARK,
          }),
        );
        setOwn(object, 'constructor', own({ prototype: own({ isAdmin: true, polluted: MARK }) }));
        setOwn(object, 'prototype', own({ polluted: MARK, toString: MARK }));
      }
      return copy;
    }

    it('ignores constructor, __proto__ and prototype at every level of a valid body, on every operation', async () => {
      for (const op of ops) {
        const target = await op.prepare();
        const text = JSON.stringify(decorate(target.body));
        for (const key of PROTOTYPE_KEYS) expect(text).toContain(`"${key}":`);
        const response = await target.send(text);
        expect({ op: op.name, status: response.status }).toEqual({
          op: op.name,
          status: target.ok,
        });
        expect(response.text).not.toContain(MARK);
        expect(response.text).not.toMatch(
          /"(constructor|__proto__|prototype|isAdmin|polluted)"\s*:/,
        );
        expect(await snapshot()).not.toContain(MARK);
        expect(await snapshot()).not.toContain('isAdmin');
        expectNoPollution();
      }
    });

    it('stores exactly the valid values of a create body decorated with prototype keys', async () => {
      const tenant = newTenant();
      const body = buildCustomer();
      const response = await request(t.server)
        .post('/v1/customers')
        .set(bearer(tenant))
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(decorate(body)))
        .expect(201);
      const { companyProfile, billingProfile } = body;
      expect(response.body.companyProfile).toMatchObject({
        domain: companyProfile.domain,
        companyName: billingProfile.companyName,
      });
      expect(response.body.billingProfile).toMatchObject(billingProfile);
      const fetched = await request(t.server)
        .get(`/v1/customers/${response.body.id}`)
        .set(bearer(tenant))
        .expect(200);
      expect(fetched.text).not.toContain(MARK);
      expect(fetched.body.billingProfile.defaultAddress).toEqual(billingProfile.defaultAddress);
    });

    it('answers 400 naming the field, never 500, when a string field holds an object keyed by a prototype name', async () => {
      const values = [
        own({ constructor: 1 }),
        own([['__proto__', 1]]),
        own({ prototype: 'x' }),
        own([['__proto__', own({ isAdmin: true })]]),
        own({ constructor: own({ prototype: own({ isAdmin: true }) }) }),
      ];
      const answers: string[] = [];
      const expected: string[] = [];
      for (const op of ops) {
        for (const [path, named] of op.stringFields) {
          for (const value of values) {
            const target = await op.prepare();
            const before = await snapshot();
            const response = await target.send(JSON.stringify(withValue(target.body, path, value)));
            const label = `${op.name}: ${path.join('.')} = ${JSON.stringify(value)}`;
            const ok =
              response.status === 400 &&
              response.body?.code === 800002 &&
              mentions(response.body?.data, named);
            answers.push(
              `${label} → ${ok ? `400 naming ${named}` : `${response.status} ${response.text.slice(0, 300)}`}, stored: ${(await snapshot()) !== before}`,
            );
            expected.push(`${label} → 400 naming ${named}, stored: false`);
            expectNoPollution();
          }
        }
      }
      expect(answers).toEqual(expected);
    });

    it('answers 400 naming the field for {"country":{"constructor":1}} in a create body', async () => {
      const tenant = newTenant();
      const text = JSON.stringify(buildCustomer()).replace(
        '"country":"US"',
        '"country":{"constructor":1}',
      );
      expect(text).toContain('"country":{"constructor":1}');
      const response = await request(t.server)
        .post('/v1/customers')
        .set(bearer(tenant))
        .set('Content-Type', 'application/json')
        .send(text);
      expect(response.status).toBe(400);
      expect(response.body).toEqual(errorBody(800002));
      expect(mentions(response.body.data, 'billingProfile.defaultAddress.country')).toBe(true);
      const list = await request(t.server).get('/v1/customers').set(bearer(tenant)).expect(200);
      expect(list.body.totalCount).toBe(0);
    });

    it('answers 400, never 500, when a string field holds an object with toString, valueOf or hasOwnProperty', async () => {
      // Not prototype keys, but String(value) on {"toString":1} throws: still the client's mistake (#10).
      const values = [
        own({ toString: 1 }),
        own({ valueOf: {} }),
        own({ hasOwnProperty: 'x' }),
        own({ toJSON: 1 }),
      ];
      const answers: string[] = [];
      const expected: string[] = [];
      for (const op of ops) {
        const [path, named] = op.stringFields[0];
        for (const value of values) {
          const target = await op.prepare();
          const response = await target.send(JSON.stringify(withValue(target.body, path, value)));
          const ok =
            response.status === 400 &&
            response.body?.code === 800002 &&
            mentions(response.body?.data, named);
          answers.push(
            `${op.name}: ${JSON.stringify(value)} → ${ok ? '400' : `${response.status} ${response.text.slice(0, 200)}`}`,
          );
          expected.push(`${op.name}: ${JSON.stringify(value)} → 400`);
        }
      }
      expect(answers).toEqual(expected);
    });

    it('never reads a required field from a __proto__ object: the field is missing', async () => {
      const cases: [Operation, (body: Json) => Json, string][] = [];
      for (const op of ops) {
        for (const [path, named] of op.stringFields.slice(0, 1)) {
          cases.push([
            op,
            (body) => {
              const copy = JSON.parse(JSON.stringify(body)) as Json;
              const parent = at(copy, path.slice(0, -1));
              const key = path[path.length - 1];
              const value = parent[key] as unknown;
              delete parent[key];
              setOwn(parent, '__proto__', own([[key, value]]));
              return copy;
            },
            named,
          ]);
        }
      }
      for (const [op, hide, named] of cases) {
        const target = await op.prepare();
        const before = await snapshot();
        const response = await target.send(JSON.stringify(hide(target.body)));
        if (op.name === 'POST /v1/validations/address') {
          // Reporting broken rules is that endpoint's point: a missing country is named in a 200.
          expect(response.status).toBe(200);
          expect(response.body.status).toBe('NotValidated');
          expect(response.body.validationMessage).toMatch(new RegExp(`\\b${named}\\b`));
          expect(response.body.originalAddress).not.toHaveProperty(named);
        } else {
          expect({ op: op.name, status: response.status, body: response.body }).toEqual({
            op: op.name,
            status: 400,
            body: errorBody(800002),
          });
          expect(mentions(response.body.data, named)).toBe(true);
        }
        expect(await snapshot()).toBe(before);
      }
    });

    it('does not pollute Object.prototype with {"__proto__":{"isAdmin":true}} on any operation', async () => {
      const bodies = [
        '{"__proto__":{"isAdmin":true}}',
        '{"constructor":{"prototype":{"isAdmin":true}}}',
        '{"__proto__":{"__proto__":{"isAdmin":true}}}',
      ];
      for (const op of ops) {
        for (const text of bodies) {
          const target = await op.prepare();
          const response = await target.send(text);
          expect(response.status).toBeLessThan(500);
          expect(response.text).not.toContain('isAdmin');
          expectNoPollution();
        }
        const target = await op.prepare();
        const text = JSON.stringify(target.body).replace(/^\{/, '{"__proto__":{"isAdmin":true},');
        const response = await target.send(text);
        expect({ op: op.name, status: response.status }).toEqual({
          op: op.name,
          status: target.ok,
        });
        expectNoPollution();
      }
    });
  });

  describe('filter Field names that Object.prototype has', () => {
    const tenant = newTenant();
    const list = (filter: object) =>
      request(t.server)
        .get('/v1/customers')
        .query({ filter: JSON.stringify(filter) })
        .set(bearer(tenant));

    beforeAll(async () => {
      await createCustomer(t.server, tenant, { companyProfile: { companyName: 'Alpha Works' } });
      await createCustomer(t.server, tenant, { companyProfile: { companyName: 'Beta Works' } });
    });

    it.each([
      'constructor',
      '__proto__',
      'prototype',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'Constructor',
    ])('answers 400 / 800002 for Field %s, not the unfiltered list', async (field) => {
      const response = await list({ Field: field, Value: 'Alpha', Operator: 'starts_with' });
      expect({ status: response.status, body: response.body }).toEqual({
        status: 400,
        body: errorBody(800002),
      });
    });

    it('answers 400 / 800002 for an Operator named after Object.prototype', async () => {
      for (const operator of ['constructor', '__proto__', 'toString']) {
        const response = await list({ Field: 'CompanyName', Value: 'Alpha', Operator: operator });
        expect({ operator, status: response.status, body: response.body }).toEqual({
          operator,
          status: 400,
          body: errorBody(800002),
        });
      }
    });

    it('answers 400 / 800002, never 500, when Field, Operator or Value is an object with toString or valueOf', async () => {
      // String({"toString":1}) throws: a filter value must be checked for its type before use.
      const valid = { Field: 'CompanyName', Value: 'Alpha', Operator: 'starts_with' };
      const answers: string[] = [];
      const expected: string[] = [];
      for (const key of ['Field', 'Operator', 'Value']) {
        for (const value of [
          own({ toString: 1 }),
          own({ valueOf: 1, toString: 1 }),
          own({ constructor: 1 }),
          own([['__proto__', own({ toString: 1 })]]),
          [own({ toString: 1 })],
        ]) {
          const response = await list({ ...valid, [key]: value });
          answers.push(
            `${key}: ${JSON.stringify(value)} → ${response.status} ${response.body?.code}`,
          );
          expected.push(`${key}: ${JSON.stringify(value)} → 400 800002`);
        }
      }
      expect(answers).toEqual(expected);
    });

    it('does not read Field from a __proto__ object, and ignores prototype keys beside a valid filter', async () => {
      const hidden = JSON.stringify({ Value: 'Alpha', Operator: 'starts_with' }).replace(
        /^\{/,
        '{"__proto__":{"Field":"CompanyName"},',
      );
      const refused = await request(t.server)
        .get('/v1/customers')
        .query({ filter: hidden })
        .set(bearer(tenant));
      expect({ status: refused.status, body: refused.body }).toEqual({
        status: 400,
        body: errorBody(800002),
      });

      const decorated = JSON.stringify({
        Field: 'CompanyName',
        Value: 'Alpha',
        Operator: 'starts_with',
      }).replace(
        /^\{/,
        '{"__proto__":{"Value":"Beta"},"constructor":{"prototype":{}},"prototype":1,',
      );
      const filtered = await request(t.server)
        .get('/v1/customers')
        .query({ filter: decorated })
        .set(bearer(tenant));
      expect(filtered.status).toBe(200);
      expect(
        (filtered.body.items as Json[]).map((item) => item.companyProfile.companyName),
      ).toEqual(['Alpha Works']);
    });
  });

  describe('slow request bodies', () => {
    it(`answers 408 / 800006 with Connection: close within 5 s to a body sent one byte every 300 ms, then closes, storing nothing`, async () => {
      const before = await snapshot();
      const correlationId = randomUUID();
      const requestId = randomUUID();
      const body = JSON.stringify(buildCustomer()).slice(0, 100);
      const connection = await RawConnection.open(port);
      const started = Date.now();
      connection.write(
        rawRequest('POST', '/v1/customers', [
          ['Authorization', `Bearer ${tokenFor(newTenant())}`],
          ['Content-Type', 'application/json'],
          ['Content-Length', '100'],
          ['MS-RequestId', requestId],
          ['MS-CorrelationId', correlationId],
        ]),
      );
      let sent = 0;
      const drip = setInterval(() => {
        if (connection.closed || sent >= body.length) return clearInterval(drip);
        connection.write(body[sent++]);
      }, 300);
      try {
        const response = await connection.response({ timeoutMs: 5_000 });
        const elapsed = Date.now() - started;
        expect({ status: response.status, body: json(response) }).toEqual({
          status: 408,
          body: errorBody(800006),
        });
        expect(response.headers.connection).toMatch(/close/i);
        expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(response.headers['ms-requestid']).toBe(requestId);
        expect(response.headers['ms-correlationid']).toBe(correlationId);
        expect(elapsed).toBeLessThan(5_000);
        expect(await connection.closesWithin(2_000)).toBe(true);
        expect(sent).toBeLessThan(100);
        process.stdout.write(
          `[${kind}] slow body: 408 after ${elapsed} ms, ${sent} of 100 bytes sent\n`,
        );
      } finally {
        clearInterval(drip);
        connection.destroy();
      }
      expect(await snapshot()).toBe(before);
    });

    it('answers 408 to a body that never starts (headers only), then closes', async () => {
      const connection = await RawConnection.open(port);
      try {
        connection.write(
          rawRequest('PUT', `/v1/customers/${randomUUID()}/profiles/billing`, [
            ['Authorization', `Bearer ${tokenFor(newTenant())}`],
            ['Content-Type', 'application/json'],
            ['Content-Length', '50'],
          ]),
        );
        const response = await connection.response({ timeoutMs: 5_000 });
        expectContractError(response, 408, 800006);
        expect(response.headers.connection).toMatch(/close/i);
        expect(await connection.closesWithin(2_000)).toBe(true);
      } finally {
        connection.destroy();
      }
    });
  });

  describe('answers of the HTTP layer, before routing, over a raw socket', () => {
    const auth = (): [string, string] => ['Authorization', `Bearer ${tokenFor(newTenant())}`];

    it('answers 400 in the contract shape with the request ids to bad percent-encoding in a path', async () => {
      for (const path of [
        '/v1/customers/%ZZ',
        '/v1/customers/%',
        '/v1/customers/%E0%A4%A',
        '/v1/customers/%ZZ/profiles/billing',
      ]) {
        const correlationId = randomUUID();
        const { response, connection } = await rawExchange(
          port,
          rawRequest('GET', path, [
            auth(),
            ['MS-CorrelationId', correlationId],
            ['Connection', 'close'],
          ]),
        );
        connection.destroy();
        expect({ path, status: response.status }).toEqual({ path, status: 400 });
        expectContractError(response, 400);
        expect(response.headers['ms-correlationid']).toBe(correlationId);
      }
    });

    it('answers 400 / 900118 to a path id of 1,001, 1,500 and 5,000 characters', async () => {
      for (const length of [1_001, 1_500, 5_000]) {
        for (const suffix of ['', '/profiles/billing']) {
          const { response, connection } = await rawExchange(
            port,
            rawRequest('GET', `/v1/customers/${'a'.repeat(length)}${suffix}`, [
              auth(),
              ['Connection', 'close'],
            ]),
          );
          connection.destroy();
          expect({
            length,
            suffix,
            status: response.status,
            code: (json(response) as Json).code,
          }).toEqual({
            length,
            suffix,
            status: 400,
            code: 900118,
          });
          expectContractError(response, 400, 900118);
        }
      }
    });

    it('answers 431 in the contract shape with Connection: close to headers over 16 KiB, then closes', async () => {
      const { response, connection } = await rawExchange(
        port,
        rawRequest('GET', '/v1/customers', [auth(), ...OVERSIZED_HEADERS]),
      );
      try {
        expectContractError(response, 431);
        expect(response.headers.connection).toMatch(/close/i);
        expect(await connection.closesWithin(2_000)).toBe(true);
      } finally {
        connection.destroy();
      }
    });

    it('answers 400 in the contract shape with Connection: close to a control byte in a header value', async () => {
      const { response, connection } = await rawExchange(
        port,
        rawRequest('GET', '/v1/customers', [auth(), ['X-Test', 'a\x01b']]),
      );
      try {
        expectContractError(response, 400);
        expect(response.headers.connection).toMatch(/close/i);
        expect(await connection.closesWithin(2_000)).toBe(true);
      } finally {
        connection.destroy();
      }
    });

    it('answers a HEAD with oversized headers 431 with no body at all', async () => {
      const { response, connection } = await rawExchange(
        port,
        rawRequest('HEAD', '/v1/customers', [auth(), ...OVERSIZED_HEADERS]),
        true,
      );
      try {
        const closed = await connection.closesWithin(2_000);
        expect({
          status: response.status,
          contentLength: response.headers['content-length'] ?? '0',
          transferEncoding: response.headers['transfer-encoding'],
          connection: response.headers.connection,
          closed,
          afterHeaders: connection.rest.toString('latin1'),
        }).toEqual({
          status: 431,
          contentLength: '0',
          transferEncoding: undefined,
          connection: expect.stringMatching(/close/i),
          closed: true,
          afterHeaders: '',
        });
        expect(response.headers['ms-requestid']).toMatch(GUID);
      } finally {
        connection.destroy();
      }
    });

    it.each([
      ['oversized headers', 431, OVERSIZED_HEADERS],
      ['a control byte in a header', 400, [['X-Test', 'a\x01b']] as [string, string][]],
    ])(
      'tells a keep-alive client Connection: close before closing, after a valid request, for %s',
      async (_what, status, badHeaders) => {
        const connection = await RawConnection.open(port);
        try {
          const tenant = auth();
          connection.write(
            rawRequest('GET', '/v1/customers', [tenant, ['Connection', 'keep-alive']]),
          );
          const first = await connection.response();
          expect(first.status).toBe(200);
          expect(first.headers.connection ?? 'keep-alive').not.toMatch(/close/i);
          expect(connection.closed).toBe(false);

          connection.write(rawRequest('GET', '/v1/customers', [tenant, ...badHeaders]));
          const second = await connection.response();
          expectContractError(second, status);
          expect(second.headers.connection).toMatch(/close/i);
          expect(await connection.closesWithin(2_000)).toBe(true);
          expect(connection.rest.toString('latin1')).toBe('');
        } finally {
          connection.destroy();
        }
      },
    );
  });

  describe('trailing slashes and letter case in paths', () => {
    const tenant = newTenant();
    let id: string;

    beforeAll(async () => {
      id = (await createCustomer(t.server, tenant)).id as string;
      await createCustomer(t.server, tenant);
    });

    it('answers GET /v1/customers/ exactly like GET /v1/customers', async () => {
      const plain = await request(t.server).get('/v1/customers').set(bearer(tenant)).expect(200);
      const slashed = await request(t.server).get('/v1/customers/').set(bearer(tenant));
      expect({ status: slashed.status, body: slashed.body }).toEqual({
        status: 200,
        body: plain.body,
      });
      expect(plain.body.totalCount).toBe(2);
      const head = await request(t.server).head('/v1/customers/').set(bearer(tenant));
      expect(head.status).toBe(200);
    });

    it('answers a path with a trailing slash or in another letter case like the canonical path, or 404 / 1000', async () => {
      const variants: [canonical: string, variant: string][] = [
        ['/v1/customers', '/V1/Customers'],
        ['/v1/customers', '/v1/CUSTOMERS/'],
        [`/v1/customers/${id}`, `/v1/customers/${id}/`],
        [`/v1/customers/${id}`, `/V1/CUSTOMERS/${id.toUpperCase()}`],
        [`/v1/customers/${id}/profiles/billing`, `/v1/customers/${id}/profiles/billing/`],
        [`/v1/customers/${id}/profiles/billing`, `/v1/customers/${id}/Profiles/Billing`],
        [`/v1/customers/${id}/profiles/company`, `/v1/Customers/${id}/profiles/COMPANY/`],
        ['/v1/countryvalidationrules/US', '/v1/CountryValidationRules/US/'],
        ['/v1/customers/relationshiprequests', '/v1/customers/relationshiprequests/'],
      ];
      for (const [canonical, variant] of variants) {
        const expected = await request(t.server).get(canonical).set(bearer(tenant)).expect(200);
        const response = await request(t.server).get(variant).set(bearer(tenant));
        if (response.status === 404) {
          expect({ variant, body: response.body }).toEqual({ variant, body: errorBody(1000) });
        } else if (canonical.endsWith('relationshiprequests')) {
          expect({ variant, status: response.status }).toEqual({ variant, status: 200 });
        } else {
          expect({ variant, status: response.status, body: response.body }).toEqual({
            variant,
            status: 200,
            body: expected.body,
          });
        }
      }
    });

    it('never answers 405 to a variant of a path whose canonical form allows the method, and no 405 allows the method it refuses', async () => {
      const missing = randomUUID();
      const canonicalPaths = [
        '/v1/customers',
        `/v1/customers/${missing}`,
        `/v1/customers/${missing}/profiles/billing`,
        `/v1/customers/${missing}/profiles/billing/history`,
        `/v1/customers/${missing}/profiles/company`,
        `/v1/customers/${missing}/relationships`,
        '/v1/customers/relationshiprequests',
        '/v1/validations/address',
        '/v1/countryvalidationrules/US',
        '/v1/domains/taken.onmicrosoft.com',
        '/health/live',
      ];
      const variantsOf = (path: string) => [
        `${path}/`,
        path.toUpperCase().replace(missing.toUpperCase(), missing),
        path.replace(/^\/v1\/(\w)/, (_m, c: string) => `/V1/${c.toUpperCase()}`),
      ];
      const methods = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options'] as const;
      const problems: string[] = [];
      let probes = 0;
      for (const canonical of canonicalPaths) {
        for (const method of methods) {
          const call = (path: string) => request(t.server)[method](path).set(bearer(tenant));
          const base = await call(canonical);
          for (const [path, response] of [
            [canonical, base] as const,
            ...(await Promise.all(
              variantsOf(canonical).map(async (v) => [v, await call(v)] as const),
            )),
          ]) {
            probes++;
            const name = method.toUpperCase();
            if (response.status >= 500) problems.push(`${name} ${path} → ${response.status}`);
            if (response.status === 405) {
              const allow = String(response.headers.allow ?? '')
                .split(',')
                .map((m) => m.trim().toUpperCase());
              if (allow.includes(name))
                problems.push(`${name} ${path} → 405 with Allow: ${response.headers.allow}`);
              if (method !== 'head' && response.body?.code !== 800004)
                problems.push(`${name} ${path} → 405 ${response.text}`);
            }
            if (path !== canonical && response.status !== base.status && response.status !== 404) {
              problems.push(
                `${name} ${path} → ${response.status}, but ${canonical} → ${base.status}`,
              );
            }
          }
        }
      }
      expect(problems).toEqual([]);
      expect(probes).toBe(canonicalPaths.length * methods.length * 4);
    });
  });

  describe('/docs', () => {
    it('answers 2xx, 304 or a contract 4xx, never 5xx, to conditional, range and traversal requests', async () => {
      const paths = [
        '/docs',
        '/docs/',
        '/docs/index.html',
        '/docs/swagger-ui.css',
        '/docs/swagger-ui-bundle.js',
        '/docs/swagger-ui-standalone-preset.js',
        '/docs/swagger-ui-init.js',
        '/docs/favicon-32x32.png',
        '/docs-json',
        '/docs/../../etc/passwd',
        '/docs/%2e%2e/%2e%2e/etc/passwd',
        '/docs/..%2f..%2f..%2fetc%2fpasswd',
        '/docs/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json',
        '/docs/%00',
        '/docs/index.html%00.css',
        '/docs//etc/passwd',
        '/docs/%ZZ',
        `/docs/${'a'.repeat(2_000)}`,
      ];
      const headerSets: [string, string][][] = [
        [],
        [['Range', 'bytes=99999999-']],
        [['Range', 'bytes=5-1']],
        [['Range', 'bytes=0-0']],
        [['Range', 'lines=1-2']],
        [['If-Match', '"x"']],
        [['If-None-Match', '*']],
        [['If-None-Match', '"x"']],
        [['If-Modified-Since', 'garbage']],
        [['If-Unmodified-Since', 'garbage']],
        [['If-Unmodified-Since', 'Thu, 01 Jan 1970 00:00:00 GMT']],
        [
          ['Range', 'bytes=99999999-'],
          ['If-Range', '"x"'],
        ],
      ];
      const statuses = new Map<number, number>();
      const problems: string[] = [];
      for (const path of paths) {
        for (const headers of headerSets) {
          for (const method of ['GET', 'HEAD']) {
            const head = method === 'HEAD';
            const { response, connection } = await rawExchange(
              port,
              rawRequest(method, path, [...headers, ['Connection', 'close']]),
              head,
            );
            const closed = await connection.closesWithin(2_000);
            const trailing = connection.rest.length;
            connection.destroy();
            statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
            const label = `${method} ${path.slice(0, 60)} ${JSON.stringify(headers)} → ${response.status}`;
            const ok = (response.status >= 200 && response.status < 300) || response.status === 304;
            if (!ok && !(response.status >= 400 && response.status < 500)) problems.push(label);
            if (response.status >= 400 && !head) {
              const body = json(response) as Json;
              const shaped =
                typeof body === 'object' &&
                typeof body.code === 'number' &&
                typeof body.description === 'string' &&
                Array.isArray(body.data) &&
                body.source === 'CustomerService';
              if (!shaped) problems.push(`${label} ${response.text.slice(0, 120)}`);
            }
            if (head && closed && trailing > 0) problems.push(`${label} with a body after a HEAD`);
            if (!response.headers['ms-requestid']) problems.push(`${label} without MS-RequestId`);
            if (/root:.*:0:0:|"name":\s*"partner-center/.test(response.text))
              problems.push(`${label} LEAKS A FILE`);
            const allowed = (response.headers.allow ?? '').split(',').map((m) => m.trim());
            if (response.status === 405 && allowed.includes(method)) {
              problems.push(`${label} with Allow: ${response.headers.allow}`);
            }
          }
        }
      }
      process.stdout.write(
        `[${kind}] /docs probes: ${[...statuses]
          .sort(([a], [b]) => a - b)
          .map(([s, n]) => `${s}: ${n}`)
          .join(', ')}\n`,
      );
      expect(problems).toEqual([]);
    });
  });
});
