import { ChildProcess, execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, posix, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CORE_SCHEMA, load, mergeTag } from 'js-yaml';
import { ENV_KEYS, validateEnvironment } from '../src/config/environment';
import { freePort } from './support/own-mariadb';

/*
 * The container pieces (issue #11 item 4, docs/deploying.md): Dockerfile, .dockerignore,
 * compose.yaml and deploy/haproxy.cfg. Docker cannot run here, so this checks what can be checked
 * without it, reading the files themselves so that a change to them is tested as it is written:
 *
 * - the image's build and runtime, rehearsed: the build stage's context (what its COPY lines bring
 *   in) is copied and built with its own `npm run build`; the runtime stage's files are laid out as
 *   its COPY lines say (the production dependencies only, read-only, owned by root, a writable data
 *   directory of the service user's), and its CMD runs as an unprivileged user with its ENV; its
 *   HEALTHCHECK command passes against it, fails when it stops and when its database is down;
 * - deploy/haproxy.cfg passes `haproxy -c`, and HAProxy running it balances two such instances,
 *   loses no read while one of them stops, and answers in the contract's error shape when none is
 *   left;
 * - compose.yaml parses, sets only variables the service knows (ENV_KEYS), with values it accepts,
 *   requires the secrets, and wires the instances, MariaDB, Redis and HAProxy together with
 *   healthchecks and `depends_on: service_healthy`.
 */

jest.setTimeout(240_000);

const ROOT = resolve(__dirname, '..');
const CI = process.env.CI === 'true';
/** As root, the service runs as `nobody`; any other user is unprivileged already and runs it. */
const AS_ROOT = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };
/** How long the service may take to answer /health/ready 200 on an empty SQLite file. */
const READY_TIMEOUT_MS = 30_000;
const KNOWN_VARIABLES = new Set<string>(ENV_KEYS);
/** Values for the variables compose.yaml requires (`${VAR:?…}`). */
const COMPOSE_VARIABLES: Record<string, string> = {
  AUTH_JWT_SECRET: 'a-deployment-secret-of-32-chars!',
  PAGING_TOKEN_SECRET: 'a-paging-secret-of-32-characters',
  DATABASE_PASSWORD: 'c0mp0sePassw0rd',
};
const TEST_SECRET = 'deploy-e2e-secret-at-least-16-chars';

const run = promisify(execFile);

// --- Dockerfile ------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  name?: string;
  /** The image or stage it is built FROM, build arguments substituted. */
  base: string;
  instructions: Instruction[];
}

/** The instructions of a Dockerfile by stage: continuations joined, comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending: string[] = [];
  let start = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    if (/^\s*#/.test(raw)) return;
    if (pending.length === 0) {
      if (raw.trim() === '') return;
      start = index + 1;
    }
    const continued = /\\\s*$/.test(raw);
    pending.push(raw.replace(/\\\s*$/, '').trim());
    if (continued) return;
    const match = /^(\S+)\s*([\s\S]*)$/.exec(pending.join(' ').trim());
    pending = [];
    if (match)
      instructions.push({ keyword: match[1].toUpperCase(), args: match[2].trim(), line: start });
  });

  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith('--'));
      const base = words[0].replace(
        /\$\{(\w+)\}|\$(\w+)/g,
        (_whole, braced?: string, bare?: string) => globalArgs.get(braced ?? bare ?? '') ?? '',
      );
      stages.push({
        base,
        name: words[1]?.toUpperCase() === 'AS' ? words[2] : undefined,
        instructions: [],
      });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        const [name, value = ''] = instruction.args.split('=');
        globalArgs.set(name.trim(), value.trim());
      }
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return stages;
}

function argsOf(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** The stage and the stages it is built FROM, the first one first. */
function lineage(stages: Stage[], stage: Stage): Stage[] {
  const parent = stages.find((candidate) => candidate.name === stage.base);
  return parent ? [...lineage(stages, parent), stage] : [stage];
}

/** `ENV A=1 B=2` (and the legacy `ENV A 1`) of a stage, in order. */
function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of argsOf(stage, 'ENV')) {
    const legacy = /^(\w+)\s+([^=]*)$/.exec(args);
    if (legacy) {
      env[legacy[1]] = legacy[2].trim();
      continue;
    }
    for (const match of args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) {
      env[match[1]] = match[2].replace(/^(["'])([\s\S]*)\1$/, '$2');
    }
  }
  return env;
}

/** An exec-form (JSON) command as it is, a shell-form one as Docker runs it. */
function commandOf(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : ['/bin/sh', '-c', args];
}

function healthcheckOf(stage: Stage): { options: Record<string, string>; command: string[] } {
  const [args] = argsOf(stage, 'HEALTHCHECK');
  const match = /^((?:--[\w-]+=\S+\s+)*)CMD\s+([\s\S]+)$/.exec(args ?? '');
  if (!match) throw new Error(`the runtime stage has no HEALTHCHECK … CMD …: ${args}`);
  const options = Object.fromEntries(
    [...match[1].matchAll(/--([\w-]+)=(\S+)/g)].map((option) => [option[1], option[2]]),
  );
  return { options, command: commandOf(match[2].trim()) };
}

/** `--from=<stage>` and the source and destination paths of a COPY. */
function copyOf(args: string): { from?: string; sources: string[]; destination: string } {
  const words = args.split(/\s+/);
  const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((word) => !word.startsWith('--'));
  return { from, sources: paths.slice(0, -1), destination: paths[paths.length - 1] };
}

/** Docker durations: 10s, 1m30s, 500ms. */
function durationMs(value: string): number {
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(amount) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit as 'ms'];
  }
  return total;
}

