import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a start or restart may take before it counts as failed. */
const START_TIMEOUT_MS = 10_000;

/**
 * Runs the command in place of a shell (`exec`, so the child's pid is the command's own and SIGSTOP,
 * SIGCONT and SIGKILL reach it), with a watcher beside it: when the test process dies without
 * cleaning up (killed, crashed, a Jest worker torn down), the watcher kills the server and removes
 * its directory. The watcher ends by itself when the server ends first.
 */
const GUARDED_EXEC = `
owner="$1"; dir="$2"; shift 2
(
  while kill -0 "$owner" 2>/dev/null && kill -0 $$ 2>/dev/null; do sleep 0.5; done
  if ! kill -0 "$owner" 2>/dev/null; then
    kill -CONT $$ 2>/dev/null; kill -KILL $$ 2>/dev/null; rm -rf "$dir"
  fi
) </dev/null >/dev/null 2>&1 &
exec "$@"
`;

export type OwnRedisState = 'running' | 'paused' | 'killed' | 'stopped';

/**
 * A redis-server of the spec's own, for fault tests that must never touch the shared Redis
 * (STYLE.md, "Fault tests own their servers"): a free loopback port, a temporary directory, no
 * persistence (`--save "" --appendonly no`), so a restart comes back empty on the same port.
 *
 * Call `stop()` in an afterAll. A server left running anyway (a forgotten stop(), a crashed or
 * killed test process) is killed within a second of the test process's end by its watcher: Jest
 * gives specs a sandboxed `process`, so an 'exit' hook would not run.
 */
export class OwnRedis {
  private process?: ChildProcess;
  private exited?: Promise<unknown>;
  private paused = false;
  private stopped = false;

  private constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  /** Starts a server on a free port; throws (leaving nothing behind) when it does not come up. */
  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort(), mkdtempSync(join(tmpdir(), 'own-redis-')));
    try {
      await redis.launch();
    } catch (error) {
      await redis.stop();
      throw error;
    }
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get state(): OwnRedisState {
    if (this.stopped) return 'stopped';
    if (!this.process) return 'killed';
    return this.paused ? 'paused' : 'running';
  }

  /** SIGSTOP: connections stay open but nothing is answered, the failure a timeout must cover. */
  pause(): void {
    this.signal('SIGSTOP');
    this.paused = true;
  }

  /** SIGCONT: answers again, with its data, including what clients sent while it was stopped. */
  resume(): void {
    this.signal('SIGCONT');
    this.paused = false;
  }

  /** SIGKILL, and waits until the process is gone (its port is then closed). Data is lost. */
  async kill(): Promise<void> {
    const child = this.process;
    const exited = this.exited;
    if (!child || !exited) return;
    if (!hasExited(child)) child.kill('SIGKILL');
    await exited;
  }

  /** Kills the server if it still runs and starts a new, empty one on the same port. */
  async restart(): Promise<void> {
    if (this.stopped) throw new Error('OwnRedis.restart() after stop()');
    await this.kill();
    await this.launch();
  }

  /** Kills the server and removes its directory. Safe to call more than once, and after failures. */
  async stop(): Promise<void> {
    this.stopped = true;
    try {
      await this.kill();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** Whether the server answers PING within the time (false while it is paused or killed). */
  async answers(timeoutMs = 500): Promise<boolean> {
    return ping(this.port, timeoutMs);
  }

  private signal(signal: NodeJS.Signals): void {
    const child = this.process;
    if (!child || hasExited(child))
      throw new Error(`OwnRedis: no running redis-server to send ${signal} to`);
    child.kill(signal);
  }

  private async launch(): Promise<void> {
    const logfile = join(this.dir, 'redis.log');
    // Binding the same port right after a kill can race the old socket's release: retry briefly.
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let attempt = 1; ; attempt++) {
      const child = this.spawnServer(logfile);
      const failure = await this.waitUntilAnswering(child, deadline).then(
        () => undefined,
        (error: Error) => error,
      );
      if (!failure) return;
      await this.kill();
      const log = tail(logfile);
      const retry = hasExited(child) && /Address already in use/.test(log);
      if (!retry || Date.now() > deadline)
        throw new Error(
          `redis-server on port ${this.port} did not start: ${failure.message}\n${log}`,
        );
      await sleep(Math.min(100 * attempt, 500));
    }
  }

  private spawnServer(logfile: string): ChildProcess {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--logfile',
      logfile,
      '--daemonize',
      'no',
    ];
    const child = spawn(
      'sh',
      ['-c', GUARDED_EXEC, 'own-redis', String(process.pid), this.dir, 'redis-server', ...args],
      // Its own process group, so that a signal to the test run's group (Ctrl-C) reaches the
      // watcher's cleanup rather than the server alone; unref'd, so that a forgotten stop() does
      // not keep Jest from exiting (the watcher then kills the server).
      { stdio: 'ignore', detached: true },
    );
    child.unref();
    this.process = child;
    this.paused = false;
    this.exited = new Promise((resolve) => {
      child.once('exit', resolve);
      // A spawn failure emits 'error' (and possibly no 'exit').
      child.once('error', resolve);
    }).then(() => {
      if (this.process === child) this.process = undefined;
    });
    return child;
  }

  private async waitUntilAnswering(child: ChildProcess, deadline: number): Promise<void> {
    while (!(await ping(this.port, 250))) {
      if (hasExited(child)) throw new Error(`exited (${child.exitCode ?? child.signalCode})`);
      if (Date.now() > deadline) throw new Error(`no PONG within ${START_TIMEOUT_MS} ms`);
      await sleep(25);
    }
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** One RESP PING over a fresh connection. */
function ping(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-10).join('\n');
  } catch {
    return '';
  }
}
