'use strict';
// The benchmark's data: a dedicated MariaDB database, seeded once by multi-row INSERTs and reused
// while its `bench_meta` marker matches the wanted shape; and the fixtures a run samples from it.
const { randomBytes, randomInt, randomUUID } = require('node:crypto');
const mysql = require('mysql2/promise');

const SEED_VERSION = 1;
const BATCH_ROWS = 2_000;
const PARALLEL_BATCHES = 3;

const FIRST_WORDS = [
  'Adatum',
  'Alpine',
  'Blue Yonder',
  'Coho',
  'Contoso',
  'Fabrikam',
  'First Up',
  'Fourth Coffee',
  'Graphic Design',
  'Humongous',
  'Litware',
  'Lucerne',
  'Munson',
  'Nod',
  'Northwind',
  'Proseware',
  'Relecloud',
  'Southridge',
  'Tailspin',
  'Trey',
  'VanArsdel',
  'Wide World',
  'Wingtip',
  'Woodgrove',
  'Zava',
];
const SECOND_WORDS = [
  'Airlines',
  'Bank',
  'Consulting',
  'Energy',
  'Foods',
  'Health',
  'Importers',
  'Insurance',
  'Labs',
  'Logistics',
  'Media',
  'Publishing',
  'Research',
  'Software',
  'Toys',
  'Travel',
  'Video',
  'Winery',
];
const LEGAL_FORMS = ['Ltd', 'Inc.', 'LLC', 'Corp.', 'Group', 'Partners'];
const GIVEN_NAMES = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken'];
const FAMILY_NAMES = ['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen'];
const PLACES = [
  ['Redmond', 'WA', '98052'],
  ['Seattle', 'WA', '98101'],
  ['Austin', 'TX', '73301'],
  ['Boston', 'MA', '02108'],
  ['Denver', 'CO', '80202'],
  ['Chicago', 'IL', '60601'],
  ['Miami', 'FL', '33101'],
  ['Portland', 'OR', '97201'],
];

/** The shape of a seeded database: the full benchmark, or the smoke test's tiny one. */
function seedShape(smoke) {
  return smoke
    ? { version: SEED_VERSION, tenants: 2, customers: 300, bigTenantCustomers: 250 }
    : { version: SEED_VERSION, tenants: 1_000, customers: 1_000_000, bigTenantCustomers: 200_000 };
}

function connect(serverUrl, database) {
  const url = new URL(serverUrl);
  if (database) url.pathname = `/${database}`;
  return mysql.createConnection({
    uri: url.toString(),
    charset: 'utf8mb4_unicode_ci',
    timezone: 'Z',
  });
}

