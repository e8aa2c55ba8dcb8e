import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How long a start, a restart or a failover may take before the helper gives up. */
const START_TIMEOUT_MS = 30_000;

/**
 * Kills every process of the group and removes its directory once the test process is gone,
 * however it ended: Jest gives each test file its own `process`, whose 'exit' event never fires.
 * The processes are found by their command line, which names the group's unique temporary
 * directory (the servers run with `--set-proc-title no`, so that Redis keeps its arguments there),
 * or by their environment (`guardEnv`: the service instances a spec runs against the group). The
 * watchdog ends by itself once stop() has removed the directory.
 */
const WATCHDOG = `
const fs = require('node:fs');
const [parent, dir] = [Number(process.argv[1]), process.argv[2]];
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const members = () => fs.readdirSync('/proc').filter((name) => /^\\d+$/.test(name)).map(Number)
  .filter((pid) => pid !== process.pid && (() => {
    try {
      return ['cmdline', 'environ'].some((file) =>
        fs.readFileSync('/proc/' + pid + '/' + file, 'utf8').includes(dir));
    } catch { return false; }
  })());
const killAll = () => { for (const pid of members()) { try { process.kill(pid, 'SIGKILL'); } catch {} } };
const timer = setInterval(() => {
  if (!fs.existsSync(dir)) process.exit(0);
  if (alive(parent)) return;
  clearInterval(timer);
  killAll();
  setTimeout(() => { killAll(); fs.rmSync(dir, { recursive: true, force: true }); process.exit(0); }, 1000);
}, 250);
`;

function guard(dir: string): void {
  const watchdog = spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), dir], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
}

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (listening) {
    server.close();
    await once(server, 'close');
  }
  return listening;
}

/**
 * A free loopback port whose cluster bus port (port + 10000) is free as well; with `bus: false`
 * any free port.
 */
async function freePort(taken: Set<number>, { bus = true } = {}): Promise<number> {
  for (;;) {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    server.close();
    await once(server, 'close');
    if (taken.has(port) || (bus && (port > 55_535 || !(await isFree(port + 10_000))))) continue;
    taken.add(port);
    if (bus) taken.add(port + 10_000);
    return port;
  }
}

/** One command through redis-cli; its reply as text. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 2_000,
  });
  return stdout;
}

/** Fields of an INFO section or of CLUSTER INFO (`name:value` lines). */
function fields(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) result[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return result;
}

/** CRC16/XMODEM, which Redis Cluster maps keys to slots with. */
function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}

/** The slot of a key, hash tags (`{…}`) included, as CLUSTER KEYSLOT computes it. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(key)) % 16_384;
}

/** One line of CLUSTER NODES. */
export interface ClusterNodeView {
  id: string;
  port: number;
  flags: string[];
  /** The master's id, for a replica. */
  masterId?: string;
  connected: boolean;
  slots: [number, number][];
}

function parseClusterNodes(text: string): ClusterNodeView[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id, address, flags, master, , , , link, ...slots] = line.trim().split(' ');
      return {
        id,
        port: Number(address.split('@')[0].split(':').pop()),
        flags: flags.split(','),
        masterId: master === '-' ? undefined : master,
        connected: link === 'connected',
        slots: slots
          .filter((range) => !range.startsWith('['))
          .map((range) => {
            const [from, to] = range.split('-').map(Number);
            return [from, to ?? from] as [number, number];
          }),
      };
    });
}

interface Server {
  child: ChildProcess;
  exited: Promise<void>;
}

/** The redis-server processes of a group, each in its own directory under the group's. */
class ServerGroup {
  private readonly servers = new Map<number, Server>();

  constructor(readonly dir: string) {}

  isRunning(port: number): boolean {
    return this.servers.has(port);
  }

  get runningPorts(): number[] {
    return [...this.servers.keys()];
  }

