#!/usr/bin/env node
// The npm registry this project is built against serves only the Linux builds of packages that
// ship one native binary per platform (@swc/core-*, @unrs/resolver-binding-*). `npm install` then
// leaves the other platforms out of package-lock.json, and `npm ci` refuses the lock as out of sync.
// This adds those optional entries back, with the os/cpu that make npm skip them on other machines.
// Run it after every `npm install` that changes the lock: `node scripts/complete-lockfile.js`.
const fs = require('node:fs');
const path = require('node:path');

const lockPath = path.join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));

const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openharmony', 'sunos', 'aix'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'wasm32'];

/** `@swc/core-linux-arm64-musl` → { os: ['linux'], cpu: ['arm64'], libc: ['musl'] }. */
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((part) => OS.includes(part));
  const cpu = parts.find((part) => CPU.includes(part));
  if (!os || !cpu) return undefined;
  const platform = { os: [os], cpu: [cpu] };
  if (os === 'linux' && parts.includes('musl')) platform.libc = ['musl'];
  else if (os === 'linux' && parts.some((part) => part.startsWith('gnu')))
    platform.libc = ['glibc'];
  return platform;
}

/**
 * npm writes an entry's `version` first and its other keys in alphabetical order; entries written
 * in that order are left as they are by the next `npm install`, so the work tree stays clean.
 */
function inNpmOrder(entry) {
  const { version, ...rest } = entry;
  return {
    version,
    ...Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

let added = 0;
for (const [location, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${location ? `${location}/` : ''}node_modules/${name}`;
    if (lock.packages[nested] || lock.packages[`node_modules/${name}`]) continue;
    const platform = platformOf(name);
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    lock.packages[`node_modules/${name}`] = inNpmOrder({
      version,
      ...platform,
      ...(entry.dev ? { dev: true } : {}),
      optional: true,
    });
    added++;
  }
}

lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => a.localeCompare(b, 'en')),
);
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} platform-specific optional entries`);