/** Whether .dockerignore keeps the path (relative to the context) out of the build context. */
function dockerIgnores(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = posix.normalize((negated ? raw.slice(1) : raw).replace(/^\/+/, ''));
    const regex = new RegExp(
      '^' +
        pattern
          .split(/(\*\*\/|\*\*|\*|\?)/)
          .map((part) =>
            part === '**/'
              ? '(?:.*/)?'
              : part === '**'
                ? '.*'
                : part === '*'
                  ? '[^/]*'
                  : part === '?'
                    ? '[^/]'
                    : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
          )
          .join('') +
        '(/.*)?$',
    );
    if (regex.test(path)) ignored = !negated;
  }
  return ignored;
}

// --- compose.yaml ----------------------------------------------------------------------------

interface ComposeService {
  build?: unknown;
  image?: string;
  command?: string[] | string;
  environment?: Record<string, unknown> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string; interval?: string; timeout?: string };
  ports?: (string | { target: number; published?: string | number })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  stop_grace_period?: string;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`. */
function interpolate(value: string, variables: Record<string, string | undefined>): string {
  return value.replace(
    /\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}|\$(\w+)/g,
    (whole, braced?: string, operator?: string, argument = '', bare?: string) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare) as string;
      const value = variables[name];
      switch (operator) {
        case ':-':
          return value ? value : argument;
        case '-':
          return value ?? argument;
        case ':?':
        case '?':
          if (value === undefined || (operator === ':?' && value === ''))
            throw new Error(`required variable ${name} is missing a value: ${argument}`);
          return value;
        default:
          return value ?? '';
      }
    },
  );
}

/** Every string of the document interpolated, as `docker compose config` does. */
function interpolateAll<T>(node: T, variables: Record<string, string | undefined>): T {
  if (typeof node === 'string') return interpolate(node, variables) as T;
  if (Array.isArray(node)) return node.map((item: unknown) => interpolateAll(item, variables)) as T;
  if (node && typeof node === 'object')
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) => [key, interpolateAll(value, variables)]),
    ) as T;
  return node;
}

function environmentOf(service: ComposeService): Record<string, string> {
  const environment = service.environment ?? {};
  if (Array.isArray(environment))
    return Object.fromEntries(
      environment.map((entry) => {
        const at = entry.indexOf('=');
        return at < 0 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [
      key,
      // Compose takes scalars only: a string, number, boolean, or null for an empty value.
      value === null || value === undefined ? '' : String(value as string | number | boolean),
    ]),
  );
}

function dependsOn(service: ComposeService): Record<string, string | undefined> {
  const dependencies = service.depends_on ?? {};
  if (Array.isArray(dependencies))
    return Object.fromEntries(dependencies.map((name) => [name, undefined]));
  return Object.fromEntries(
    Object.entries(dependencies).map(([name, options]) => [name, options?.condition]),
  );
}

function healthTest(service: ComposeService): string[] {
  const test = service.healthcheck?.test;
  if (test === undefined) return [];
  return typeof test === 'string' ? ['CMD-SHELL', test] : test;
}

// --- deploy/haproxy.cfg ----------------------------------------------------------------------

/** The configuration's lines by section (`global`, `defaults`, `frontend customers`, …). */
function haproxySections(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    if (/^\S/.test(raw)) {
      current = [];
      sections.set(line, current);
    } else {
      current?.push(line);
    }
  }
  return sections;
}

function section(sections: Map<string, string[]>, kind: string): [string, string[]] {
  const found = [...sections].filter(([name]) => name.split(/\s+/)[0] === kind);
  if (found.length !== 1)
    throw new Error(`deploy/haproxy.cfg has ${found.length} ${kind} sections`);
  return found[0];
}

/** HAProxy's time format: 10s, 1m, 500 (milliseconds), 500ms. */
function haproxyMs(value: string): number {
  const match = /^(\d+)(us|ms|s|m|h|d)?$/.exec(value);
  if (!match) throw new Error(`not an HAProxy time: ${value}`);
  const unit = { us: 0.001, ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(match[1]) * unit[(match[2] ?? 'ms') as 'ms'];
}

// --- the files under test --------------------------------------------------------------------

const readRepoFile = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const stages = parseDockerfile(readRepoFile('Dockerfile'));
const runtime = stages[stages.length - 1];
const runtimeEnv = envOf(runtime);
const dockerignore = readRepoFile('.dockerignore')
  .split(/\r?\n/)
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const compose = load(readRepoFile('compose.yaml'), {
  schema: CORE_SCHEMA.withTags(mergeTag),
}) as ComposeFile;
const services = compose.services ?? {};
/** The service's instances: the services built from the Dockerfile. */
const instances = Object.keys(services).filter((name) => services[name].build !== undefined);
const composed = interpolateAll(compose, COMPOSE_VARIABLES);
const haproxyText = readRepoFile('deploy/haproxy.cfg');
const haproxy = haproxySections(haproxyText);

// --- processes of the test's own -------------------------------------------------------------

/**
 * Kills the process once the test process is gone, however it ended: Jest gives each test file its
 * own `process`, whose 'exit' event never fires, and a Jest killed by a timeout runs no handler.
 * Given a directory instead of a process, removes that directory then (it holds read-only files).
 */
const WATCHDOG = `
const [parent, target] = process.argv.slice(1);
const alive = (pid) => { try { process.kill(Number(pid), 0); return true; } catch { return false; } };
const directory = !/^\\d+$/.test(target);
const timer = setInterval(() => {
  if (!directory && !alive(target)) process.exit(0);
  if (alive(parent)) return;
  clearInterval(timer);
  if (directory) {
    require('node:child_process').spawnSync('chmod', ['-R', 'u+w', target]);
    require('node:fs').rmSync(target, { recursive: true, force: true });
  } else {
    try { process.kill(Number(target), 'SIGKILL'); } catch {}
  }
  process.exit(0);
}, 250);
`;

function watch(target: number | string): void {
  spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), String(target)], {
    detached: true,
    stdio: 'ignore',
  }).unref();
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<Running>();

function onPath(command: string): string | undefined {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .map((dir) => join(dir, command))
    .find((file) => existsSync(file));
}

/** The command as the service user: `nobody` when the test runs as root, else the test's user. */
function asServiceUser(command: string[]): string[] {
  if (!AS_ROOT) return command;
  return [
    'setpriv',
    `--reuid=${NOBODY.uid}`,
    `--regid=${NOBODY.gid}`,
    '--clear-groups',
    '--no-new-privs',
    '--',
    ...command,
  ];
}

function start(command: string[], cwd: string, env: NodeJS.ProcessEnv): Running {
  const child = spawn(command[0], command.slice(1), {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4 * 1024 * 1024);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolveExit) => {
      child.once('exit', (code, signal) => resolveExit({ code, signal }));
      child.once('error', (error) => {
        append(Buffer.from(String(error)));
        resolveExit({ code: -1, signal: null });
      });
    },
  );
  const handle: Running = { child, output: () => output, exited };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  if (child.pid) watch(child.pid);
  return handle;
}

/** SIGTERM, then SIGKILL after the grace period; resolves with how it ended. */
async function stop(target: Running, graceMs = 15_000) {
  if (target.child.exitCode === null && target.child.signalCode === null)
    target.child.kill('SIGTERM');
  // A cancelled timer, so that none is left to keep Jest waiting once the process has ended.
  const timer = new AbortController();
  const ended = await Promise.race([
    target.exited,
    sleep(graceMs, undefined, { signal: timer.signal }).catch(() => undefined),
  ]);
  timer.abort();
  if (ended) return ended;
  target.child.kill('SIGKILL');
  await target.exited;
  return undefined;
}

/** Runs a short command to its end (killed after timeoutMs): its exit code and output. */
async function runToEnd(command: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number) {
  const target = start(command, cwd, env);
  const timer = setTimeout(() => target.child.kill('SIGKILL'), timeoutMs);
  try {
    const { code, signal } = await target.exited;
    return { code, signal, output: target.output() };
  } finally {
    clearTimeout(timer);
  }
}

interface Answer {
  /** 0 when no answer came: then `error` says why. */
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  error?: string;
}

/** A GET that always resolves (errors of node:http are not this realm's Error under Jest). */
function get(url: string, agent?: Agent, timeoutMs = 5_000): Promise<Answer> {
  return new Promise((resolveAnswer) => {
    const reject = (error: { code?: string; message?: string }) =>
      resolveAnswer({ status: 0, headers: {}, body: '', error: `${error.code} ${error.message}` });
    const req = httpRequest(url, { agent: agent ?? false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolveAnswer({ status: res.statusCode ?? 0, headers: res.headers, body }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls until the URL answers 200; fails early, with the output, if the process ends. */
async function waitForReady(target: Running, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (target.child.exitCode !== null || target.child.signalCode !== null)
      throw new Error(`${target.child.spawnfile} exited before it was ready:\n${target.output()}`);
    const answer = await get(url, undefined, 1_000);
    if (answer.status === 200) return;
    last = answer.error ?? `${answer.status} ${answer.body}`;
    await sleep(100);
  }
  throw new Error(
    `${url} was not 200 within ${READY_TIMEOUT_MS} ms (${last}):\n${target.output()}`,
  );
}

// --- the image, rehearsed --------------------------------------------------------------------

/** Where the runtime stage's files are laid out: the image's WORKDIR, read-only. */
interface Layout {
  /** The temporary directory everything is in. */
  root: string;
  /** The runtime stage's WORKDIR. */
  app: string;
  /** The environment of the image: PATH and the runtime stage's ENV. */
  env: NodeJS.ProcessEnv;
}

let layoutPromise: Promise<Layout> | undefined;
let tempRoot: string | undefined;

/** The build stage, rehearsed, then the runtime stage's files: once for the whole file. */
function layout(): Promise<Layout> {
  layoutPromise ??= buildLayout();
  return layoutPromise;
}

async function buildLayout(): Promise<Layout> {
  const root = mkdtempSync(join(tmpdir(), 'deploy-e2e-'));
  tempRoot = root;
  watch(root);
  chmodSync(root, 0o755);

  // The build stage's context: exactly what its COPY lines (and its parents') bring in.
  const build = stages.find((stage) => stage.name === 'build');
  if (!build) throw new Error('the Dockerfile has no stage named build');
  const context = join(root, 'context');
  mkdirSync(context);
  for (const stage of lineage(stages, build))
    for (const args of argsOf(stage, 'COPY')) {
      const copy = copyOf(args);
      if (copy.from) continue;
      for (const source of copy.sources)
        cpSync(join(ROOT, source), join(context, source), { recursive: true });
    }
  // `npm ci` is not rerun here: the installed dependencies stand in for it.
  symlinkSync(join(ROOT, 'node_modules'), join(context, 'node_modules'));
  for (const args of argsOf(build, 'RUN')) {
    const script = /^(?:--\S+\s+)*npm run (\S+)$/.exec(args)?.[1];
    if (script) await run('npm', ['run', '--silent', script], { cwd: context });
  }

  // The production dependencies, as `npm ci --omit=dev` lays them out: the lockfile's non-dev
  // packages, copied (so that they can be made read-only) from the installed ones.
  const lock = JSON.parse(readRepoFile('package-lock.json')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const production = Object.entries(lock.packages)
    .filter(([path, entry]) => /^node_modules\/(@[^/]+\/)?[^/@][^/]*$/.test(path) && !entry.dev)
    .map(([path]) => path)
    .filter((path) => existsSync(join(ROOT, path)));
  const productionModules = join(root, 'production');
  mkdirSync(productionModules);
  await run('cp', ['-a', '--parents', ...production, productionModules], { cwd: ROOT });

  // The runtime stage's WORKDIR, with what its COPY lines put there.
  const [workdir] = argsOf(runtime, 'WORKDIR');
  if (!workdir) throw new Error('the runtime stage has no WORKDIR');
  const app = join(root, 'image', workdir);
  mkdirSync(app, { recursive: true });
  for (const args of argsOf(runtime, 'COPY')) {
    const copy = copyOf(args);
    for (const source of copy.sources) {
      const name = posix.basename(source);
      const from = copy.from
        ? name === 'node_modules'
          ? join(productionModules, 'node_modules')
          : join(context, posix.relative(workdir, posix.resolve(workdir, source)))
        : join(context, source);
      const destination = copy.destination.endsWith('/')
        ? join(app, copy.destination, name)
        : join(app, copy.destination);
      if (from === join(productionModules, 'node_modules')) renameSync(from, destination);
      else await run('cp', ['-a', from, destination]);
    }
  }
  // Read-only for everyone and owned by root (or the test's user), but for the data directory
  // that the runtime stage makes and chowns: the one place the service user may write.
  const data = join(app, 'data');
  mkdirSync(data);
  await run('chmod', ['-R', 'a-w', app]);
  chmodSync(data, 0o755);
  if (AS_ROOT) chownSync(data, NOBODY.uid, NOBODY.gid);
  return {
    root,
    app,
    env: {
      PATH: [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter),
      ...runtimeEnv,
    },
  };
}

/** A new empty directory the service user owns, for one instance's SQLite file. */
function dataDirectory(root: string, name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { mode: 0o755 });
  if (AS_ROOT) chownSync(dir, NOBODY.uid, NOBODY.gid);
  return dir;
}

afterAll(async () => {
  await Promise.all([...running].map((target) => stop(target, 5_000)));
  if (tempRoot) {
    await run('chmod', ['-R', 'u+w', tempRoot]).catch(() => undefined);
    rmSync(tempRoot, { recursive: true, force: true });
  }
});

describe('Dockerfile', () => {
  it('is multi-stage, the runtime stage on Node 24 slim and not on a stage with the toolchain', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(runtime.base).toMatch(/^node:24[.-].*slim/);
    expect(stages.map((stage) => stage.name)).not.toContain(runtime.base);
  });

  it('keeps the native toolchain out of the runtime stage', () => {
    const runs = argsOf(runtime, 'RUN').join('\n');
    expect(runs).not.toMatch(/apt-get install|apk add|build-essential|python|g\+\+|gcc|\bmake\b/);
    // And the stages that have it are the ones that compile: dependencies and build.
    const toolchain = stages.filter((stage) =>
      argsOf(stage, 'RUN').some((args) => /install .*\bg\+\+/.test(args)),
    );
    expect(toolchain.length).toBeGreaterThan(0);
  });

  it('copies into the runtime stage only dist/, the production node_modules and package.json', () => {
    const copies = argsOf(runtime, 'COPY').map(copyOf);
    const destinations = copies
      .flatMap((copy) =>
        copy.sources.map((source) =>
          copy.destination.endsWith('/')
            ? posix.join(copy.destination, posix.basename(source))
            : copy.destination,
        ),
      )
      .map((path) => posix.normalize(path).replace(/^\.\//, '').replace(/\/$/, ''));
    expect(destinations.sort()).toEqual(['dist', 'node_modules', 'package.json']);

    const modules = copies.find((copy) => copy.sources.some((s) => s.endsWith('node_modules')));
    const from = stages.find((stage) => stage.name === modules?.from);
    expect(from).toBeDefined();
    const installs = lineage(stages, from as Stage).flatMap((stage) => argsOf(stage, 'RUN'));
    expect(installs.join('\n')).toMatch(/npm ci\b.*--omit=dev|npm prune\b.*--omit=dev/);
  });

  it('runs as a non-root user, NODE_ENV=production, with the data directory a volume', () => {
    const users = argsOf(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);
    expect(runtimeEnv.NODE_ENV).toBe('production');
    expect(argsOf(runtime, 'WORKDIR')).toEqual(['/app']);
    const volumes = argsOf(runtime, 'VOLUME').flatMap((args) =>
      args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/),
    );
    expect(volumes).toContain('/app/data');
    // The image's default DATABASE_URL (sqlite:./data/customers.sqlite) is that directory.
    expect(runtimeEnv.DATABASE_URL ?? 'sqlite:./data/customers.sqlite').toMatch(
      /^sqlite:\.\/data\//,
    );
    expect(argsOf(runtime, 'RUN').join('\n')).toMatch(/chown\s+\S+\s+\/app\/data/);
  });

  it('sets only variables the service knows, exposes its PORT, and runs node dist/src/main.js', () => {
    expect(Object.keys(runtimeEnv).filter((key) => !KNOWN_VARIABLES.has(key))).toEqual([]);
    expect(() =>
      validateEnvironment({ ...runtimeEnv, AUTH_JWT_SECRET: TEST_SECRET }),
    ).not.toThrow();
    expect(argsOf(runtime, 'EXPOSE')).toEqual([runtimeEnv.PORT ?? '3000']);
    expect(argsOf(runtime, 'CMD').map(commandOf)).toEqual([['node', 'dist/src/main.js']]);
  });

  it('checks health with node, not curl or wget, on /health/ready', () => {
    const { options, command } = healthcheckOf(runtime);
    expect(command[0]).toBe('node');
    expect(command.join(' ')).not.toMatch(/curl|wget/);
    expect(command.join(' ')).toContain('/health/ready');
    expect(durationMs(options.timeout ?? '30s')).toBeLessThanOrEqual(10_000);
  });

  it('has every file it copies from the build context there, and not left out by .dockerignore', () => {
    const sources = stages
      .flatMap((stage) => argsOf(stage, 'COPY').map(copyOf))
      .filter((copy) => !copy.from)
      .flatMap((copy) => copy.sources);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(ROOT, source))).toBe(true);
      expect({ source, ignored: dockerIgnores(dockerignore, posix.normalize(source)) }).toEqual({
        source,
        ignored: false,
      });
    }
  });

  it('keeps dependencies, build output, data, secrets and history out of the build context', () => {
    for (const path of [
      'node_modules',
      'dist',
      'data',
      'data/customers.sqlite',
      'bench/results',
      'coverage',
      '.git',
      '.env',
      'customers.sqlite',
      'src/customers.sqlite',
      'src/.env',
    ])
      expect({ path, ignored: dockerIgnores(dockerignore, path) }).toEqual({ path, ignored: true });
  });
});

describe('the runtime stage, run as an unprivileged user on a read-only copy', () => {
  let image: Layout;
  let port: number;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    if (AS_ROOT && !onPath('setpriv'))
      throw new Error('setpriv (util-linux) is needed to run the service as nobody');
    image = await layout();
    port = await freePort();
    // The container's environment: the image's ENV, then what a deployment sets. HOST stays on
    // loopback here, where the image listens on every interface.
    env = { ...image.env, PORT: String(port), HOST: '127.0.0.1', AUTH_JWT_SECRET: TEST_SECRET };
  });

  it('serves from WORKDIR/data with the default DATABASE_URL; its HEALTHCHECK passes, then fails once it stopped', async () => {
    const data = join(image.app, 'data');
    const service = start(asServiceUser(commandOf(argsOf(runtime, 'CMD')[0])), image.app, env);
    try {
      await waitForReady(service, `http://127.0.0.1:${port}/health/ready`);
      if (AS_ROOT) {
        const status = readFileSync(`/proc/${service.child.pid}/status`, 'utf8');
        expect(status).toMatch(new RegExp(`^Uid:\\s+${NOBODY.uid}\\s`, 'm'));
        expect(statSync(join(data, 'customers.sqlite')).uid).toBe(NOBODY.uid);
      }
      expect(existsSync(join(data, 'customers.sqlite'))).toBe(true);

      const { options, command } = healthcheckOf(runtime);
      const timeoutMs = durationMs(options.timeout ?? '30s');
      const healthy = await runToEnd(asServiceUser(command), image.app, env, timeoutMs);
      expect({ code: healthy.code, output: healthy.output }).toEqual({ code: 0, output: '' });

      // docker stop: SIGTERM, then SIGKILL after compose's stop_grace_period.
      const grace = durationMs(services[instances[0]]?.stop_grace_period ?? '10s');
      expect(await stop(service, grace)).toBeDefined();

      const unhealthy = await runToEnd(asServiceUser(command), image.app, env, timeoutMs);
      expect(unhealthy.code).toBe(1);
    } finally {
      await stop(service, 5_000);
    }
  });

  it('fails its HEALTHCHECK while it listens but its database is unreachable', async () => {
    const deadDatabase = await freePort();
    const servicePort = await freePort();
    const serviceEnv = {
      ...env,
      PORT: String(servicePort),
      DATABASE_URL: `mysql://nobody:nothing@127.0.0.1:${deadDatabase}/customers`,
    };
    const service = start(
      asServiceUser(commandOf(argsOf(runtime, 'CMD')[0])),
      image.app,
      serviceEnv,
    );
    try {
      await waitForReady(service, `http://127.0.0.1:${servicePort}/health/live`);
      const { options, command } = healthcheckOf(runtime);
      const result = await runToEnd(
        asServiceUser(command),
        image.app,
        serviceEnv,
        durationMs(options.timeout ?? '30s'),
      );
      expect(result.code).toBe(1);
    } finally {
      await stop(service, 5_000);
    }
  });

  it('refuses to start without AUTH_JWT_SECRET or AUTH_JWKS_URI, naming them', async () => {
    const data = dataDirectory(image.root, 'data-refused');
    const { AUTH_JWT_SECRET: _secret, ...withoutKeys } = env;
    const result = await runToEnd(
      asServiceUser(commandOf(argsOf(runtime, 'CMD')[0])),
      image.app,
      { ...withoutKeys, DATABASE_URL: `sqlite:${join(data, 'customers.sqlite')}` },
      20_000,
    );
    expect(result.signal).toBeNull();
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(/AUTH_JWT_SECRET/);
    expect(result.output).toMatch(/AUTH_JWKS_URI/);
  });
});