  async launch(port: number, args: string[]): Promise<void> {
    const dir = join(this.dir, String(port));
    mkdirSync(dir, { recursive: true });
    const logfile = join(dir, 'redis.log');
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let attempt = 1; ; attempt++) {
      const child = spawn(
        'redis-server',
        [
          ...args,
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--logfile',
          logfile,
          '--daemonize',
          'no',
          '--set-proc-title',
          'no',
        ],
        { stdio: 'ignore', detached: true },
      );
      child.unref();
      const exited = new Promise<void>((resolve) => {
        const gone = () => {
          if (this.servers.get(port)?.child === child) this.servers.delete(port);
          resolve();
        };
        child.once('exit', gone);
        child.once('error', gone);
      });
      this.servers.set(port, { child, exited });
      for (;;) {
        const pong = await redisCli(port, 'PING').then(
          (reply) => reply.trim() === 'PONG',
          () => false,
        );
        if (pong) return;
        if (!this.servers.has(port) || Date.now() > deadline) break;
        await sleep(25);
      }
      await this.kill(port);
      // Binding the same port right after a kill can race the old socket's release: retry.
      const log = this.logTail(port);
      if (!/Address already in use/.test(log) || Date.now() > deadline) {
        throw new Error(`redis-server on port ${port} did not start:\n${log}`);
      }
      await sleep(Math.min(100 * attempt, 500));
    }
  }

  async kill(port: number): Promise<void> {
    const server = this.servers.get(port);
    if (!server) return;
    server.child.kill('SIGKILL');
    await server.exited;
  }

  async stop(): Promise<void> {
    try {
      await Promise.all(this.runningPorts.map((port) => this.kill(port)));
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  logTail(port: number, lines = 15): string {
    try {
      const file = join(this.dir, String(port), 'redis.log');
      return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

export interface RedisClusterOptions {
  /** Masters, which share the 16384 slots; 3 by default. */
  masters?: number;
  /** Replicas per master (0 by default); with 1, a killed master fails over to its replica. */
  replicasPerMaster?: number;
  /** cluster-node-timeout: how long a master may be unreachable before it counts as failed. */
  nodeTimeoutMs?: number;
  /**
   * cluster-require-full-coverage. `no` (the default here) keeps the other masters' slots served
   * while one master is down; Redis's own default, `yes`, stops the whole cluster then.
   */
  requireFullCoverage?: boolean;
}

/**
 * A Redis Cluster of the test's own on loopback: `redis-server --cluster-enabled yes` per node on
 * free ports (and free bus ports, +10000), no persistence (`--save "" --appendonly no`), joined by
 * `redis-cli --cluster create`. kill() is a SIGKILL (its data is gone); restart() starts the node
 * again with its nodes.conf, so it rejoins (as a replica when its replica took over meanwhile).
 *
 * Call `stop()` in an afterAll; if the test process dies first, a watchdog kills the servers and
 * removes the directory within a second.
 */
export class RedisCluster {
  private stopped = false;

  private constructor(
    private readonly group: ServerGroup,
    /** Every node's port; the first `masters` were created as masters. */
    readonly ports: number[],
    readonly masters: number,
    private readonly options: Required<RedisClusterOptions>,
  ) {}

  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const settings: Required<RedisClusterOptions> = {
      masters: options.masters ?? 3,
      replicasPerMaster: options.replicasPerMaster ?? 0,
      nodeTimeoutMs: options.nodeTimeoutMs ?? 2_000,
      requireFullCoverage: options.requireFullCoverage ?? false,
    };
    const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
    guard(dir);
    const taken = new Set<number>();
    const ports: number[] = [];
    const total = settings.masters * (1 + settings.replicasPerMaster);
    for (let i = 0; i < total; i++) ports.push(await freePort(taken));
    const cluster = new RedisCluster(new ServerGroup(dir), ports, settings.masters, settings);
    try {
      await Promise.all(ports.map((port) => cluster.launch(port)));
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...ports.map((port) => `127.0.0.1:${port}`),
          '--cluster-replicas',
          String(settings.replicasPerMaster),
          '--cluster-yes',
        ],
        { timeout: START_TIMEOUT_MS },
      );
      await cluster.waitUntilHealthy();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  /**
   * An environment variable naming the cluster's directory: a process started with it (a service
   * instance, by ServiceProcess.start) is killed with the cluster if the test process dies.
   */
  get guardEnv(): Record<string, string> {
    return { CLUSTER_TEST_GUARD: this.group.dir };
  }

  /** `redis://127.0.0.1:<port>` of one node. */
  url(port: number): string {
    return `redis://127.0.0.1:${port}`;
  }

  /** Every node's URL, comma-separated: the seed list form of REDIS_URL. */
  get seedList(): string {
    return this.ports.map((port) => this.url(port)).join(',');
  }

  isRunning(port: number): boolean {
    return this.group.isRunning(port);
  }

  /** The cluster as one running node sees it. */
  async view(port = this.anyRunningPort()): Promise<ClusterNodeView[]> {
    return parseClusterNodes(await redisCli(port, 'CLUSTER', 'NODES'));
  }

  /** The port of the master that serves the slot, as one running node sees it. */
  async masterOf(slot: number, from = this.anyRunningPort()): Promise<number | undefined> {
    const nodes = await this.view(from);
    return nodes.find(
      (node) =>
        node.flags.includes('master') &&
        !node.flags.includes('fail') &&
        node.slots.some(([low, high]) => slot >= low && slot <= high),
    )?.port;
  }

  /** SIGKILL: the node's data is gone; the cluster notices after cluster-node-timeout. */
  async kill(port: number): Promise<void> {
    await this.group.kill(port);
  }

  /** Starts a killed node again with its nodes.conf; resolves once the cluster is healthy. */
  async restart(port: number): Promise<void> {
    if (this.stopped) throw new Error('RedisCluster.restart() after stop()');
    await this.launch(port);
    await this.waitUntilHealthy();
  }

  /**
   * Resolves once the slot is served by a master other than `formerMaster` and every running
   * node says cluster_state:ok: the failover is done.
   */
  async waitForFailover(slot: number, formerMaster: number): Promise<number> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const owners = await Promise.all(
        this.group.runningPorts.map((port) => this.masterOf(slot, port).catch(() => undefined)),
      );
      const states = await Promise.all(
        this.group.runningPorts.map((port) => this.clusterState(port)),
      );
      const owner = owners[0];
      if (
        owner !== undefined &&
        owner !== formerMaster &&
        owners.every((port) => port === owner) &&
        states.every((state) => state === 'ok')
      ) {
        return owner;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `No failover of slot ${slot} away from ${formerMaster} within ${START_TIMEOUT_MS} ms: owners ${owners.join(', ')}, states ${states.join(', ')}`,
        );
      }
      await sleep(50);
    }
  }

  /**
   * Resolves once every running node says cluster_state:ok, knows every running node as
   * connected, and every replica's link to its master is up.
   */
  async waitUntilHealthy(): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const problem = await this.healthProblem();
      if (!problem) return;
      if (Date.now() > deadline) {
        throw new Error(
          `The Redis Cluster is not healthy within ${START_TIMEOUT_MS} ms: ${problem}`,
        );
      }
      await sleep(100);
    }
  }

  /** Kills every node and removes the directory. Safe to call more than once. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.group.stop();
  }

  logTail(port: number): string {
    return this.group.logTail(port);
  }

  private anyRunningPort(): number {
    const [port] = this.group.runningPorts;
    if (port === undefined) throw new Error('No Redis Cluster node is running');
    return port;
  }

  private async clusterState(port: number): Promise<string> {
    return redisCli(port, 'CLUSTER', 'INFO').then(
      (text) => fields(text).cluster_state ?? 'unknown',
      (error: Error) => `error: ${error.message}`,
    );
  }

  private async healthProblem(): Promise<string> {
    const running = this.group.runningPorts;
    for (const port of running) {
      const state = await this.clusterState(port);
      if (state !== 'ok') return `node ${port}: cluster_state ${state}`;
      const nodes = await this.view(port).catch(() => undefined);
      if (!nodes) return `node ${port}: no CLUSTER NODES`;
      for (const other of running) {
        const seen = nodes.find((node) => node.port === other);
        if (!seen || seen.flags.some((flag) => flag === 'fail' || flag === 'fail?'))
          return `node ${port} does not see ${other} as healthy`;
        if (other !== port && !seen.connected) return `node ${port}: ${other} not connected`;
      }
      const mine = nodes.find((node) => node.flags.includes('myself'));
      if (mine?.flags.includes('slave')) {
        const info = fields(await redisCli(port, 'INFO', 'replication'));
        if (info.master_link_status !== 'up') return `replica ${port}: master link down`;
      }
    }
    const masters = (await this.view()).filter((node) => node.flags.includes('master'));
    const covered = masters.reduce(
      (sum, node) => sum + node.slots.reduce((n, [low, high]) => n + high - low + 1, 0),
      0,
    );
    if (covered !== 16_384) return `only ${covered} slots covered`;
    return '';
  }

  private launch(port: number): Promise<void> {
    return this.group.launch(port, [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(this.group.dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      String(this.options.nodeTimeoutMs),
      '--cluster-require-full-coverage',
      this.options.requireFullCoverage ? 'yes' : 'no',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
  }
}

export interface RedisSentinelsOptions {
  /** Replicas of the master; 1 by default. */
  replicas?: number;
  /** Sentinels watching it; 3 by default (quorum 2). */
  sentinels?: number;
  /** down-after-milliseconds: how long the master may not answer before a failover. */
  downAfterMs?: number;
}

