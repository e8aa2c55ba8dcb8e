#!/usr/bin/env node
'use strict';
// Summarises .cpuprofile files (from `npm run bench -- --profile` or `node --cpu-prof`): self time
// by function and by package, idle time left out.
//   node bench/profile.js bench/results/profiles/get-by-id-service.cpuprofile [--top 30]
//   node bench/profile.js <file> --callers RuntimeException     (the heaviest call chains into it)
const { readFileSync } = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

/** Where a function lives: our compiled code, a package, Node itself, or V8's bookkeeping. */
function areaOf(url, functionName) {
  if (!url) return `(${functionName || 'native'})`.replace(/^\(\((.*)\)\)$/, '($1)');
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const parts = file.slice(modules + 'node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (file.startsWith('node:')) return 'node';
  const relative = path.relative(ROOT, file);
  if (relative.startsWith('..')) return file;
  return relative.split(path.sep).slice(0, 3).join('/');
}

function shortUrl(url) {
  const file = url.replace(/^file:\/\//, '');
  const modules = file.lastIndexOf('node_modules/');
  if (modules >= 0) return file.slice(modules + 'node_modules/'.length);
  return file.startsWith('/') ? path.relative(ROOT, file) : file;
}

function summarise(file, top) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byFunction = new Map();
  const byArea = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    if (functionName === '(idle)') {
      idle += micros;
      continue;
    }
    total += micros;
    const key = url
      ? `${functionName || '(anonymous)'}  ${shortUrl(url)}:${lineNumber + 1}`
      : functionName || '(native)';
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + micros);
  }
  const percent = (micros) => `${((micros / total) * 100).toFixed(1).padStart(5)} %`;
  const lines = [
    `${path.basename(file)}: ${(total / 1000).toFixed(0)} ms busy, ${(idle / 1000).toFixed(0)} ms idle`,
    '  by package / area (self time):',
    ...[...byArea]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([area, micros]) => `    ${percent(micros)}  ${area}`),
    `  top ${top} functions (self time):`,
    ...[...byFunction]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => `    ${percent(micros)}  ${name}`),
  ];
  return lines.join('\n');
}

/** Where a function's self time comes from: its heaviest call chains (`--callers <name>`). */
function callers(file, name, top) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);
  const self = new Map();
  profile.samples.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  const chains = new Map();
  for (const [id, micros] of self) {
    if (nodes.get(id).callFrame.functionName !== name) continue;
    const frames = [];
    for (let at = parents.get(id); at !== undefined && frames.length < 10; at = parents.get(at)) {
      const { functionName, url, lineNumber } = nodes.get(at).callFrame;
      frames.push(`${functionName || '(anonymous)'} ${url ? shortUrl(url) : ''}:${lineNumber + 1}`);
    }
    const key = frames.join('\n        <- ');
    chains.set(key, (chains.get(key) ?? 0) + micros);
  }
  return [
    `${path.basename(file)}: callers of ${name}`,
    ...[...chains]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([chain, micros]) => `  ${(micros / 1000).toFixed(0)} ms\n        <- ${chain}`),
  ].join('\n');
}

const args = process.argv.slice(2);
const option = (flag) => {
  const at = args.indexOf(flag);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
};
const callersOf = option('--callers');
const top = Number(option('--top') ?? (callersOf ? 3 : 25));
if (args.length === 0) {
  console.error(
    'Usage: node bench/profile.js <file.cpuprofile>... [--top N] [--callers <function>]',
  );
  process.exit(2);
}
const summaries = args.map((file) =>
  callersOf ? callers(file, callersOf, top) : summarise(file, top),
);
console.log(summaries.join('\n\n'));