async function createDatabase(serverUrl, name, { drop }) {
  const connection = await connect(serverUrl);
  try {
    if (drop) await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await connection.query(
      `CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await connection.end();
  }
}

async function dropDatabase(serverUrl, name) {
  const connection = await connect(serverUrl);
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await connection.end();
  }
}

/** The seed recorded in the database, when it is complete and has the wanted shape. */
async function existingSeed(connection, shape) {
  const [rows] = await connection.query("SELECT v FROM bench_meta WHERE k = 'seed'");
  if (rows.length === 0) return undefined;
  const seed = JSON.parse(rows[0].v);
  const same = ['version', 'tenants', 'customers', 'bigTenantCustomers'].every(
    (key) => seed[key] === shape[key],
  );
  if (!same) return undefined;
  const [[{ seeded }]] = await connection.query(
    "SELECT COUNT(*) AS seeded FROM customers WHERE domain LIKE 's%'",
  );
  return Number(seeded) === shape.customers ? seed : undefined;
}

/**
 * Seeds the database (its schema made by the service's own migrations) unless it already holds the
 * wanted seed. Rows go in primary-key order: the ids are random-looking GUIDs whose first eight hex
 * digits grow with the row number, so InnoDB appends instead of splitting pages at random.
 */
async function seed(serverUrl, database, shape, log, force = false) {
  const connection = await connect(serverUrl, database);
  try {
    await connection.query(
      'CREATE TABLE IF NOT EXISTS bench_meta (k VARCHAR(32) PRIMARY KEY, v TEXT NOT NULL)',
    );
    const found = force ? undefined : await existingSeed(connection, shape);
    if (found) {
      log(`database ${database}: reusing the seed of ${found.seededAt}`);
      return found;
    }
    const started = Date.now();
    log(
      `database ${database}: seeding ${shape.customers} customers for ${shape.tenants} tenants ` +
        `(one with ${shape.bigTenantCustomers}) and their billing profiles`,
    );
    await connection.query('SET FOREIGN_KEY_CHECKS = 0');
    for (const table of [
      'billing_profile_changes',
      'billing_profiles',
      'idempotency_records',
      'customers',
    ]) {
      await connection.query(`TRUNCATE TABLE \`${table}\``);
    }
    await connection.query("DELETE FROM bench_meta WHERE k = 'seed'");

    const tenants = Array.from({ length: shape.tenants }, () => randomUUID());
    const resellers = Array.from({ length: Math.max(1, Math.round(shape.tenants / 20)) }, () =>
      randomUUID(),
    );
    const owners = ownerOfEachRow(shape);
    const secondaryIndexes = await dropSecondaryIndexes(connection, 'customers');

    const workers = await Promise.all(
      Array.from({ length: PARALLEL_BATCHES }, async () => {
        const worker = await connect(serverUrl, database);
        await worker.query('SET FOREIGN_KEY_CHECKS = 0, UNIQUE_CHECKS = 0');
        return worker;
      }),
    );
    try {
      let next = 0;
      let done = 0;
      const batches = Math.ceil(shape.customers / BATCH_ROWS);
      await Promise.all(
        workers.map(async (worker) => {
          for (let batch = next++; batch < batches; batch = next++) {
            const from = batch * BATCH_ROWS;
            const to = Math.min(shape.customers, from + BATCH_ROWS);
            const rows = [];
            for (let i = from; i < to; i++)
              rows.push(seedRow(i, shape, tenants, owners, resellers));
            await worker.query(customersInsert(rows));
            await worker.query(billingInsert(rows));
            done++;
            if (done % 100 === 0) log(`  ${Math.round((done / batches) * 100)}%`);
          }
        }),
      );
    } finally {
      await Promise.all(workers.map((worker) => worker.end()));
    }
    log('  building the secondary indexes');
    await restoreSecondaryIndexes(connection, 'customers', secondaryIndexes);
    await connection.query('ANALYZE TABLE customers, billing_profiles');

    const record = {
      ...shape,
      bigTenant: tenants[0],
      seededAt: new Date().toISOString(),
      seedSeconds: Math.round((Date.now() - started) / 1000),
    };
    await connection.query("REPLACE INTO bench_meta (k, v) VALUES ('seed', ?)", [
      JSON.stringify(record),
    ]);
    log(`database ${database}: seeded in ${record.seedSeconds} s`);
    return record;
  } finally {
    await connection.end();
  }
}

/** Tenant 0 gets the big share; the rest is spread evenly, rows shuffled over the id space. */
function ownerOfEachRow(shape) {
  const owners = new Uint16Array(shape.customers);
  const others = shape.tenants - 1;
  const rest = shape.customers - shape.bigTenantCustomers;
  let row = 0;
  for (let i = 0; i < shape.bigTenantCustomers; i++) owners[row++] = 0;
  for (let tenant = 1; tenant <= others; tenant++) {
    const count = Math.floor(rest / others) + (tenant <= rest % others ? 1 : 0);
    for (let i = 0; i < count; i++) owners[row++] = tenant;
  }
  for (let i = owners.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [owners[i], owners[j]] = [owners[j], owners[i]];
  }
  return owners;
}

/** A v4-looking GUID whose first 32 bits grow with `index`, so rows sort in insertion order. */
function orderedGuid(index, total) {
  const head = Math.floor((index * 0x1_0000_0000) / total)
    .toString(16)
    .padStart(8, '0');
  const tail = randomBytes(12).toString('hex');
  const variant = ((parseInt(tail[7], 16) & 0x3) | 0x8).toString(16);
  return `${head}-${tail.slice(0, 4)}-4${tail.slice(4, 7)}-${variant}${tail.slice(8, 11)}-${tail.slice(12, 24)}`;
}

