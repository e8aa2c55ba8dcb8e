#!/usr/bin/env node
'use strict';
// npm run bench: seeds MariaDB, starts the service (production build) and the raw baseline side by
// side, drives both from a separate process (autocannon at saturation, an open-loop generator at a
// fixed rate), scenario by scenario, and reports throughput, latency at a fixed rate, CPU time per
// request and peak RSS. See bench/README.md.
const { spawnSync, fork } = require('node:child_process');
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes } = require('node:crypto');
const { createSigner } = require('fast-jwt');
const {
  createDatabase,
  dropDatabase,
  seed,
  seedShape,
  loadFixtures,
  cleanUp,
} = require('./lib/data');
const { startServer, cpuMs, memoryMb, sampleRss, databasePid } = require('./lib/servers');
const { parseOptions, HELP } = require('./lib/options');
const { printTable, ratios } = require('./lib/report');
const { runSoak } = require('./lib/soak');

const ROOT = path.resolve(__dirname, '..');
const RESULTS = path.join(__dirname, 'results');
const MYSQL_URL = (process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306').replace(
  /\/+$/,
  '',
);
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
const JWT_SECRET = 'benchmark-secret-not-for-production-7f3a9c';
/** Domains of the customers the benchmark creates start with this; seeded ones with `s`. */
const CREATED_DOMAIN_PREFIX = 'zb';

const SCENARIO_TITLES = {
  'get-by-id': 'GET /v1/customers/{id}',
  'list-first': 'GET /v1/customers?size=N (first page, large tenant)',
  'list-deep': 'GET /v1/customers?seekOperation=Next (deep page, large tenant)',
  'list-filter': 'GET /v1/customers?filter=CompanyName starts_with',
  create: 'POST /v1/customers',
  'update-billing': 'PUT /v1/customers/{id}/profiles/billing',
};

const log = (message) => console.error(`[bench] ${message}`);

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  const startedAt = new Date();
  const serviceScript = ensureBuilt(options);
  // The smoke test gets a database of its own, dropped afterwards: CI runs may overlap.
  const database = options.smoke
    ? `customers_bench_smoke_${randomBytes(3).toString('hex')}`
    : 'customers_bench';
  await createDatabase(MYSQL_URL, database, { drop: options.smoke });
  const redis = await redisAnswers(REDIS_URL);
  if (!redis) log(`Redis at ${REDIS_URL} does not answer: the service counts in process memory`);

  const targets = targetDefinitions(options, serviceScript, database, redis);
  const servers = new Map();
  const stopAll = async () => {
    await Promise.all([...servers.values()].map((server) => server.stop()));
  };
  process.once('SIGINT', () => {
    void stopAll()
      .then(() => options.smoke && dropDatabase(MYSQL_URL, database))
      .finally(() => process.exit(130));
  });

  try {
    // The service's own migrations create the schema, so a service starts before the seed.
    const ordered = [...options.targets].sort((a, b) => (a === 'baseline') - (b === 'baseline'));
    for (const name of ordered) {
      servers.set(name, await startServer({ ...targets[name], log }));
      if (servers.size === 1) {
        const shape = seedShape(options.smoke);
        targets.seedRecord = await seed(MYSQL_URL, database, shape, log, options.reseed);
      }
    }
    if (!options.keep) await cleanUp(MYSQL_URL, database, CREATED_DOMAIN_PREFIX);
    const fixtures = await loadFixtures(MYSQL_URL, database, targets.seedRecord, options.hot);
    const tokens = tokensFor(fixtures.tenants);

    if (options.soakMinutes !== undefined) {
      const soak = await runSoak({
        options,
        server: servers.get(options.targets[0]),
        job: (server, extra) => getByIdJob(server, fixtures, tokens, extra),
        runLoad,
        log,
      });
      writeResults(options.smoke ? 'smoke-soak-latest.json' : 'soak-latest.json', {
        date: startedAt.toISOString(),
        command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
        machine: machine(),
        service: sourceState(),
        soak,
      });
      return soak.failed ? 1 : 0;
    }

    const checks = await compareAnswers(servers, fixtures, tokens, options);
    const report = await runScenarios({ options, servers, targets, fixtures, tokens });
    if (!options.keep) {
      const removed = await cleanUp(MYSQL_URL, database, CREATED_DOMAIN_PREFIX);
      log(`removed ${removed.customers} created customers and ${removed.changes} history rows`);
    }
    const memory = Object.fromEntries(
      [...servers].map(([name, server]) => [name, memoryMb(server.pid)]),
    );
    const result = {
      date: startedAt.toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine: machine(),
      service: sourceState(),
      options,
      seed: targets.seedRecord,
      targets: Object.fromEntries(
        options.targets.map((name) => [name, { label: targets[name].label }]),
      ),
      shapeChecks: checks,
      scenarios: report.scenarios,
      ratios: ratios(report.scenarios, options.targets),
      memoryAtEnd: memory,
      failures: report.failures,
    };
    // The smoke test's numbers mean nothing; they must not replace the last real ones.
    writeResults(options.smoke ? 'smoke-latest.json' : 'latest.json', result);
    printTable(result);
    if (report.failures.length > 0) {
      console.error(
        `\n${report.failures.length} problem(s):\n  - ${report.failures.join('\n  - ')}`,
      );
      return 1;
    }
    return 0;
  } finally {
    await stopAll();
    if (options.smoke) await dropDatabase(MYSQL_URL, database);
  }
}