// --- HAProxy ---------------------------------------------------------------------------------

const HAPROXY = onPath('haproxy');
const describeHaproxy = HAPROXY || CI ? describe : describe.skip;
if (!HAPROXY) {
  const line = '!'.repeat(100);
  console.warn(
    `\n${line}\nhaproxy is not installed (apt-get install haproxy): ` +
      `${CI ? 'FAILING, CI=true' : 'SKIPPING the deploy/haproxy.cfg checks'}.\n${line}\n`,
  );
}

describe('deploy/haproxy.cfg', () => {
  const [, defaults] = section(haproxy, 'defaults');
  const [, backend] = section(haproxy, 'backend');
  const [, frontend] = section(haproxy, 'frontend');
  const timeout = (name: string) => {
    const line = defaults.find((entry) => entry.startsWith(`timeout ${name} `));
    return line ? haproxyMs(line.split(/\s+/)[2]) : undefined;
  };

  it('balances round-robin over every instance in compose.yaml, checking /health/ready', () => {
    expect(backend).toContain('balance roundrobin');
    expect(backend).toContain('option httpchk GET /health/ready');
    const servers = backend
      .filter((line) => line.startsWith('server '))
      .map((line) => line.split(/\s+/).slice(1, 3));
    const port = runtimeEnv.PORT ?? '3000';
    expect(servers).toEqual(instances.map((name) => [name, `${name}:${port}`]));
    const checked = (line: string) => /(^|\s)check(\s|$)/.test(line);
    expect(
      backend.some((line) => line.startsWith('default-server') && checked(line)) ||
        backend.filter((line) => line.startsWith('server ')).every(checked),
    ).toBe(true);
  });

  it('waits longer for clients and instances than the service waits for a slow body', () => {
    const bodyTimeout = 10_000; // HTTP_BODY_TIMEOUT_MS's default: the service then answers 408
    expect(timeout('client')).toBeGreaterThanOrEqual(Math.max(15_000, bodyTimeout + 1));
    expect(timeout('server')).toBeGreaterThanOrEqual(Math.max(15_000, bodyTimeout + 1));
    expect(timeout('connect')).toBeDefined();
    expect(defaults).toContain('option http-server-close');
    expect(defaults.some((line) => line.startsWith('option redispatch'))).toBe(true);
  });

  it('listens on the port compose.yaml publishes', () => {
    const bind = frontend.find((line) => line.startsWith('bind '));
    const port = /:(\d+)$/.exec(bind?.split(/\s+/)[1] ?? '')?.[1];
    const published = (composed.services.haproxy?.ports ?? []).map((entry) =>
      typeof entry === 'string' ? entry.split(':').pop() : String(entry.target),
    );
    expect(published).toContain(port);
  });

  describeHaproxy('with haproxy', () => {
    it('is installed (CI installs the Debian package haproxy)', () => {
      expect(HAPROXY).toBeDefined();
    });

    it('passes haproxy -c, warning only that the compose service names do not resolve here', async () => {
      const result = await run('haproxy', ['-c', '-f', join(ROOT, 'deploy/haproxy.cfg')]).then(
        ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
        (error: { code?: number; stdout?: string; stderr?: string }) => ({
          code: error.code ?? -1,
          output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
        }),
      );
      expect(result).toEqual({
        code: 0,
        output: expect.stringContaining('Configuration file is valid'),
      });
      const warnings = result.output
        .split('\n')
        .filter((line) => /\[(WARNING|ALERT)\]/.test(line))
        .filter((line) => !/could not resolve address '[\w-]+', disabling server/.test(line));
      expect(warnings).toEqual([]);
    });

    describe('running in front of two instances', () => {
      let proxy: Running;
      let proxyUrl: string;
      const members: Running[] = [];

      beforeAll(async () => {
        const image = await layout();
        const ports = await Promise.all(instances.map(() => freePort()));
        instances.forEach((name, index) => {
          const data = dataDirectory(image.root, `data-${name}`);
          members.push(
            start(asServiceUser(commandOf(argsOf(runtime, 'CMD')[0])), image.app, {
              ...image.env,
              PORT: String(ports[index]),
              HOST: '127.0.0.1',
              AUTH_JWT_SECRET: TEST_SECRET,
              DATABASE_URL: `sqlite:${join(data, 'customers.sqlite')}`,
              LOG_LEVEL: 'warn',
            }),
          );
        });
        await Promise.all(
          members.map((member, index) =>
            waitForReady(member, `http://127.0.0.1:${ports[index]}/health/ready`),
          ),
        );

        // The configuration as it is, but for the addresses: loopback ports instead of the compose
        // network's names.
        const proxyPort = await freePort();
        let replaced = 0;
        const text = haproxyText
          .replace(/^(\s*bind\s+)\S+/m, (_whole, prefix: string) => {
            replaced++;
            return `${prefix}127.0.0.1:${proxyPort}`;
          })
          .replace(/^(\s*server\s+(\S+)\s+)\S+/gm, (whole, prefix: string, name: string) => {
            const index = instances.indexOf(name);
            if (index < 0) return whole;
            replaced++;
            return `${prefix}127.0.0.1:${ports[index]}`;
          });
        expect(replaced).toBe(1 + instances.length);
        const cfg = join(image.root, 'haproxy.cfg');
        writeFileSync(cfg, text);
        proxy = start(['haproxy', '-db', '-f', cfg], image.root, { PATH: process.env.PATH });
        proxyUrl = `http://127.0.0.1:${proxyPort}`;
        await waitForReady(proxy, `${proxyUrl}/health/ready`);
      });

      afterAll(async () => {
        await Promise.all([...members, proxy].filter(Boolean).map((p) => stop(p, 5_000)));
      });

      const notRequestLog = (line: string) =>
        line.trim() !== '' && !/ \S+\/\S+ (-?\d+\/){4}-?\d+ \d{3} /.test(line);

      /** The servers of the requests HAProxy logged since the offset of its output. */
      const servedBy = (offset: number) =>
        [
          ...proxy
            .output()
            .slice(offset)
            .matchAll(/ \S+\/(\S+) -?\d+\/-?\d+\/-?\d+\/-?\d+\/-?\d+ (\d{3}) /g),
        ].map((match) => ({ server: match[1], status: Number(match[2]) }));

      it('takes turns between the instances', async () => {
        const offset = proxy.output().length;
        const agent = new Agent({ keepAlive: true });
        try {
          for (let i = 0; i < 10; i++)
            expect((await get(`${proxyUrl}/health/live`, agent)).status).toBe(200);
        } finally {
          agent.destroy();
        }
        await sleep(200);
        const servers = servedBy(offset).map((entry) => entry.server);
        for (const name of instances)
          expect(servers.filter((server) => server === name).length).toBeGreaterThanOrEqual(4);
      });

      it('loses no read while an instance stops', async () => {
        const agent = new Agent({ keepAlive: true });
        const failures: string[] = [];
        let answered = 0;
        let stopping = true;
        const client = async () => {
          while (stopping) {
            const answer = await get(`${proxyUrl}/health/live`, agent);
            if (answer.status !== 200)
              failures.push(`${Date.now()}: ${answer.error ?? `${answer.status} ${answer.body}`}`);
            else answered++;
          }
        };
        const clients = Promise.all([client(), client(), client(), client()]);
        try {
          await sleep(300);
          const ended = await stop(members[0], 15_000);
          expect(ended).toBeDefined();
          // Until HAProxy's checks have marked it down (fall 2 × inter 2 s), and beyond.
          await sleep(5_000);
        } finally {
          stopping = false;
          await clients;
          agent.destroy();
        }
        // On a failure, what HAProxy said besides its request lines tells what happened.
        const events =
          failures.length === 0 ? [] : proxy.output().split('\n').filter(notRequestLog);
        expect({ failures, events }).toEqual({ failures: [], events: [] });
        expect(answered).toBeGreaterThan(20);
        expect(proxy.output()).toMatch(new RegExp(`${instances[0]} is DOWN`));
      });

      it("answers in the contract's error shape, with Retry-After, when no instance is left", async () => {
        await stop(members[1], 15_000);
        const deadline = Date.now() + 10_000;
        while (!proxy.output().includes(`${instances[1]} is DOWN`) && Date.now() < deadline)
          await sleep(100);
        const answer = await get(`${proxyUrl}/v1/customers`);
        expect(answer.status).toBe(503);
        expect(answer.headers['content-type']).toBe('application/json');
        expect(answer.headers['retry-after']).toBe('5');
        expect(JSON.parse(answer.body)).toEqual({
          code: 503,
          description: expect.any(String),
          data: [],
          source: 'CustomerService',
        });
      });
    });
  });
});

