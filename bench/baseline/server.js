'use strict';
// The benchmark's baseline: the smallest honest server for the benchmarked requests, with no
// framework beyond Fastify and mysql2. It verifies the same HS256 bearer token (fast-jwt, with the
// same verified-token cache as the service), runs the same indexed queries, signs continuation
// tokens with an HMAC, validates the bodies it accepts, and serialises the same JSON (CONTRACT 5, 6,
// 7). It answers only what the benchmark sends: camelCase bodies, US addresses, no idempotency.
const { createHash, createHmac, randomBytes, randomInt, randomUUID } = require('node:crypto');
const { timingSafeEqual } = require('node:crypto');
const Fastify = require('fastify');
const { createVerifier } = require('fast-jwt');
const mysql = require('mysql2/promise');

const env = process.env;
const SECRET = env.AUTH_JWT_SECRET;
if (!SECRET || !env.DATABASE_URL) {
  console.error('AUTH_JWT_SECRET and DATABASE_URL are required');
  process.exit(2);
}
const PAGING_KEY = createHash('sha256')
  .update(`paging-token:${env.PAGING_TOKEN_SECRET ?? SECRET}`)
  .digest();
const DOMAIN_SUFFIX = '.onmicrosoft.com';
const MAX_PAGE_SIZE = 500;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BEARER = /^bearer[ \t]+([A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]*)[ \t]*$/i;
const verify = createVerifier({ key: SECRET, algorithms: ['HS256'], cache: 10_000 });

const pool = mysql.createPool({
  uri: env.DATABASE_URL,
  charset: 'utf8mb4_unicode_ci',
  timezone: 'Z',
  connectionLimit: 20,
  waitForConnections: true,
  queueLimit: 1_000,
});

class HttpError extends Error {
  constructor(status, code, description, data = [], headers = {}) {
    super(description);
    Object.assign(this, { status, code, data, headers });
  }
}
const invalid = (problems) =>
  new HttpError(400, 800002, problems[0] ?? 'The request is not valid', problems);
const notFound = () => new HttpError(404, 1000, 'The customer was not found');

function guid(value) {
  const raw = String(value ?? '')
    .trim()
    .replace(/^\{(.*)\}$/, '$1');
  return GUID.test(raw) ? raw.toLowerCase() : undefined;
}

const present = (value) => value ?? undefined;
const link = (uri, method = 'GET', headers = []) => ({ uri, method, headers });

function companyProfile(row) {
  return {
    tenantId: row.id,
    domain: row.domain,
    companyName: row.company_name,
    organizationRegistrationNumber: present(row.organization_registration_number),
    links: { self: link(`/customers/${row.id}/profiles/company`) },
    attributes: { objectType: 'CustomerCompanyProfile' },
  };
}

function listItem(row) {
  return {
    id: row.id,
    commerceId: row.commerce_id,
    companyProfile: {
      tenantId: row.id,
      domain: row.domain,
      companyName: row.company_name,
      links: { self: link(`/customers/${row.id}/profiles/company`) },
      attributes: { objectType: 'CustomerCompanyProfile' },
    },
    relationshipToPartner: row.relationship_to_partner,
    associatedPartnerId: present(row.associated_partner_id),
    links: { self: link(`/customers/${row.id}`) },
    attributes: { objectType: 'Customer' },
  };
}

function customer(row, billing) {
  return {
    ...listItem(row),
    companyProfile: companyProfile(row),
    billingProfile: billing && billingProfile(billing),
    allowDelegatedAccess: row.relationship_to_partner === 'reseller',
    customDomains: [row.domain],
  };
}

function address(b) {
  return {
    country: b.address_country,
    region: present(b.address_region),
    city: present(b.address_city),
    state: present(b.address_state),
    addressLine1: b.address_line1,
    addressLine2: present(b.address_line2),
    addressLine3: present(b.address_line3),
    postalCode: present(b.address_postal_code),
    firstName: present(b.address_first_name),
    middleName: present(b.address_middle_name),
    lastName: present(b.address_last_name),
    phoneNumber: present(b.address_phone_number),
  };
}

function billingValues(b) {
  return {
    firstName: present(b.first_name),
    lastName: present(b.last_name),
    email: b.email,
    culture: b.culture,
    language: b.language,
    companyName: b.company_name,
    defaultAddress: address(b),
  };
}

function billingProfile(b) {
  return {
    id: b.id,
    ...billingValues(b),
    links: { self: link(`/customers/${b.customer_id}/profiles/billing`) },
    attributes: { etag: b.etag, objectType: 'CustomerBillingProfile' },
  };
}

// Continuation tokens: base64url JSON and an HMAC over it, the tenant and the collection.
function mac(tenantId, body) {
  return createHmac('sha256', PAGING_KEY).update(`${tenantId}\ncustomers\n${body}`).digest();
}