/** The compiled service's entry point; compiled first when asked or when it is missing. */
function ensureBuilt(options) {
  const dist = path.resolve(ROOT, options.dist);
  const main = path.join(dist, 'src', 'main.js');
  if (options.build || !existsSync(main)) {
    const defaultDist = dist === path.join(ROOT, 'dist');
    log(`building the service into ${path.relative(ROOT, dist)}/`);
    const build = defaultDist
      ? spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' })
      : spawnSync(
          process.execPath,
          [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', dist],
          { cwd: ROOT, stdio: 'inherit' },
        );
    if (build.status !== 0) throw new Error('the service did not build');
  }
  return main;
}

async function redisAnswers(url) {
  const { Redis } = require('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function targetDefinitions(options, serviceScript, database, redis) {
  const hook = options.profile || options.soakMinutes !== undefined;
  const common = {
    NODE_ENV: 'production',
    DATABASE_URL: `${MYSQL_URL}/${database}`,
    AUTH_JWT_SECRET: JWT_SECRET,
    PAGING_TOKEN_SECRET: JWT_SECRET,
    AUTH_JWKS_URI: undefined,
    AUTH_ISSUER: undefined,
    AUTH_AUDIENCE: undefined,
    LOG_LEVEL: 'silent',
    // The limiter counts every request but never refuses one (CONTRACT section 9).
    THROTTLE_LIMIT: '100000000',
    THROTTLE_TTL_MS: undefined,
  };
  const service = (name, label, env) => ({
    name,
    label,
    script: serviceScript,
    env: { ...common, ...env },
    hook,
  });
  return {
    baseline: {
      name: 'baseline',
      label: 'Fastify + mysql2 baseline',
      script: path.join(__dirname, 'baseline', 'server.js'),
      env: common,
      hook,
    },
    service: redis
      ? service('service', 'service, Redis counters', { REDIS_URL })
      : service('service', 'service, in-process counters (Redis unreachable)', {
          REDIS_URL: undefined,
        }),
    'service-memory': service('service-memory', 'service, in-process counters', {
      REDIS_URL: undefined,
    }),
  };
}

function tokensFor(tenants) {
  const sign = createSigner({ key: JWT_SECRET, algorithm: 'HS256', expiresIn: 24 * 3600 * 1000 });
  return new Map(tenants.map((tenant) => [tenant, sign({ tid: tenant, sub: 'benchmark' })]));
}

function getByIdJob(server, fixtures, tokens, extra = {}) {
  return {
    url: server.url,
    scenario: {
      kind: 'get',
      pairs: fixtures.reads.map(({ id, tenantId }) => ({ id, token: tokens.get(tenantId) })),
    },
    ...extra,
  };
}

const listPath = (options, query = '') => `/v1/customers?size=${options.pageSize}${query}`;

function filterQuery(prefix) {
  const filter = JSON.stringify({ Field: 'CompanyName', Value: prefix, Operator: 'starts_with' });
  return `&filter=${encodeURIComponent(filter)}`;
}

/** The continuation token that fetches page `deepPage`, by walking the list as the SDKs do. */
async function deepToken(server, fixtures, tokens, options) {
  const headers = { authorization: `Bearer ${tokens.get(fixtures.bigTenant)}` };
  let uri = listPath(options);
  let extra = {};
  const started = Date.now();
  for (let page = 1; page < options.deepPage; page++) {
    const response = await fetch(`${server.url}${uri}`, { headers: { ...headers, ...extra } });
    const body = await response.json();
    if (!response.ok || !body.links?.next || body.items?.length !== options.pageSize) {
      throw new Error(
        `${server.name}: page ${page} of the list ended the walk (${response.status})`,
      );
    }
    const next = body.links.next;
    uri = next.uri.startsWith('/v1/') ? next.uri : `/v1${next.uri}`;
    extra = Object.fromEntries(next.headers.map(({ key, value }) => [key, value]));
  }
  log(`${server.name}: walked to page ${options.deepPage} in ${Date.now() - started} ms`);
  return { path: uri, headers: { ...headers, ...extra } };
}

/** Per scenario and server: the job for autocannon, or a reason to skip. */
async function scenarioJob(name, server, context) {
  const { fixtures, tokens, options } = context;
  const big = { authorization: `Bearer ${tokens.get(fixtures.bigTenant)}` };
  switch (name) {
    case 'get-by-id':
      return getByIdJob(server, fixtures, tokens);
    case 'list-first':
      return fixedJob(server, 'GET', listPath(options), big);
    case 'list-deep': {
      // A token walked on one server is tried on the next (the servers share the paging secret,
      // and the baseline signs the same way); a server that refuses it is walked itself.
      for (const known of context.deepTokens) {
        const probe = await fetch(`${server.url}${known.path}`, { headers: known.headers });
        await probe.arrayBuffer();
        if (probe.ok) return fixedJob(server, 'GET', known.path, known.headers);
      }
      const deep = await deepToken(server, fixtures, tokens, options);
      context.deepTokens.push(deep);
      return fixedJob(server, 'GET', deep.path, deep.headers);
    }
    case 'list-filter':
      return fixedJob(server, 'GET', listPath(options, filterQuery(fixtures.filterPrefix)), big);
    case 'create':
      return {
        url: server.url,
        scenario: {
          kind: 'create',
          tokens: fixtures.createTenants.slice(0, 1_000).map((tenant) => tokens.get(tenant)),
        },
      };
    case 'update-billing': {
      const pairs = fixtures.updates.map(({ id, tenantId }) => ({
        id,
        token: tokens.get(tenantId),
      }));
      // A route that does not exist (yet) is skipped, not failed.
      const probe = await fetch(`${server.url}/v1/customers/${pairs[0].id}/profiles/billing`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${pairs[0].token}`, 'content-type': 'application/json' },
        body: JSON.stringify(require('./lib/bodies').billingProfileBody(0)),
      });
      if (probe.status === 404 || probe.status === 405) {
        return { skip: `PUT …/profiles/billing answered ${probe.status}: route missing` };
      }
      return { url: server.url, scenario: { kind: 'update', pairs } };
    }
    default:
      throw new Error(`unknown scenario ${name}`);
  }
}

function fixedJob(server, method, requestPath, headers) {
  return { url: server.url, scenario: { kind: 'fixed', method, path: requestPath, headers } };
}

let jobCount = 0;
const runTag = `${CREATED_DOMAIN_PREFIX}${randomBytes(4).readUInt32BE(0).toString(36)}`;

/** Runs one autocannon job in a child process and returns its summary. */
function runLoad(job) {
  const scenario =
    job.scenario.kind === 'create'
      ? { ...job.scenario, domainPrefix: `${runTag}${(jobCount++).toString(36)}x` }
      : job.scenario;
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'lib', 'load.js'), [], { stdio: 'inherit' });
    let answer;
    child.once('message', (message) => (answer = message));
    child.once('exit', (code) => {
      if (answer?.summary) resolve(answer.summary);
      else reject(new Error(answer?.error ?? `the load generator exited with ${code}`));
    });
    child.send({ ...job, scenario });
  });
}

/** One measured phase: the load, and the server's (and database's) CPU and memory around it. */
async function measure(server, job, phase, context) {
  const dbPid = context.dbPid;
  const profileFile = context.options.profile && phase.profileAs;
  if (profileFile) await server.profiler('start');
  const cpuBefore = cpuMs(server.pid);
  const dbBefore = dbPid ? cpuMs(dbPid) : NaN;
  const stopRss = sampleRss(server.pid);
  const summary = await runLoad({
    ...job,
    connections: context.options.connections,
    duration: phase.duration,
    overallRate: phase.rate,
    openLoop: phase.rate !== undefined && context.options.rateTool === 'open',
    captureErrors: true,
  });
  const peakRssMb = stopRss();
  const cpu = cpuMs(server.pid) - cpuBefore;
  const db = dbPid ? cpuMs(dbPid) - dbBefore : NaN;
  if (profileFile) {
    mkdirSync(path.dirname(profileFile), { recursive: true });
    await server.profiler('stop', profileFile);
  }
  if (server.exited()) throw new Error(`${server.name} died:\n${server.output()}`);
  return {
    ...summary,
    cpuMsPerRequest: summary.requests > 0 ? cpu / summary.requests : NaN,
    cpuUtilisation: cpu / (summary.seconds * 1000),
    dbCpuMsPerRequest: summary.requests > 0 ? db / summary.requests : NaN,
    peakRssMb,
  };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
};

/**
 * Several rounds of one phase as one result: the median of each measure taken separately (the
 * machine is shared, so one round may be disturbed), the peaks as peaks, every round kept.
 */
function combineRounds(all, representative) {
  const pick = (read) => median(all.map(read));
  const middle = pick(representative === 'rps' ? (r) => r.rps : (r) => r.latency.p50);
  const base = all.find((r) => (representative === 'rps' ? r.rps : r.latency.p50) === middle);
  return {
    ...base,
    rps: pick((r) => r.rps),
    cpuMsPerRequest: pick((r) => r.cpuMsPerRequest),
    cpuUtilisation: pick((r) => r.cpuUtilisation),
    dbCpuMsPerRequest: pick((r) => r.dbCpuMsPerRequest),
    peakRssMb: Math.max(...all.map((r) => r.peakRssMb)),
    non2xx: all.reduce((sum, r) => sum + r.non2xx, 0),
    errors: all.reduce((sum, r) => sum + r.errors, 0),
    timeouts: all.reduce((sum, r) => sum + r.timeouts, 0),
    latency: {
      p50: pick((r) => r.latency.p50),
      p90: pick((r) => r.latency.p90),
      p99: pick((r) => r.latency.p99),
      max: Math.max(...all.map((r) => r.latency.max)),
      mean: pick((r) => r.latency.mean),
    },
    rounds: all.map(({ rps, cpuMsPerRequest, latency, non2xx, errors, timeouts }) => ({
      rps,
      cpuMsPerRequest,
      latency,
      non2xx,
      errors,
      timeouts,
    })),
  };
}

async function runScenarios({ options, servers, fixtures, tokens }) {
  const context = { options, fixtures, tokens, dbPid: databasePid(), deepTokens: [] };
  const failures = [];
  const scenarios = [];
  const noteProblems = (scenario, target, phase, summary) => {
    const bad = summary.non2xx + summary.errors + summary.timeouts;
    if (bad > 0) {
      failures.push(
        `${scenario} on ${target} (${phase}): ${summary.non2xx} non-2xx, ${summary.errors} errors, ` +
          `${summary.timeouts} timeouts ${JSON.stringify(summary.statusCodes)} ` +
          summary.errorSamples.join(' | '),
      );
    }
  };

  for (const name of options.scenarios) {
    log(`scenario ${name}`);
    const entry = { name, title: SCENARIO_TITLES[name], results: {}, skipped: {} };
    const jobs = new Map();
    // Services first: the deep page's token then comes from walking the service itself.
    const setupOrder = [...options.targets].sort((a, b) => (a === 'baseline') - (b === 'baseline'));
    for (const target of setupOrder) {
      const job = await scenarioJob(name, servers.get(target), context);
      if (job.skip) {
        entry.skipped[target] = job.skip;
        log(`  ${target}: skipped (${job.skip})`);
      } else jobs.set(target, job);
    }
    const active = options.targets.filter((target) => jobs.has(target));
    const rounds = new Map(active.map((target) => [target, []]));

    // Saturation: the servers take turns, round after round.
    for (let round = 0; round < options.rounds; round++) {
      for (const target of active) {
        const server = servers.get(target);
        if (round === 0 && options.warmup > 0) {
          const warm = await runLoad({
            ...jobs.get(target),
            connections: options.connections,
            duration: options.warmup,
          });
          noteProblems(name, target, 'warm-up', warm);
        }
        const profileAs =
          round === 0 ? path.join(RESULTS, 'profiles', `${name}-${target}.cpuprofile`) : undefined;
        const result = await measure(
          server,
          jobs.get(target),
          { duration: options.duration, profileAs },
          context,
        );
        noteProblems(name, target, 'saturation', result);
        rounds.get(target).push(result);
        log(
          `  ${target}: ${result.rps.toFixed(0)} req/s, ` +
            `${result.cpuMsPerRequest.toFixed(3)} ms CPU/req, peak RSS ${result.peakRssMb.toFixed(0)} MB`,
        );
      }
    }
    const saturation = new Map(
      active.map((target) => [target, combineRounds(rounds.get(target), 'rps')]),
    );

    // Latency at one fixed rate for all: a fraction of the slowest server's saturation rate,
    // the servers again taking turns, round after round.
    const rate =
      options.rate ??
      Math.max(
        1,
        Math.round(
          options.rateFraction * Math.min(...active.map((t) => saturation.get(t).rps || 1)),
        ),
      );
    entry.rate = rate;
    const rateRounds = new Map(active.map((target) => [target, []]));
    for (let round = 0; round < options.rounds; round++) {
      for (const target of active) {
        const result = await measure(
          servers.get(target),
          jobs.get(target),
          { duration: options.rateDuration, rate },
          context,
        );
        noteProblems(name, target, `${rate} req/s`, result);
        rateRounds.get(target).push(result);
        log(
          `  ${target} at ${rate} req/s: p50 ${result.latency.p50.toFixed(1)} ms, ` +
            `p99 ${result.latency.p99.toFixed(1)} ms`,
        );
      }
    }
    for (const target of active) {
      const sat = saturation.get(target);
      const fixedRate = combineRounds(rateRounds.get(target), 'p50');
      entry.results[target] = {
        rps: sat.rps,
        cpuMsPerRequest: sat.cpuMsPerRequest,
        cpuUtilisation: sat.cpuUtilisation,
        dbCpuMsPerRequest: sat.dbCpuMsPerRequest,
        peakRssMb: Math.max(sat.peakRssMb, fixedRate.peakRssMb),
        bytesPerResponse: sat.bytesPerResponse,
        saturation: sat,
        fixedRate,
      };
    }
    scenarios.push(entry);
  }
  return { scenarios, failures };
}

/**
 * The same requests to every server, answers compared with the continuation tokens masked (their
 * format is each server's own): the baseline must serialise what the service does.
 */
async function compareAnswers(servers, fixtures, tokens, options) {
  const read = fixtures.reads[0];
  const requests = {
    'get-by-id': {
      path: `/v1/customers/${read.id}`,
      headers: { authorization: `Bearer ${tokens.get(read.tenantId)}` },
    },
    'list-first': {
      path: listPath(options),
      headers: { authorization: `Bearer ${tokens.get(fixtures.bigTenant)}` },
    },
    'list-filter': {
      path: listPath(options, filterQuery(fixtures.filterPrefix)),
      headers: { authorization: `Bearer ${tokens.get(fixtures.bigTenant)}` },
    },
  };
  const mask = (body) =>
    JSON.stringify(body, (key, value) =>
      key === 'continuationToken' || (key === 'value' && typeof value === 'string')
        ? '<token>'
        : value,
    );
  const checks = {};
  for (const [name, request] of Object.entries(requests)) {
    const answers = {};
    for (const [target, server] of servers) {
      const response = await fetch(`${server.url}${request.path}`, { headers: request.headers });
      answers[target] = {
        status: response.status,
        contentType: response.headers.get('content-type'),
        body: mask(await response.json()),
      };
    }
    const [first, ...rest] = Object.values(answers);
    const same = rest.every(
      (answer) =>
        answer.status === first.status &&
        answer.body === first.body &&
        answer.contentType === first.contentType,
    );
    checks[name] = same ? 'same' : answers;
    if (!same) log(`WARNING: the servers answer ${name} differently: ${JSON.stringify(answers)}`);
  }
  return checks;
}

/** Which code was measured: the commit, and the files under src/ changed since. */
function sourceState() {
  const git = (...args) =>
    spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  return {
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommitted: git('status', '--porcelain', '--', 'src')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3)),
  };
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: `${cpus.length} x ${cpus[0]?.model ?? 'unknown'}`,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

function writeResults(file, data) {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, file), `${JSON.stringify(data, null, 2)}\n`);
  log(`wrote bench/results/${file}`);
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error.usage ? error.message : error);
    process.exit(error.usage ? 2 : 1);
  },
);