/** The seeded domains: `s<row number, base 36, fixed width>`, also in insertion order. */
function seededDomain(index) {
  return `s${index.toString(36).padStart(4, '0')}.onmicrosoft.com`;
}

function pick(list) {
  return list[randomInt(list.length)];
}

function seedRow(index, shape, tenants, owners, resellers) {
  const companyName = `${pick(FIRST_WORDS)} ${pick(SECOND_WORDS)} ${index} ${pick(LEGAL_FORMS)}`;
  const [city, state, postalCode] = pick(PLACES);
  const given = pick(GIVEN_NAMES);
  const family = pick(FAMILY_NAMES);
  const domain = seededDomain(index);
  const created = new Date(Date.UTC(2024, 0, 1) + index * 1000).toISOString();
  return {
    id: orderedGuid(index, shape.customers),
    billingId: orderedGuid(index, shape.customers),
    tenant: tenants[owners[index]],
    commerceId: randomUUID(),
    domain,
    companyName,
    reseller: index % 20 === 7 ? pick(resellers) : null,
    relationship: index % 50 === 3 ? 'none' : 'reseller',
    createdAt: created.slice(0, 23).replace('T', ' '),
    firstName: given,
    lastName: family,
    email: `${given.toLowerCase()}.${family.toLowerCase()}@${domain.replace('.onmicrosoft.com', '.example.com')}`,
    city,
    state,
    postalCode,
    line1: `${1 + (index % 9_999)} ${pick(FAMILY_NAMES)} Street`,
    phone: `+1 425 555 ${String(index % 10_000).padStart(4, '0')}`,
    etag: randomBytes(18).toString('base64url'),
  };
}

// The values are generated above from fixed word lists: letters, digits, spaces, dots, @, + and -,
// never a quote or a backslash, so they are written as literals without escaping.
const q = (value) => (value === null ? 'NULL' : `'${value}'`);

function customersInsert(rows) {
  const values = rows.map(
    (r) =>
      `(${q(r.id)},${q(r.tenant)},${q(r.commerceId)},${q(r.domain)},${q(r.companyName)},` +
      `${q(r.companyName.toLowerCase())},NULL,${q(r.relationship)},${q(r.reseller)},${q(r.createdAt)})`,
  );
  return (
    'INSERT INTO customers (id, partner_tenant_id, commerce_id, domain, company_name, ' +
    'company_name_key, organization_registration_number, relationship_to_partner, ' +
    `associated_partner_id, created_at) VALUES ${values.join(',')}`
  );
}

function billingInsert(rows) {
  const values = rows.map(
    (r) =>
      `(${q(r.billingId)},${q(r.id)},${q(r.tenant)},${q(r.firstName)},${q(r.lastName)},` +
      `${q(r.email)},'en-US','en',${q(r.companyName)},'US',NULL,${q(r.city)},${q(r.state)},` +
      `${q(r.line1)},NULL,NULL,${q(r.postalCode)},NULL,NULL,NULL,${q(r.phone)},${q(r.etag)},` +
      `${q(r.createdAt)})`,
  );
  return (
    'INSERT INTO billing_profiles (id, customer_id, partner_tenant_id, first_name, last_name, ' +
    'email, culture, language, company_name, address_country, address_region, address_city, ' +
    'address_state, address_line1, address_line2, address_line3, address_postal_code, ' +
    'address_first_name, address_middle_name, address_last_name, address_phone_number, etag, ' +
    `updated_at) VALUES ${values.join(',')}`
  );
}

/**
 * The non-unique secondary indexes, as the migrations made them, are dropped for the bulk load and
 * built again afterwards by sorting: far faster than inserting random keys into them row by row.
 */
