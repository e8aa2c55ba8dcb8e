'use strict';
// Command-line options of `npm run bench -- [options]`.

const HELP = `Usage: npm run bench -- [options]

  --smoke                 tiny data (2 tenants, 300 customers) in customers_bench_smoke, 1 s per
                          phase; exits non-zero unless every request answered 2xx (CI runs this)
  --soak <minutes>        GET by id at a fixed rate for <minutes>, RSS sampled every few seconds
  --duration <s>          saturation phase length per scenario, server and round (default 5)
  --rate-duration <s>     fixed-rate phase length (default: --duration)
  --warmup <s>            unmeasured load before the first saturation phase (default 5)
  --connections <n>       autocannon connections (default 50)
  --rate-fraction <f>     fixed rate = f x the slowest server's saturation rate (default 0.5)
  --rate <n>              fixed rate in requests/s, instead of --rate-fraction
  --rate-tool <tool>      open: open-loop generator, latency from each request's due time
                          (default); autocannon: autocannon's overallRate (bursty, see README)
  --rounds <n>            rounds of each phase, servers alternating; medians count (default 3)
  --targets <list>        baseline,service,service-memory (default: all three; smoke: two)
  --scenarios <list>      get-by-id,list-first,list-deep,list-filter,create,update-billing
  --hot <n>               distinct customers read and updated (default 5000)
  --page-size <n>         list page size (default 100)
  --deep-page <n>         the deep page (default 2000)
  --profile               CPU-profile every server during each saturation phase
                          (bench/results/profiles/, summarise with node bench/profile.js)
  --build                 compile the service into --dist first (default: only when missing)
  --dist <dir>            the compiled service (default dist)
  --reseed                seed again even when the database already holds the seed
  --keep                  keep the customers and history rows the run wrote

Environment: BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306),
             BENCH_REDIS_URL (default redis://127.0.0.1:6379; unreachable = in-process counters).
`;

const ALL_TARGETS = ['baseline', 'service', 'service-memory'];
const ALL_SCENARIOS = [
  'get-by-id',
  'list-first',
  'list-deep',
  'list-filter',
  'create',
  'update-billing',
];

function parseOptions(argv) {
  const flags = new Set(['smoke', 'profile', 'build', 'reseed', 'keep', 'help']);
  const withValue = new Set([
    'soak',
    'duration',
    'rate-duration',
    'warmup',
    'connections',
    'rate-fraction',
    'rate',
    'rate-tool',
    'rounds',
    'targets',
    'scenarios',
    'hot',
    'page-size',
    'deep-page',
    'dist',
  ]);
  const raw = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw usage(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (flags.has(name)) raw[name] = true;
    else if (!withValue.has(name)) throw usage(`unknown option --${name}`);
    else if (inline !== undefined) raw[name] = inline;
    else if (i + 1 < argv.length) raw[name] = argv[++i];
    else throw usage(`--${name} needs a value`);
  }

  const smoke = Boolean(raw.smoke);
  const number = (name, fallback, { min = 0, integer = false } = {}) => {
    if (raw[name] === undefined) return fallback;
    const value = Number(raw[name]);
    if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
      throw usage(`--${name} must be a number${integer ? ' (integer)' : ''} >= ${min}`);
    }
    return value;
  };
  const list = (name, all, fallback) => {
    if (raw[name] === undefined) return fallback;
    const items = String(raw[name])
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
    const unknown = items.filter((item) => !all.includes(item));
    if (unknown.length > 0 || items.length === 0) {
      throw usage(`--${name}: choose from ${all.join(', ')}`);
    }
    return items;
  };

  const soakMinutes = number('soak', undefined, { min: 0.1 });
  const duration = number('duration', smoke ? 1 : 5, { min: 0.5 });
  const options = {
    help: Boolean(raw.help),
    smoke,
    soakMinutes,
    duration,
    rateDuration: number('rate-duration', duration, { min: 0.5 }),
    warmup: number('warmup', smoke ? 0 : 5),
    connections: number('connections', smoke ? 10 : 50, { min: 1, integer: true }),
    rateFraction: number('rate-fraction', 0.5, { min: 0.01 }),
    rate: number('rate', undefined, { min: 1 }),
    rateTool: raw['rate-tool'] ?? 'open',
    rounds: number('rounds', smoke ? 1 : 3, { min: 1, integer: true }),
    targets: list(
      'targets',
      ALL_TARGETS,
      soakMinutes !== undefined ? ['service'] : smoke ? ['baseline', 'service'] : ALL_TARGETS,
    ),
    scenarios: list('scenarios', ALL_SCENARIOS, ALL_SCENARIOS),
    hot: number('hot', smoke ? 100 : 5_000, { min: 1, integer: true }),
    pageSize: number('page-size', smoke ? 10 : 100, { min: 1, integer: true }),
    deepPage: number('deep-page', smoke ? 20 : 2_000, { min: 2, integer: true }),
    profile: Boolean(raw.profile),
    build: Boolean(raw.build),
    dist: raw.dist ?? 'dist',
    reseed: Boolean(raw.reseed),
    keep: Boolean(raw.keep),
  };
  if (options.pageSize > 500) throw usage('--page-size must be at most 500');
  if (!['open', 'autocannon'].includes(options.rateTool)) {
    throw usage('--rate-tool must be open or autocannon');
  }
  return options;
}

function usage(message) {
  return Object.assign(new Error(`${message}\n\n${HELP}`), { usage: true });
}

module.exports = { parseOptions, HELP, ALL_TARGETS, ALL_SCENARIOS };
