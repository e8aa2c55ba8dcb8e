'use strict';
// Preloaded with `--require` into a server under test when the benchmark profiles (--profile) or
// soaks (--soak); answers the benchmark's requests over IPC:
//   { type: 'profile-start' }           starts the V8 CPU profiler (what `node --cpu-prof` uses)
//   { type: 'profile-stop', file }      stops it and writes the .cpuprofile to `file`
//   { type: 'memory' }                  process.memoryUsage(), for the soak's heap trend
// Signals cannot do this: Nest's shutdown hooks take SIGUSR2, and --cpu-prof writes its file only
// when the process exits normally, which a Nest app stopped by a signal does not.
const { writeFileSync } = require('node:fs');
const inspector = require('node:inspector');

let session;
const post = (method, params = {}) =>
  new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
  );

const handlers = {
  async 'profile-start'() {
    session = new inspector.Session();
    session.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 250 });
    await post('Profiler.start');
    return {};
  },
  async 'profile-stop'({ file }) {
    const { profile } = await post('Profiler.stop');
    session.disconnect();
    writeFileSync(file, JSON.stringify(profile));
    return { file };
  },
  memory() {
    return Promise.resolve({ memory: process.memoryUsage() });
  },
};

process.on('message', (message) => {
  const handler = handlers[message?.type];
  if (!handler) return;
  handler(message).then(
    (answer) => process.send({ id: message.id, ...answer }),
    (error) => process.send({ id: message.id, error: String(error) }),
  );
});
