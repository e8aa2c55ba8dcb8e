import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  accessSync,
  chownSync,
  constants,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import * as mysql from 'mysql2/promise';

const run = promisify(execFile);

/** Where Debian's galera-4 package puts the provider (checked by `isGaleraInstalled()`). */
export const GALERA_PROVIDERS = ['/usr/lib/galera/libgalera_smm.so', '/usr/lib/libgalera_smm.so'];

/** How long a node may take to start, or to join and reach Synced, before the cluster gives up. */
const START_TIMEOUT_MS = 90_000;

/**
 * Kills every process of the cluster and removes its directory once the test process is gone,
 * however it ended (a crash, a CI timeout, Ctrl-C): Jest gives each test file its own `process`,
 * whose 'exit' event never fires. The cluster's processes are found by their command line, which
 * names the cluster's unique temporary directory: every mariadbd, and the rsync daemons and
 * wsrep_sst_rsync scripts of a state transfer, whichever node started them and however often a
 * node was restarted; and so are processes whose environment names it (`guardEnv`: the service
 * instances a spec runs against the cluster). The watchdog ends by itself once stop() has removed
 * the directory.
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

/** Whether mariadbd, mariadb-install-db, rsync and the Galera provider are installed. */
export function isGaleraInstalled(): boolean {
  return (
    ['mariadbd', 'mariadb-install-db', 'rsync', 'wsrep_sst_rsync'].every(onPath) &&
    galeraProvider() !== undefined
  );
}