function encodeToken(tenantId, payload) {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(tenantId, body).toString('base64url')}`;
}

function decodeToken(tenantId, token) {
  const bad = () => invalid(['MS-ContinuationToken is not a valid continuation token']);
  const [body, signature, extra] = token.length <= 4096 ? token.split('.') : [];
  if (!body || !signature || extra !== undefined) throw bad();
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(tenantId, body);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw bad();
  let position;
  try {
    position = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Number.isInteger(position?.size) || typeof position.key !== 'string') throw bad();
  return position;
}

function pageSize(raw) {
  if (raw === undefined || raw === '') return MAX_PAGE_SIZE;
  const size = /^\d{1,6}$/.test(String(raw).trim()) ? Number(raw) : NaN;
  if (!(size >= 0 && size <= MAX_PAGE_SIZE)) throw invalid(['size must be from 0 to 500']);
  return size === 0 ? MAX_PAGE_SIZE : size;
}

function companyNameFilter(raw) {
  if (raw === undefined) return null;
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid(['filter must be a JSON object']);
  }
  const keys = Object.fromEntries(
    Object.entries(parsed ?? {}).map(([key, value]) => [key.toLowerCase(), value]),
  );
  const value = typeof keys.value === 'string' ? keys.value.trim().toLowerCase() : '';
  if (
    String(keys.field).toLowerCase() !== 'companyname' ||
    !/^(starts_with|startswith)$/i.test(String(keys.operator)) ||
    !value
  ) {
    throw invalid(['filter must be a CompanyName starts_with filter']);
  }
  return { field: 'CompanyName', value };
}

const LIST_COLUMNS =
  'id, commerce_id, domain, company_name, company_name_key, relationship_to_partner, associated_partner_id';

async function list(tenantId, query, headers) {
  let position;
  if (query.seekOperation !== undefined) {
    const token = String(headers['ms-continuationtoken'] ?? '').trim();
    if (!/^(next|0)$/i.test(String(query.seekOperation)) || !token) {
      throw invalid(['seekOperation=Next needs MS-ContinuationToken']);
    }
    position = decodeToken(tenantId, token);
  }
  const size = position?.size ?? pageSize(query.size);
  const filter = position ? position.filter : companyNameFilter(query.filter);
  let sql = `SELECT ${LIST_COLUMNS} FROM customers WHERE partner_tenant_id = ?`;
  const params = [tenantId];
  if (filter) {
    sql += " AND company_name_key LIKE ? ESCAPE '!'";
    params.push(`${filter.value.replace(/[!%_]/g, (c) => `!${c}`)}%`);
  }
  if (position) {
    sql += ' AND (company_name_key > ? OR (company_name_key = ? AND id > ?))';
    params.push(position.key, position.key, position.id);
  }
  sql += ' ORDER BY company_name_key ASC, id ASC LIMIT ?';
  params.push(size + 1);
  const [rows] = await pool.query(sql, params);
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  const token =
    rows.length > size
      ? encodeToken(tenantId, { size, filter, key: last.company_name_key, id: last.id })
      : undefined;
  return {
    totalCount: page.length,
    items: page.map(listItem),
    continuationToken: token,
    links: {
      self: link(`/customers?size=${size}`),
      next: token
        ? link(`/customers?size=${size}&seekOperation=Next`, 'GET', [
            { key: 'MS-ContinuationToken', value: token },
          ])
        : undefined,
    },
    attributes: { objectType: 'Collection' },
  };
}

const CUSTOMER_COLUMNS =
  'id, partner_tenant_id, commerce_id, domain, company_name, organization_registration_number, ' +
  'relationship_to_partner, associated_partner_id';

async function getCustomer(tenantId, rawId) {
  const id = guid(rawId);
  if (!id) throw new HttpError(400, 900118, 'The customer tenant id is not a GUID');
  const [rows] = await pool.query(
    `SELECT ${CUSTOMER_COLUMNS} FROM customers ` +
      'WHERE (id = ? AND partner_tenant_id = ?) OR (id = ? AND associated_partner_id = ?) LIMIT 1',
    [id, tenantId, id, tenantId],
  );
  const row = rows[0];
  if (!row) throw notFound();
  let billing;
  if (row.partner_tenant_id === tenantId) {
    const [profiles] = await pool.query(
      'SELECT * FROM billing_profiles WHERE customer_id = ? AND partner_tenant_id = ? LIMIT 1',
      [id, tenantId],
    );
    billing = profiles[0];
  }
  return customer(row, billing);
}

// Validation of what the benchmark sends (CONTRACT 10), every problem listed.
const US_STATES = new Set(
  (
    'AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ ' +
    'NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI'
  ).split(' '),
);
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const text = (value) => (typeof value === 'string' ? value.trim() : value);

function billingProblems(b, path) {
  const problems = [];
  const at = (name) => (path ? `${path}.${name}` : name);
  const check = (ok, name, message) => ok || problems.push(`${at(name)} ${message}`);
  if (typeof b !== 'object' || b === null) return [`${path || 'body'} must be an object`];
  const a = b.defaultAddress;
  const length = (value, min, max) =>
    value === undefined ||
    value === null ||
    (typeof value === 'string' && value.length >= min && value.length <= max);
  check(length(text(b.firstName), 1, 50), 'firstName', 'must be 1 to 50 characters');
  check(length(text(b.lastName), 1, 50), 'lastName', 'must be 1 to 50 characters');
  check(
    typeof b.email === 'string' && b.email.length <= 254 && EMAIL.test(text(b.email)),
    'email',
    'must be an email address',
  );
  check(typeof b.language === 'string' && /^[a-z]{2}$/i.test(b.language), 'language', 'bad');
  check(/^en-US$|^es-US$/i.test(String(b.culture)), 'culture', 'must be en-US or es-US');
  check(length(text(b.companyName), 2, 255) && b.companyName, 'companyName', 'is required');
  if (typeof a !== 'object' || a === null) {
    problems.push(`${at('defaultAddress')} is required`);
    return problems;
  }
  check(String(a.country).toUpperCase() === 'US', 'defaultAddress.country', 'must be US');
  check(length(text(a.addressLine1), 1, 200) && a.addressLine1, 'defaultAddress.addressLine1', '');
  check(length(text(a.city), 1, 100) && a.city, 'defaultAddress.city', 'is required');
  check(US_STATES.has(String(a.state).toUpperCase()), 'defaultAddress.state', 'is not a state');
  check(/^\d{5}(-\d{4})?$/.test(String(a.postalCode)), 'defaultAddress.postalCode', 'bad');
  return problems;
}

function billingColumns(b) {
  const a = b.defaultAddress;
  const [language, country] = b.culture.split('-');
  return {
    first_name: text(b.firstName) ?? null,
    last_name: text(b.lastName) ?? null,
    email: text(b.email),
    culture: `${language.toLowerCase()}-${country.toUpperCase()}`,
    language: text(b.language),
    company_name: text(b.companyName),
    address_country: 'US',
    address_region: text(a.region) ?? null,
    address_city: text(a.city),
    address_state: text(a.state).toUpperCase(),
    address_line1: text(a.addressLine1),
    address_line2: text(a.addressLine2) ?? null,
    address_line3: text(a.addressLine3) ?? null,
    address_postal_code: text(a.postalCode),
    address_first_name: text(a.firstName) ?? null,
    address_middle_name: text(a.middleName) ?? null,
    address_last_name: text(a.lastName) ?? null,
    address_phone_number: text(a.phoneNumber) ?? null,
  };
}

const PASSWORD_SETS = [
  'ABCDEFGHJKLMNPQRSTUVWXYZ',
  'abcdefghijkmnopqrstuvwxyz',
  '23456789',
  '!@#$%^&*',
];
function password() {
  const all = PASSWORD_SETS.join('');
  const chars = PASSWORD_SETS.map((set) => set[randomInt(set.length)]);
  while (chars.length < 20) chars.push(all[randomInt(all.length)]);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

async function inTransaction(work) {
  const connection = await pool.getConnection();
  try {
    await connection.query('START TRANSACTION');
    const result = await work(connection);
    await connection.query('COMMIT');
    return result;
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}

const domainTaken = () => new HttpError(409, 600010, 'The domain is already taken');

async function createCustomer(tenantId, body) {
  const company = body?.companyProfile ?? {};
  const domain = typeof company.domain === 'string' ? company.domain.trim().toLowerCase() : '';
  const problems = billingProblems(body?.billingProfile, 'billingProfile');
  const prefix = domain.endsWith(DOMAIN_SUFFIX) ? domain.slice(0, -DOMAIN_SUFFIX.length) : '';
  if (!/^[a-z0-9]([a-z0-9-]{0,25}[a-z0-9])?$/.test(prefix)) {
    problems.unshift('companyProfile.domain must be <name>.onmicrosoft.com');
  }
  if (problems.length > 0) throw invalid(problems);

  const [taken] = await pool.query('SELECT 1 FROM customers WHERE domain = ? LIMIT 1', [domain]);
  if (taken.length > 0) throw domainTaken();
  const billing = billingColumns(body.billingProfile);
  const companyName = text(company.companyName) || billing.company_name;
  const row = {
    id: randomUUID(),
    partner_tenant_id: tenantId,
    commerce_id: randomUUID(),
    domain,
    company_name: companyName,
    company_name_key: companyName.toLowerCase(),
    organization_registration_number: null,
    relationship_to_partner: 'reseller',
    associated_partner_id: guid(body.associatedPartnerId) ?? null,
    created_at: new Date(),
  };
  const profile = {
    id: randomUUID(),
    customer_id: row.id,
    partner_tenant_id: tenantId,
    ...billing,
    etag: randomBytes(18).toString('base64url'),
    updated_at: new Date(),
  };
  try {
    await inTransaction(async (connection) => {
      await connection.query('INSERT INTO customers SET ?', [row]);
      await connection.query('INSERT INTO billing_profiles SET ?', [profile]);
    });
  } catch (error) {
    if (error.code === 'ER_DUP_ENTRY') throw domainTaken();
    throw error;
  }
  return {
    ...customer(row, profile),
    userCredentials: { userName: `admin@${domain}`, password: password() },
  };
}

async function replaceBillingProfile(tenantId, rawId, body) {
  const id = guid(rawId);
  if (!id) throw new HttpError(400, 900118, 'The customer tenant id is not a GUID');
  const problems = billingProblems(body, '');
  if (problems.length > 0) throw invalid(problems);
  const changes = {
    ...billingColumns(body),
    etag: randomBytes(18).toString('base64url'),
    updated_at: new Date(),
  };
  // Unconditional (no etag sent): read, update on the etag read, record the change.
  return inTransaction(async (connection) => {
    const [rows] = await connection.query(
      'SELECT * FROM billing_profiles WHERE customer_id = ? AND partner_tenant_id = ? LIMIT 1',
      [id, tenantId],
    );
    const before = rows[0];
    if (!before) throw notFound();
    const [result] = await connection.query(
      'UPDATE billing_profiles SET ? WHERE id = ? AND etag = ?',
      [changes, before.id, before.etag],
    );
    if (result.affectedRows !== 1) throw new HttpError(412, 2055, 'The etag is no longer valid');
    const after = { ...before, ...changes };
    await connection.query(
      'INSERT INTO billing_profile_changes (customer_id, changed_by, changed_at, before_values, after_values) VALUES (?, ?, ?, ?, ?)',
      [
        id,
        tenantId,
        changes.updated_at,
        JSON.stringify(billingValues(before)),
        JSON.stringify(billingValues(after)),
      ],
    );
    return billingProfile(after);
  });
}

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });

app.addHook('onRequest', async (request, reply) => {
  reply.header('MS-RequestId', request.headers['ms-requestid'] || randomUUID());
  reply.header('MS-CorrelationId', request.headers['ms-correlationid'] || randomUUID());
  if (!request.url.startsWith('/v1/')) return;
  const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
  let claims;
  try {
    claims = token ? await verify(token) : undefined;
  } catch {
    claims = undefined;
  }
  request.tenantId = guid(claims?.tid);
  if (!request.tenantId) {
    throw new HttpError(401, 800001, 'The bearer token is not valid', [], {
      'WWW-Authenticate': 'Bearer realm="CustomerService"',
    });
  }
});

app.setErrorHandler((error, request, reply) => {
  const known = error instanceof HttpError;
  const status = known ? error.status : (error.statusCode ?? 500);
  if (!known && status >= 500) request.log.error(error);
  reply
    .status(status)
    .headers(known ? error.headers : {})
    .send({
      code: known ? error.code : status === 400 ? 800002 : 500,
      description: known || status < 500 ? error.message : 'An unexpected error occurred',
      data: known ? error.data : [],
      source: 'CustomerService',
    });
});

app.get('/health/live', async () => ({ status: 'up' }));
app.get('/v1/customers', (request) => list(request.tenantId, request.query, request.headers));
app.get('/v1/customers/:id', (request) => getCustomer(request.tenantId, request.params.id));
app.post('/v1/customers', async (request, reply) => {
  const body = await createCustomer(request.tenantId, request.body);
  reply.status(201).header('Location', `/v1/customers/${body.id}`);
  return body;
});
app.put('/v1/customers/:id/profiles/billing', async (request, reply) => {
  const profile = await replaceBillingProfile(request.tenantId, request.params.id, request.body);
  reply.header('ETag', `"${profile.attributes.etag}"`);
  return profile;
});

const close = () => {
  app
    .close()
    .then(() => pool.end())
    .finally(() => process.exit(0));
};
process.once('SIGTERM', close);
process.once('SIGINT', close);

app.listen({ port: Number(env.PORT ?? 3001), host: env.HOST ?? '127.0.0.1' }).catch((error) => {
  console.error(error);
  process.exit(1);
});