async function dropSecondaryIndexes(connection, table) {
  // A seed that died half-way left its dropped indexes in bench_meta: they are restored too.
  const [saved] = await connection.query("SELECT v FROM bench_meta WHERE k = 'dropped_indexes'");
  const indexes = new Map(saved.length > 0 ? JSON.parse(saved[0].v) : []);
  const [rows] = await connection.query(
    'SELECT INDEX_NAME AS name, COLUMN_NAME AS col, SUB_PART AS part FROM information_schema.STATISTICS ' +
      "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 1 AND INDEX_NAME <> 'PRIMARY' " +
      'ORDER BY INDEX_NAME, SEQ_IN_INDEX',
    [table],
  );
  const present = new Map();
  for (const row of rows) {
    const column = row.part ? `\`${row.col}\`(${row.part})` : `\`${row.col}\``;
    present.set(row.name, [...(present.get(row.name) ?? []), column]);
  }
  for (const [name, columns] of present) indexes.set(name, columns);
  await connection.query("REPLACE INTO bench_meta (k, v) VALUES ('dropped_indexes', ?)", [
    JSON.stringify([...indexes]),
  ]);
  if (present.size > 0) {
    const drops = [...present.keys()].map((name) => `DROP INDEX \`${name}\``);
    await connection.query(`ALTER TABLE \`${table}\` ${drops.join(', ')}`);
  }
  return indexes;
}

async function restoreSecondaryIndexes(connection, table, indexes) {
  if (indexes.size > 0) {
    const adds = [...indexes].map(
      ([name, columns]) => `ADD INDEX \`${name}\` (${columns.join(', ')})`,
    );
    await connection.query(`ALTER TABLE \`${table}\` ${adds.join(', ')}`);
  }
  await connection.query("DELETE FROM bench_meta WHERE k = 'dropped_indexes'");
}

/**
 * What a run drives the servers with, sampled from the seed: customers (with their owners) spread
 * over all tenants for GET and PUT, the tenants that receive the creates (all but the big one, so
 * its list stays put while it is paged), and a company-name prefix for the filtered list.
 */
async function loadFixtures(serverUrl, database, seedRecord, hotSet) {
  const connection = await connect(serverUrl, database);
  try {
    const sample = async (count) => {
      const picks = new Set();
      const wanted = Math.min(count, seedRecord.customers);
      while (picks.size < wanted) picks.add(seededDomain(randomInt(seedRecord.customers)));
      const [rows] = await connection.query(
        'SELECT id, partner_tenant_id AS tenantId FROM customers WHERE domain IN (?)',
        [[...picks]],
      );
      return rows;
    };
    const [tenantRows] = await connection.query(
      'SELECT DISTINCT partner_tenant_id AS tenantId FROM customers',
    );
    const tenants = tenantRows.map((row) => row.tenantId);
    return {
      bigTenant: seedRecord.bigTenant,
      tenants,
      createTenants: tenants.filter((tenant) => tenant !== seedRecord.bigTenant),
      reads: await sample(hotSet),
      updates: await sample(hotSet),
      filterPrefix: 'Northwind',
    };
  } finally {
    await connection.end();
  }
}

/**
 * Removes what runs wrote, so that the next one starts from the seed: the customers they created
 * (their billing profiles and history go with them: ON DELETE CASCADE) and every billing-profile
 * history row (the seed has none).
 */
async function cleanUp(serverUrl, database, domainPrefix) {
  const connection = await connect(serverUrl, database);
  try {
    const [changes] = await connection.query('DELETE FROM billing_profile_changes');
    await connection.query(
      'DELETE i FROM idempotency_records i JOIN customers c ON c.id = i.customer_id ' +
        'WHERE c.domain LIKE ?',
      [`${domainPrefix}%`],
    );
    const [customers] = await connection.query('DELETE FROM customers WHERE domain LIKE ?', [
      `${domainPrefix}%`,
    ]);
    return { customers: customers.affectedRows, changes: changes.affectedRows };
  } finally {
    await connection.end();
  }
}

module.exports = { seedShape, createDatabase, dropDatabase, seed, loadFixtures, cleanUp };
