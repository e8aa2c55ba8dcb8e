'use strict';
// Starting and stopping the servers under test, and what /proc says about a process.
const { execFileSync, spawn } = require('node:child_process');
const { readFileSync, readdirSync } = require('node:fs');
const net = require('node:net');

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node <nodeArgs> <script>` with `env` and waits until GET /health/ready answers 200 (the
 * service listens before its database is connected and migrated; the baseline has no such wait, so
 * its /health/live is enough). The child is node itself (no npm in between), so its pid is the
 * server's for the CPU and memory readings.
 */
async function startServer({ name, script, env, nodeArgs = [], hook = false, log }) {
  const readyPath = name === 'baseline' ? '/health/live' : '/health/ready';
  const port = await freePort();
  const preload = hook ? ['--require', require.resolve('./server-hook')] : [];
  const child = spawn(process.execPath, [...nodeArgs, ...preload, script], {
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: hook ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  // Requests to the preloaded hook (server-hook.js) and their answers, matched by id.
  const pending = new Map();
  let lastId = 0;
  if (hook) {
    child.on('message', (message) => {
      const waiting = pending.get(message?.id);
      if (!waiting) return;
      pending.delete(message.id);
      if (message.error) waiting.reject(new Error(message.error));
      else waiting.resolve(message);
    });
  }
  const ask = (message) => {
    if (!hook) return Promise.resolve(undefined);
    const id = ++lastId;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      child.send({ ...message, id });
    });
  };
  const output = [];
  const keep = (chunk) => {
    output.push(chunk.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited;
  const exit = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) {
      throw new Error(
        `${name} exited (${exited.code ?? exited.signal}) while starting:\n${output.join('')}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer ${readyPath} within 90 s:\n${output.join('')}`);
    }
    const up = await fetch(`${url}${readyPath}`).then(
      (response) => response.ok,
      () => false,
    );
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  log(`${name} listening on ${url} (pid ${child.pid})`);
  return {
    name,
    url,
    pid: child.pid,
    output: () => output.join(''),
    exited: () => exited,
    /** With `hook`: starts the CPU profiler, or stops it and writes the profile to `file`. */
    profiler(command, file) {
      return ask({ type: `profile-${command}`, file });
    },
    /** With `hook`: the server's process.memoryUsage(), in bytes. */
    async memoryUsage() {
      return (await ask({ type: 'memory' }))?.memory;
    },
    async stop() {
      if (exited) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const result = await exit;
      clearTimeout(timer);
      return result;
    },
  };
}

/** User + system CPU time of a process so far, in milliseconds. */
function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of proc(5), counted from the state field (3).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** VmRSS and VmHWM (peak) of a process, in MB. */
function memoryMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/** Samples VmRSS every `everyMs` until stopped; returns the peak seen. */
function sampleRss(pid, everyMs = 250) {
  let peak = memoryMb(pid).rss;
  const timer = setInterval(() => {
    const { rss } = memoryMb(pid);
    if (rss > peak) peak = rss;
  }, everyMs);
  return () => {
    clearInterval(timer);
    const { rss } = memoryMb(pid);
    return Math.max(peak, rss);
  };
}

/** The database server's pid, when it runs on this machine and /proc shows it. */
function databasePid() {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'mariadbd' || comm === 'mysqld') return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  return undefined;
}

module.exports = { startServer, cpuMs, memoryMb, sampleRss, databasePid };
