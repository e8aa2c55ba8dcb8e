'use strict';
// The load generator, run in its own process (never inside a server under test): receives one job
// from the parent over IPC, drives the server with autocannon (saturation, or autocannon's own
// per-second rate when asked) or with the open-loop generator (fixed rate), and sends back a
// summary.
const autocannon = require('autocannon');
const { createCustomerBody, billingProfileBody } = require('./bodies');
const { runOpenLoop } = require('./open-loop');

/** autocannon `requests` for a scenario: a fixed request, or one built per request. */
function requestsFor(scenario) {
  const json = { 'content-type': 'application/json' };
  switch (scenario.kind) {
    case 'fixed':
      return [{ method: scenario.method, path: scenario.path, headers: scenario.headers }];
    case 'get': {
      let n = 0;
      const pairs = scenario.pairs;
      return [
        {
          method: 'GET',
          setupRequest: (request) => {
            const { id, token } = pairs[n++ % pairs.length];
            request.path = `/v1/customers/${id}`;
            request.headers = { authorization: `Bearer ${token}` };
            return request;
          },
        },
      ];
    }
    case 'create': {
      let n = 0;
      const tokens = scenario.tokens;
      return [
        {
          method: 'POST',
          path: '/v1/customers',
          setupRequest: (request) => {
            const i = n++;
            const domain = `${scenario.domainPrefix}${i.toString(36)}`;
            request.headers = { ...json, authorization: `Bearer ${tokens[i % tokens.length]}` };
            request.body = JSON.stringify(createCustomerBody(domain, i));
            return request;
          },
        },
      ];
    }
    case 'update': {
      let n = 0;
      const pairs = scenario.pairs;
      return [
        {
          method: 'PUT',
          setupRequest: (request) => {
            const i = n++;
            const { id, token } = pairs[i % pairs.length];
            request.path = `/v1/customers/${id}/profiles/billing`;
            request.headers = { ...json, authorization: `Bearer ${token}` };
            request.body = JSON.stringify(billingProfileBody(i));
            return request;
          },
        },
      ];
    }
    default:
      throw new Error(`unknown scenario kind ${scenario.kind}`);
  }
}

/** Keeps the first few non-2xx answers, so that a failing run says why. */
function withErrorCapture(requests, samples) {
  return requests.map((request) => ({
    ...request,
    onResponse: (status, body) => {
      if ((status < 200 || status > 299) && samples.length < 3) {
        samples.push(`${status} ${String(body).slice(0, 300)}`);
      }
    },
  }));
}

/** One plain request after another, for the open-loop generator. */
function nextRequest(scenario) {
  const [spec] = requestsFor(scenario);
  return () => {
    const request = { method: spec.method, path: spec.path, headers: { ...spec.headers } };
    return spec.setupRequest ? spec.setupRequest(request) : request;
  };
}

async function run(job) {
  const samples = [];
  const cpuBefore = process.cpuUsage();
  const summary = job.openLoop ? await openLoop(job, samples) : await saturate(job, samples);
  const cpu = process.cpuUsage(cpuBefore);
  return { ...summary, errorSamples: samples, loadCpuMs: (cpu.user + cpu.system) / 1000 };
}

function openLoop(job, samples) {
  return runOpenLoop({
    url: job.url,
    rate: job.overallRate,
    duration: job.duration,
    connections: job.connections,
    next: nextRequest(job.scenario),
    onResponse: (status, body) => {
      if ((status < 200 || status > 299) && samples.length < 3) {
        samples.push(`${status} ${body.slice(0, 300)}`);
      }
    },
  });
}

async function saturate(job, samples) {
  let requests = requestsFor(job.scenario);
  if (job.captureErrors) requests = withErrorCapture(requests, samples);
  const result = await autocannon({
    url: job.url,
    connections: job.connections,
    duration: job.duration,
    overallRate: job.overallRate,
    timeout: 10,
    requests,
  });
  const completed = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  return {
    seconds: result.duration,
    requests: completed,
    ok: result['2xx'],
    rps: completed / result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: result.statusCodeStats,
    latency: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.average,
    },
    bytesPerResponse: completed > 0 ? result.throughput.total / completed : 0,
  };
}

process.once('message', (job) => {
  run(job).then(
    (summary) => process.send({ summary }, () => process.exit(0)),
    (error) => process.send({ error: error.stack ?? String(error) }, () => process.exit(1)),
  );
});