// --- compose.yaml ----------------------------------------------------------------------------

describe('compose.yaml', () => {
  it('runs two instances of the image, HAProxy, MariaDB and Redis', () => {
    expect(instances.length).toBeGreaterThanOrEqual(2);
    for (const name of ['haproxy', 'mariadb', 'redis']) expect(services[name]).toBeDefined();
    expect(services.haproxy.image).toMatch(/^haproxy:/);
    expect(services.mariadb.image).toMatch(/^mariadb:/);
    expect(services.redis.image).toMatch(/^(redis|valkey\/valkey):/);
    for (const name of instances) {
      expect(services[name].build).toEqual(services[instances[0]].build);
      expect(services[name].image).toEqual(services[instances[0]].image);
    }
  });

  it('sets only variables the service knows on the instances, with values it accepts', () => {
    for (const name of instances) {
      const environment = environmentOf(services[name]);
      expect({
        name,
        unknown: Object.keys(environment).filter((key) => !KNOWN_VARIABLES.has(key)),
      }).toEqual({
        name,
        unknown: [],
      });
      const container = { ...runtimeEnv, ...environmentOf(composed.services[name]) };
      expect(() => validateEnvironment(container)).not.toThrow();
      expect(container.NODE_ENV).toBe('production');
    }
  });

  it('requires AUTH_JWT_SECRET, PAGING_TOKEN_SECRET and the database password to be given', () => {
    for (const missing of Object.keys(COMPOSE_VARIABLES)) {
      const { [missing]: _left, ...others } = COMPOSE_VARIABLES;
      expect(() => interpolateAll(compose, others)).toThrow(new RegExp(`variable ${missing} `));
    }
    // An empty value counts as missing (`:?`), the service's own rule for its variables.
    expect(() => interpolateAll(compose, { ...COMPOSE_VARIABLES, AUTH_JWT_SECRET: '' })).toThrow();
    for (const name of instances) {
      const environment = environmentOf(composed.services[name]);
      expect(environment.AUTH_JWT_SECRET).toBe(COMPOSE_VARIABLES.AUTH_JWT_SECRET);
      expect(environment.PAGING_TOKEN_SECRET).toBe(COMPOSE_VARIABLES.PAGING_TOKEN_SECRET);
    }
  });

  it('points every instance at the MariaDB and Redis services', () => {
    const mariadb = environmentOf(composed.services.mariadb);
    for (const name of instances) {
      const environment = environmentOf(composed.services[name]);
      const database = new URL(environment.DATABASE_URL);
      expect({
        protocol: database.protocol,
        host: database.hostname,
        port: database.port || '3306',
        database: database.pathname,
        user: decodeURIComponent(database.username),
        password: decodeURIComponent(database.password),
      }).toEqual({
        protocol: 'mysql:',
        host: 'mariadb',
        port: '3306',
        database: `/${mariadb.MARIADB_DATABASE}`,
        user: mariadb.MARIADB_USER,
        password: mariadb.MARIADB_PASSWORD,
      });
      expect(new URL(environment.REDIS_URL).hostname).toBe('redis');
    }
  });

  it('starts the instances on a healthy MariaDB and Redis, and HAProxy on healthy instances', () => {
    for (const name of instances)
      expect(dependsOn(services[name])).toEqual({
        mariadb: 'service_healthy',
        redis: 'service_healthy',
      });
    expect(dependsOn(services.haproxy)).toEqual(
      Object.fromEntries(instances.map((name) => [name, 'service_healthy'])),
    );
  });

  it("health-checks every dependency: MariaDB's healthcheck.sh, redis-cli ping, the image's HEALTHCHECK", () => {
    expect(healthTest(services.mariadb).join(' ')).toMatch(
      /healthcheck\.sh --connect --innodb_initialized|mariadb-admin ping/,
    );
    expect(healthTest(services.redis).join(' ')).toMatch(/redis-cli( -\S+ \S+)* ping/);
    const image = healthcheckOf(runtime).command;
    for (const name of instances) {
      const test = healthTest(services[name]);
      // No healthcheck here means the image's; one given must be the same command.
      if (test.length > 0) expect(test).toEqual(['CMD', ...image]);
    }
  });

  it("serves the instances' metrics on a port of their own, out of HAProxy's reach", () => {
    for (const name of instances) {
      const environment = { ...runtimeEnv, ...environmentOf(composed.services[name]) };
      expect(environment.METRICS_PORT).toMatch(/^\d+$/);
      expect(environment.METRICS_PORT).not.toBe(environment.PORT ?? '3000');
    }
  });

  it('publishes only HAProxy, with the configuration from deploy/', () => {
    for (const name of instances) expect(services[name].ports ?? []).toEqual([]);
    const ports = (composed.services.haproxy.ports ?? []).map((entry) =>
      typeof entry === 'string' ? entry : `${entry.published}:${entry.target}`,
    );
    expect(ports).toHaveLength(1);
    expect(ports[0]).toMatch(/^(\d+\.\d+\.\d+\.\d+:)?\d+:\d+$/);
    const mounts = (services.haproxy.volumes ?? []).map((entry) =>
      typeof entry === 'string' ? entry.split(':').slice(0, 2) : [entry.source, entry.target],
    );
    expect(mounts).toContainEqual(['./deploy/haproxy.cfg', '/usr/local/etc/haproxy/haproxy.cfg']);
  });

  it('keeps MariaDB on a named volume', () => {
    const mounts = (services.mariadb.volumes ?? []).map((entry) =>
      typeof entry === 'string' ? entry.split(':').slice(0, 2) : [entry.source, entry.target],
    );
    const data = mounts.find(([, target]) => target === '/var/lib/mysql');
    expect(data).toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.[0]);
  });

  it('gives the instances more time to stop than their drain may take', () => {
    for (const name of instances) {
      const environment = { ...runtimeEnv, ...environmentOf(composed.services[name]) };
      const drain = Number(environment.SHUTDOWN_TIMEOUT_MS ?? 10_000);
      expect(durationMs(services[name].stop_grace_period ?? '10s')).toBeGreaterThan(drain);
    }
  });
});

describe('docs/deploying.md', () => {
  it('says what every variable the service knows does', () => {
    const guide = readRepoFile('docs/deploying.md');
    expect(ENV_KEYS.filter((key) => !guide.includes(`\`${key}\``))).toEqual([]);
  });
});
