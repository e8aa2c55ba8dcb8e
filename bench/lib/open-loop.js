'use strict';
// Latency at a fixed rate, open loop (as wrk2 does): request k is due at start + k / rate whether
// or not earlier ones have been answered, and its latency counts from that due time, so a stalled
// server cannot hide its queue (no coordinated omission).
//
// autocannon's -R / overallRate is not used for this: it gives each connection a quota per second,
// and every connection's one-second timer starts together, so the requests leave in a burst at the
// start of each second and the server sees full concurrency for part of every second. Its latency
// correction then uses an expected interval of ceil(1 / per-connection rate) = 1 ms, which adds
// synthetic short samples rather than the missing long ones.
const http = require('node:http');

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Sends `rate` requests per second for `duration` seconds over at most `connections` keep-alive
 * connections (requests wait for a free one; that wait is part of their latency).
 */
function runOpenLoop({ url, rate, duration, connections, timeout = 10, next, onResponse }) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const interval = 1000 / rate;
  const total = Math.max(1, Math.round(rate * duration));
  const latencies = [];
  const statusCodes = {};
  let bytes = 0;
  let errors = 0;
  let timeouts = 0;
  let sent = 0;
  let finished = 0;

  return new Promise((resolve) => {
    const start = performance.now();
    const done = () => {
      agent.destroy();
      const seconds = (performance.now() - start) / 1000;
      const sorted = Float64Array.from(latencies).sort();
      const count = (from, to) =>
        Object.entries(statusCodes)
          .filter(([code]) => Number(code) >= from && Number(code) < to)
          .reduce((sum, [, { count: n }]) => sum + n, 0);
      const completed = latencies.length;
      resolve({
        seconds,
        requests: completed,
        ok: count(200, 300),
        rps: completed / Math.min(seconds, duration),
        non2xx: completed - count(200, 300),
        errors,
        timeouts,
        statusCodes,
        latency: {
          p50: percentile(sorted, 50),
          p90: percentile(sorted, 90),
          p99: percentile(sorted, 99),
          max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
          mean: completed > 0 ? sorted.reduce((sum, value) => sum + value, 0) / completed : NaN,
        },
        bytesPerResponse: completed > 0 ? bytes / completed : 0,
      });
    };
    const settle = () => {
      finished++;
      if (finished === total) done();
    };
    const send = (due) => {
      const request = next();
      let settled = false;
      let timedOut = false;
      const fail = () => {
        if (settled) return;
        settled = true;
        if (!timedOut) errors++;
        settle();
      };
      const outgoing = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.path,
          headers: request.body
            ? { ...request.headers, 'content-length': Buffer.byteLength(request.body) }
            : request.headers,
          timeout: timeout * 1000,
        },
        (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('error', fail);
          response.on('end', () => {
            if (settled) return;
            settled = true;
            const latency = performance.now() - due;
            const body = Buffer.concat(chunks);
            bytes += body.length;
            latencies.push(latency);
            const stat = (statusCodes[response.statusCode] ??= { count: 0 });
            stat.count++;
            onResponse?.(response.statusCode, body.toString());
            settle();
          });
        },
      );
      outgoing.on('timeout', () => {
        timeouts++;
        timedOut = true;
        outgoing.destroy(new Error('timeout'));
      });
      outgoing.on('error', fail);
      outgoing.end(request.body);
    };
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        send(start + sent * interval);
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
}

module.exports = { runOpenLoop };
