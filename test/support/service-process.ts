import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TEST_JWT_SECRET } from './tokens';

const ROOT = resolve(__dirname, '..', '..');
let built = false;

/** Compiles the service into dist/ (once per test file), as `npm run build` does. */
export function buildService(): void {
  if (built) return;
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'pipe',
    },
  );
  built = true;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** The compiled service as a real process (`node dist/src/main.js`) on an SQLite file of its own. */
export class ServiceProcess {
  output = '';
  exitCode?: number | null;
  readonly exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
    readonly port: number,
    private readonly dir: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolveExit) =>
      child.once('exit', (code) => {
        this.exitCode = code;
        resolveExit(code);
      }),
    );
  }

  static async start(env: Record<string, string> = {}): Promise<ServiceProcess> {
    buildService();
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'service-process-'));
    const child = spawn(process.execPath, ['dist/src/main.js'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'production',
        AUTH_JWT_SECRET: TEST_JWT_SECRET,
        DATABASE_URL: `sqlite:${join(dir, 'customers.sqlite')}`,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(child, `http://127.0.0.1:${port}`, port, dir);
    try {
      await service.waitUntilReady();
    } catch (error) {
      await service.stop();
      throw error;
    }
    return service;
  }

  signal(name: NodeJS.Signals): void {
    this.child.kill(name);
  }

  /** Kills the process if it still runs and removes its files. */
  async stop(): Promise<void> {
    if (this.exitCode === undefined) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async waitUntilReady(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) {
        throw new Error(`The service exited (${this.exitCode}):\n${this.output}`);
      }
      const ok = await fetch(`${this.baseUrl}/health/ready`).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((wait) => setTimeout(wait, 100));
    }
    throw new Error(`The service did not become ready:\n${this.output}`);
  }
}