/**
 * A master, its replicas and the Sentinels that watch them (`redis-server --sentinel`), on
 * loopback, without persistence. kill() of the master makes the Sentinels promote a replica.
 */
export class RedisSentinels {
  static readonly MASTER_NAME = 'customers-limiter';

  private constructor(
    private readonly group: ServerGroup,
    /** The data nodes; the first was the master at the start. */
    readonly ports: number[],
    readonly sentinelPorts: number[],
  ) {}

  static async start(options: RedisSentinelsOptions = {}): Promise<RedisSentinels> {
    const dir = mkdtempSync(join(tmpdir(), 'redis-sentinels-'));
    guard(dir);
    const taken = new Set<number>();
    const ports: number[] = [];
    const sentinelPorts: number[] = [];
    for (let i = 0; i <= (options.replicas ?? 1); i++)
      ports.push(await freePort(taken, { bus: false }));
    for (let i = 0; i < (options.sentinels ?? 3); i++)
      sentinelPorts.push(await freePort(taken, { bus: false }));
    const group = new ServerGroup(dir);
    const sentinels = new RedisSentinels(group, ports, sentinelPorts);
    const plain = ['--save', '', '--appendonly', 'no'];
    try {
      const [master, ...replicas] = ports;
      await group.launch(master, plain);
      await Promise.all(
        replicas.map((port) =>
          group.launch(port, [...plain, '--replicaof', '127.0.0.1', String(master)]),
        ),
      );
      const quorum = Math.floor(sentinelPorts.length / 2) + 1;
      await Promise.all(
        sentinelPorts.map((port) => {
          // A Sentinel rewrites its config file, so each gets a file of its own.
          const file = join(dir, `sentinel-${port}.conf`);
          writeFileSync(
            file,
            [
              `sentinel monitor ${RedisSentinels.MASTER_NAME} 127.0.0.1 ${master} ${quorum}`,
              `sentinel down-after-milliseconds ${RedisSentinels.MASTER_NAME} ${options.downAfterMs ?? 1_000}`,
              `sentinel failover-timeout ${RedisSentinels.MASTER_NAME} 5000`,
              `sentinel parallel-syncs ${RedisSentinels.MASTER_NAME} 1`,
              '',
            ].join('\n'),
          );
          return group.launch(port, [file, '--sentinel']);
        }),
      );
      await sentinels.waitUntilWatched(master);
      return sentinels;
    } catch (error) {
      await group.stop();
      throw error;
    }
  }

