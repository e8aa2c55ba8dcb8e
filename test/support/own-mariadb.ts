import { ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import * as mysql from 'mysql2/promise';
import { TestDatabase } from './databases';

const run = promisify(execFile);

/** How long a (re)start may take before the test gives up on the server. */
const START_TIMEOUT_MS = 60_000;

/** Whether `mariadbd` and `mariadb-install-db` are on PATH, so fault tests can run a server. */
export function isMariaDbInstalled(): boolean {
  return ['mariadbd', 'mariadb-install-db'].every((command) => onPath(command));
}

/** A free loopback port: bind port 0, read what the kernel chose, release it. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Kills the server (and removes its directory) once the test process is gone, however it ended.
 * A process 'exit' handler cannot do it here: Jest gives each test file its own copy of `process`,
 * whose 'exit' event never fires, and a Jest killed by a CI timeout runs no handler at all.
 */
const WATCHDOG = `
const [parent, child, dir] = process.argv.slice(1).map((v, i) => (i < 2 ? Number(v) : v));
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const timer = setInterval(() => {
  if (!alive(child)) process.exit(0);
  if (alive(parent)) return;
  clearInterval(timer);
  try { process.kill(child, 'SIGKILL'); } catch {}
  setTimeout(() => { require('node:fs').rmSync(dir, { recursive: true, force: true }); process.exit(0); }, 1000);
}, 250);
`;

function watch(child: ChildProcess, dir: string): void {
  const watchdog = spawn(
    process.execPath,
    ['-e', WATCHDOG, String(process.pid), String(child.pid), dir],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
}

/**
 * A MariaDB server of the test's own (never the shared one on 3306), so that it can be paused,
 * killed and started again: `mariadbd --no-defaults` on a free loopback port, with a data dir
 * made by `mariadb-install-db` in a temporary directory, and root with an empty password.
 */
export class OwnMariaDb {
  private process?: ChildProcess;
  private exited?: Promise<void>;
  private removed = false;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  /** Creates the data dir and starts the server; resolves once it answers a query. */
  static async create(): Promise<OwnMariaDb> {
    const dir = mkdtempSync(join(tmpdir(), 'own-mariadb-'));
    const server = new OwnMariaDb(await freePort(), dir);
    try {
      await run(
        'mariadb-install-db',
        [
          '--no-defaults',
          `--datadir=${server.dataDir}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          ...server.userArgs,
          ...server.sizeArgs,
        ],
        { timeout: START_TIMEOUT_MS },
      );
      await server.start();
      return server;
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /** The server's URL (no database): `mysql://root@127.0.0.1:<port>/`. */
  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/`;
  }

  get running(): boolean {
    return this.process !== undefined;
  }

  /** A database of its own on this server (utf8mb4_unicode_ci, as databases.ts makes them). */
  async createDatabase(): Promise<TestDatabase & { name: string }> {
    const name = `customers_fault_${randomBytes(6).toString('hex')}`;
    await this.query(
      `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
    return {
      kind: 'mariadb',
      name,
      url: `${this.url}${name}`,
      // The whole data dir goes with stop(); dropping matters only while the server still runs.
      drop: async () => {
        if (this.running) await this.query(`DROP DATABASE IF EXISTS \`${name}\``);
      },
    };
  }

  /** One statement on a connection of its own, closed afterwards. */
  async query<T = unknown>(sql: string, values: unknown[] = []): Promise<T> {
    const connection = await mysql.createConnection({ uri: this.url, connectTimeout: 5_000 });
    try {
      const [rows] = await connection.query(sql, values);
      return rows as T;
    } finally {
      await connection.end();
    }
  }

  /** Starts mariadbd (again, on the same port and data dir) and waits until it answers a query. */
  async start(): Promise<void> {
    if (this.removed) throw new Error('The server was stopped and its data dir removed');
    if (this.process) throw new Error('The server is already running');
    const child = spawn(
      'mariadbd',
      [
        '--no-defaults',
        ...this.userArgs,
        `--datadir=${this.dataDir}`,
        `--socket=${join(this.dir, 'mariadbd.sock')}`,
        `--pid-file=${join(this.dir, 'mariadbd.pid')}`,
        `--log-error=${this.errorLog}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        ...this.sizeArgs,
      ],
      { stdio: 'ignore' },
    );
    this.process = child;
    if (child.pid !== undefined) watch(child, this.dir);
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        if (this.process === child) this.process = undefined;
        resolve();
      });
      child.once('error', () => {
        if (this.process === child) this.process = undefined;
        resolve();
      });
    });
    await this.waitUntilReady(child);
  }

  /** SIGSTOP: the port stays open and connections stay up, but nothing is answered. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** SIGKILL, as a crash: resolves once the process is gone. start() brings it back. */
  async kill(): Promise<void> {
    const exited = this.exited;
    if (!this.process) return;
    this.process.kill('SIGKILL');
    await exited;
  }

  /** Terminates the server (waiting for it, killing it if it does not stop) and removes its dir. */
  async stop(): Promise<void> {
    const child = this.process;
    if (child) {
      const exited = this.exited;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    this.remove();
  }

  private remove(): void {
    if (!this.removed) rmSync(this.dir, { recursive: true, force: true });
    this.removed = true;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  private get errorLog(): string {
    return join(this.dir, 'mariadbd.err');
  }

  /** mariadbd refuses to run as root unless told to. */
  private get userArgs(): string[] {
    return process.getuid?.() === 0 ? ['--user=root'] : [];
  }

  /** Small buffers and logs, so that it starts (and recovers after SIGKILL) in a second or two. */
  private get sizeArgs(): string[] {
    return ['--innodb-buffer-pool-size=32M', '--innodb-log-file-size=16M'];
  }

  private async waitUntilReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (this.process !== child) {
        throw new Error(`mariadbd exited during start-up:\n${this.errorLogTail()}`);
      }
      try {
        await this.query('SELECT 1');
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          await this.kill();
          throw new Error(
            `mariadbd did not answer within ${START_TIMEOUT_MS} ms (${String(error)}):\n` +
              this.errorLogTail(),
            { cause: error },
          );
        }
        await sleep(100);
      }
    }
  }

  private errorLogTail(): string {
    try {
      return readFileSync(this.errorLog, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no error log)';
    }
  }
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