function galeraProvider(): string | undefined {
  return GALERA_PROVIDERS.find((file) => {
    try {
      accessSync(file, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A free loopback port: bind port 0, read what the kernel chose, release it. */
async function freePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    server.close();
    await once(server, 'close');
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

/** What `SHOW STATUS LIKE 'wsrep_%'` says about one node. */
export interface NodeStatus {
  /** wsrep_cluster_size: the members of the node's view. */
  size: number;
  /** wsrep_local_state_comment: Joining, Donor/Desynced, Joined, Synced… */
  state: string;
  /** wsrep_cluster_status: Primary, non-Primary, Disconnected. */
  component: string;
  /** wsrep_ready: ON once the node accepts queries. */
  ready: boolean;
}

export interface GaleraNode {
  /** 0-based. */
  readonly index: number;
  /** The MySQL client port. */
  readonly port: number;
  /** Group communication (what gcomm:// lists; 4567 by default). */
  readonly galeraPort: number;
  /** Incremental state transfer (4568 by default). */
  readonly istPort: number;
  /** The rsync daemon of a full state transfer (4444 by default). */
  readonly sstPort: number;
  readonly dataDir: string;
}

interface RunningNode {
  child: ChildProcess;
  exited: Promise<void>;
}

export interface GaleraClusterOptions {
  /** Nodes in the cluster; 3 by default. */
  nodes?: number;
  /** Extra `wsrep_provider_options` (`evs.suspect_timeout=PT5S;…`), appended to the ports'. */
  providerOptions?: string;
}

/**
 * A MariaDB Galera cluster of the test's own on loopback, from the Debian packages (mariadb-server
 * and galera-4): every node a `mariadbd --no-defaults` on free ports (client, group communication,
 * IST, SST), all in one temporary directory that belongs to the `mysql` user when the test runs as
 * root (the rsync state transfer runs as the server's user and fails on a root-owned data dir).
 * Node 0 bootstraps the cluster (`--wsrep-new-cluster`), the others join it by full state transfer
 * (rsync) and come back after kill() by incremental state transfer. `root` has an empty password
 * over TCP, as `mariadb-install-db --auth-root-authentication-method=normal` makes it.
 *
 * Call `stop()` in an afterAll; if the test process dies first, a watchdog kills the nodes and
 * removes the directory within a second.
 */
export class GaleraCluster {
  readonly nodes: GaleraNode[];
  private readonly running = new Map<number, RunningNode>();
  private stopped = false;

  private constructor(
    readonly dir: string,
    nodes: GaleraNode[],
    private readonly provider: string,
    private readonly extraProviderOptions: string,
    private readonly owner?: { uid: number; gid: number },
  ) {
    this.nodes = nodes;
  }

  /** Creates the data dirs, bootstraps node 0, joins the others; resolves once all are Synced. */
  static async start(options: GaleraClusterOptions = {}): Promise<GaleraCluster> {
    const provider = galeraProvider();
    if (!provider) throw new Error(`No Galera provider at ${GALERA_PROVIDERS.join(' or ')}`);
    const count = options.nodes ?? 3;
    const dir = mkdtempSync(join(tmpdir(), 'galera-cluster-'));
    const owner = process.getuid?.() === 0 ? mysqlUser() : undefined;
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const taken = new Set<number>();
    const nodes: GaleraNode[] = [];
    for (let index = 0; index < count; index++) {
      nodes.push({
        index,
        port: await freePort(taken),
        galeraPort: await freePort(taken),
        istPort: await freePort(taken),
        sstPort: await freePort(taken),
        dataDir: join(dir, `node${index}`, 'data'),
      });
    }
    const cluster = new GaleraCluster(dir, nodes, provider, options.providerOptions ?? '', owner);
    cluster.guard();
    try {
      await cluster.installDataDirs();
      await cluster.launch(0, { bootstrap: true });
      await cluster.waitUntilSynced([0], 1);
      // One joiner at a time: node 0 is the only donor, and a donor serves one transfer at once.
      for (let index = 1; index < count; index++) {
        await cluster.launch(index);
        await cluster.waitUntilSynced(
          nodes.slice(0, index + 1).map((node) => node.index),
          index + 1,
        );
      }
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
    return { CLUSTER_TEST_GUARD: this.dir };
  }

  /** `mysql://root@127.0.0.1:<port>/<database>` of one node. */
  url(index: number, database = ''): string {
    return `mysql://root@127.0.0.1:${this.nodes[index].port}/${database}`;
  }

  isRunning(index: number): boolean {
    return this.running.has(index);
  }

  /**
   * One statement on a fresh connection to the node. With `causal` (the default) the session
   * first sets `wsrep_sync_wait = 1`, so a read sees every write the cluster committed before it
   * (without it, a node may still be applying what another node committed).
   */
  async query<T = unknown>(
    index: number,
    sql: string,
    values: unknown[] = [],
    { causal = true } = {},
  ): Promise<T> {
    const connection = await mysql.createConnection({
      uri: this.url(index),
      connectTimeout: 5_000,
    });
    try {
      if (causal) await connection.query('SET SESSION wsrep_sync_wait = 1');
      const [rows] = await connection.query(sql, values);
      return rows as T;
    } finally {
      await connection.end().catch(() => connection.destroy());
    }
  }

  async status(index: number): Promise<NodeStatus> {
    const rows = await this.query<{ Variable_name: string; Value: string }[]>(
      index,
      "SHOW STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_local_state_comment', " +
        "'wsrep_cluster_status', 'wsrep_ready')",
      [],
      { causal: false },
    );
    const value = (name: string) => rows.find((row) => row.Variable_name === name)?.Value ?? '';
    return {
      size: Number(value('wsrep_cluster_size')),
      state: value('wsrep_local_state_comment'),
      component: value('wsrep_cluster_status'),
      ready: value('wsrep_ready') === 'ON',
    };
  }

  /** SIGKILL, as a crash or a power cut: resolves once the process is gone. */
  async kill(index: number): Promise<void> {
    const node = this.running.get(index);
    if (!node) return;
    node.child.kill('SIGKILL');
    await node.exited;
  }

  /**
   * Starts a killed node again: it recovers its position, rejoins the cluster by incremental state
   * transfer (the others' gcache still holds what it missed) and resolves once it is Synced in a view of every running
   * node.
   */
  async restart(index: number): Promise<void> {
    if (this.stopped) throw new Error('GaleraCluster.restart() after stop()');
    if (this.running.has(index)) throw new Error(`Node ${index} is running`);
    await this.launch(index, { recover: true });
    await this.waitUntilSynced([...this.running.keys()], this.running.size);
  }

  /**
   * Makes a node that lost its quorum (non-Primary, its peers gone) a Primary Component on its own,
   * as an operator does with `pc.bootstrap=YES`; resolves once it is Synced and ready.
   */
  async bootstrap(index: number): Promise<void> {
    // Asked again until it takes: while the node still counts its dead peers as members (until
    // evs.inactive_timeout), the request may be ignored.
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      await this.query(index, "SET GLOBAL wsrep_provider_options = 'pc.bootstrap=YES'", [], {
        causal: false,
      });
      const status = await this.status(index);
      if (status.component === 'Primary') break;
      if (Date.now() > deadline) {
        throw new Error(
          `Galera node ${index} not Primary after pc.bootstrap: ${JSON.stringify(status)}\n${this.errorLogTail(index)}`,
        );
      }
      await sleep(500);
    }
    await this.waitUntilSynced([index], this.running.size);
  }

  /**
   * Resolves once every given node answers, is in a Primary component of `size` members and is
   * Synced. Throws with the nodes' error logs after START_TIMEOUT_MS or when a node exits.
   */
  async waitUntilSynced(indexes: number[], size: number): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    const last = new Map<number, string>();
    for (;;) {
      const pending: number[] = [];
      for (const index of indexes) {
        if (!this.running.has(index)) {
          throw new Error(`Galera node ${index} exited:\n${this.errorLogTail(index)}`);
        }
        const status = await this.status(index).then(
          (value) => value,
          (error: Error) => error,
        );
        if (status instanceof Error) {
          last.set(index, status.message);
          pending.push(index);
        } else if (
          status.size !== size ||
          status.state !== 'Synced' ||
          status.component !== 'Primary' ||
          !status.ready
        ) {
          last.set(index, JSON.stringify(status));
          pending.push(index);
        }
      }
      if (pending.length === 0) return;
      if (Date.now() > deadline) {
        const detail = [...this.running.keys()]
          .map(
            (index) => `node ${index}: ${last.get(index) ?? 'Synced'}\n${this.errorLogTail(index)}`,
          )
          .join('\n\n');
        throw new Error(
          `Galera nodes ${pending.join(', ')} not Synced in a cluster of ${size} within ${START_TIMEOUT_MS} ms:\n${detail}`,
        );
      }
      await sleep(200);
    }
  }

  /** Kills every node and removes the directory. Safe to call more than once, and after failures. */
  async stop(): Promise<void> {
    this.stopped = true;
    try {
      await Promise.all([...this.running.keys()].map((index) => this.kill(index)));
      // GALERA_KEEP_LOGS=<dir>: the nodes' error logs are copied there, to read after a failure.
      const keep = process.env.GALERA_KEEP_LOGS;
      if (keep) {
        mkdirSync(keep, { recursive: true });
        for (const node of this.nodes) {
          try {
            copyFileSync(this.errorLog(node.index), join(keep, `node${node.index}.err`));
          } catch {
            // A node that never started has no log.
          }
        }
      }
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** The last lines of a node's error log, for failure messages. */
  errorLogTail(index: number, lines = 25): string {
    try {
      return readFileSync(this.errorLog(index), 'utf8')
        .split('\n')
        .slice(-lines)
        .map((line) => (line.length > 400 ? `${line.slice(0, 400)}…` : line))
        .join('\n');
    } catch {
      return '(no error log)';
    }
  }

  private guard(): void {
    const watchdog = spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), this.dir], {
      detached: true,
      stdio: 'ignore',
    });
    watchdog.unref();
  }

  private nodeDir(index: number): string {
    return join(this.dir, `node${index}`);
  }

  private errorLog(index: number): string {
    return join(this.nodeDir(index), 'mariadbd.err');
  }

  /** One data dir by mariadb-install-db, copied for the other nodes (their SST replaces it). */
  private async installDataDirs(): Promise<void> {
    const [first, ...others] = this.nodes;
    for (const node of this.nodes) {
      mkdirSync(this.nodeDir(node.index));
      if (this.owner) chownSync(this.nodeDir(node.index), this.owner.uid, this.owner.gid);
    }
    await run(
      'mariadb-install-db',
      [
        '--no-defaults',
        ...this.userArgs,
        `--datadir=${first.dataDir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
      ],
      { timeout: START_TIMEOUT_MS },
    );
    for (const node of others) await run('cp', ['-a', first.dataDir, node.dataDir]);
    if (this.owner) await run('chown', ['-R', `${this.owner.uid}:${this.owner.gid}`, this.dir]);
  }

  private get userArgs(): string[] {
    return this.owner ? ['--user=mysql'] : [];
  }

  /** The server's options, without the error log and the start mode. */
  private serverArgs(index: number): string[] {
    const node = this.nodes[index];
    const dir = this.nodeDir(index);
    const members = this.nodes.map((other) => `127.0.0.1:${other.galeraPort}`).join(',');
    const providerOptions = [
      `gmcast.listen_addr=tcp://127.0.0.1:${node.galeraPort}`,
      `ist.recv_addr=127.0.0.1:${node.istPort}`,
      // Large enough to hold what a killed node misses, so that it rejoins by IST.
      'gcache.size=64M',
      ...(this.extraProviderOptions ? [this.extraProviderOptions] : []),
    ].join(';');
    return [
      '--no-defaults',
      ...this.userArgs,
      `--datadir=${node.dataDir}`,
      `--socket=${join(dir, 'mariadbd.sock')}`,
      `--pid-file=${join(dir, 'mariadbd.pid')}`,
      `--port=${node.port}`,
      '--bind-address=127.0.0.1',
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=64M',
      '--innodb-log-file-size=32M',
      // Durability comes from the other nodes, as usual on Galera; it keeps commits fast here.
      '--innodb-flush-log-at-trx-commit=2',
      '--max-connections=300',
      '--wsrep-on=ON',
      `--wsrep-provider=${this.provider}`,
      '--wsrep-cluster-name=customer-service-test',
      `--wsrep-node-name=node${index}`,
      `--wsrep-node-address=127.0.0.1:${node.galeraPort}`,
      `--wsrep-cluster-address=gcomm://${members}`,
      `--wsrep-provider-options=${providerOptions}`,
      `--wsrep-sst-receive-address=127.0.0.1:${node.sstPort}`,
      '--wsrep-sst-method=rsync',
      '--binlog-format=ROW',
      '--default-storage-engine=InnoDB',
      '--innodb-autoinc-lock-mode=2',
    ];
  }

  /**
   * Where a crashed node's data ends (`<cluster uuid>:<seqno>`), read from InnoDB by
   * `mariadbd --wsrep-recover`, as the packaged `galera_recovery` does before systemd starts a node.
   * Without it a node killed with SIGKILL does not know its position (grastate.dat says seqno -1),
   * and joins by a full state transfer, during which an rsync donor blocks its writers.
   */
  private async recoveredPosition(index: number): Promise<string | undefined> {
    const log = join(this.nodeDir(index), 'wsrep-recover.err');
    rmSync(log, { force: true });
    await run('mariadbd', [...this.serverArgs(index), '--wsrep-recover', `--log-error=${log}`], {
      timeout: START_TIMEOUT_MS,
    }).catch(() => undefined);
    let text: string;
    try {
      text = readFileSync(log, 'utf8');
    } catch {
      return undefined;
    }
    return /Recovered position: ([0-9a-f-]{36}:\d+)/.exec(text)?.[1];
  }

  private async launch(index: number, { bootstrap = false, recover = false } = {}): Promise<void> {
    const position = recover ? await this.recoveredPosition(index) : undefined;
    const args = [
      ...this.serverArgs(index),
      `--log-error=${this.errorLog(index)}`,
      ...(bootstrap ? ['--wsrep-new-cluster'] : []),
      ...(position ? [`--wsrep-start-position=${position}`] : []),
    ];
    const child = spawn('mariadbd', args, { stdio: 'ignore', detached: true });
    child.unref();
    const exited = new Promise<void>((resolve) => {
      const gone = () => {
        if (this.running.get(index)?.child === child) this.running.delete(index);
        resolve();
      };
      child.once('exit', gone);
      child.once('error', gone);
    });
    this.running.set(index, { child, exited });
    await this.waitUntilAnswering(index, child);
  }

  /** A node answers queries (as a joiner, before its state transfer is done, it may not yet). */
  private async waitUntilAnswering(index: number, child: ChildProcess): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (this.running.get(index)?.child !== child) {
        throw new Error(
          `Galera node ${index} exited during start-up:\n${this.errorLogTail(index)}`,
        );
      }
      const answered = await this.query(index, 'SELECT 1', [], { causal: false }).then(
        () => true,
        () => false,
      );
      if (answered) return;
      if (Date.now() > deadline) {
        await this.kill(index);
        throw new Error(
          `Galera node ${index} did not answer within ${START_TIMEOUT_MS} ms:\n${this.errorLogTail(index)}`,
        );
      }
      await sleep(100);
    }
  }
}

function mysqlUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('mysql:'));
  if (!line) throw new Error('Running as root needs a `mysql` user to own the Galera data dirs');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