  /** As RedisCluster.guardEnv. */
  get guardEnv(): Record<string, string> {
    return { CLUSTER_TEST_GUARD: this.group.dir };
  }

  /** REDIS_SENTINELS: `host:port,host:port`. */
  get sentinelList(): string {
    return this.sentinelPorts.map((port) => `127.0.0.1:${port}`).join(',');
  }

  /** The master's port as the first Sentinel that answers sees it. */
  async master(): Promise<number | undefined> {
    for (const port of this.sentinelPorts) {
      const reply = await redisCli(
        port,
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        RedisSentinels.MASTER_NAME,
      ).catch(() => '');
      const [, masterPort] = reply.trim().split('\n');
      if (masterPort) return Number(masterPort);
    }
    return undefined;
  }

  isRunning(port: number): boolean {
    return this.group.isRunning(port);
  }

  async kill(port: number): Promise<void> {
    await this.group.kill(port);
  }

  /** Resolves once every Sentinel names a running master other than `former`, with a replica linked. */
  async waitForFailover(former: number): Promise<number> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const masters = await Promise.all(
        this.sentinelPorts.map((port) =>
          redisCli(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', RedisSentinels.MASTER_NAME)
            .then((reply) => Number(reply.trim().split('\n')[1]))
            .catch(() => NaN),
        ),
      );
      const [candidate] = masters;
      if (
        candidate !== former &&
        masters.every((port) => port === candidate) &&
        this.group.isRunning(candidate)
      ) {
        const role = await redisCli(candidate, 'ROLE').catch(() => '');
        if (role.startsWith('master')) return candidate;
      }
      if (Date.now() > deadline) {
        throw new Error(`No Sentinel failover away from ${former}: ${masters.join(', ')}`);
      }
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    await this.group.stop();
  }

  /** Every Sentinel knows the master and its replicas (so that a failover can happen). */
  private async waitUntilWatched(master: number): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    const replicas = this.ports.length - 1;
    for (;;) {
      const ready = await Promise.all(
        this.sentinelPorts.map(async (port) => {
          const info = await redisCli(port, 'INFO', 'sentinel').catch(() => '');
          const line = fields(info).master0 ?? '';
          return (
            line.includes(`address=127.0.0.1:${master}`) &&
            line.includes('status=ok') &&
            line.includes(`slaves=${replicas}`) &&
            line.includes(`sentinels=${this.sentinelPorts.length}`)
          );
        }),
      );
      if (ready.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error('The Sentinels did not all see the master');
      await sleep(100);
    }
  }
}
