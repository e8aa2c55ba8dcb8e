'use strict';
// --soak <minutes>: GET by id at a fixed rate for a long time, the server's RSS (from /proc) and
// V8 heap (from the preloaded hook) sampled every few seconds, and their trend after warm-up
// reported (issue: RSS stable under a 10-minute soak, below 250 MB).
const { cpuMs, memoryMb } = require('./servers');

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxy = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

/** Theil–Sen slope: the median of the pairwise slopes, which one odd point cannot swing. */
function robustSlope(points) {
  const slopes = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const dx = points[j][0] - points[i][0];
      if (dx !== 0) slopes.push((points[j][1] - points[i][1]) / dx);
    }
  }
  if (slopes.length === 0) return 0;
  slopes.sort((a, b) => a - b);
  const middle = slopes.length / 2;
  return Number.isInteger(middle)
    ? (slopes[middle - 1] + slopes[middle]) / 2
    : slopes[Math.floor(middle)];
}

/**
 * The floor of a sawtooth: the lowest value in each window of `seconds` (windows with fewer than
 * half their samples left out). Garbage collection makes RSS and heap rise and fall; a leak shows
 * as floors that keep rising.
 */
function floors(samples, read, seconds, every) {
  const windows = new Map();
  for (const sample of samples) {
    const value = read(sample);
    if (!Number.isFinite(value)) continue;
    const key = Math.floor(sample.t / seconds);
    const window = windows.get(key) ?? { count: 0, low: undefined };
    window.count++;
    if (!window.low || value < window.low[1]) window.low = [sample.t / 60, value];
    windows.set(key, window);
  }
  const wanted = seconds / every / 2;
  return [...windows.values()].filter((w) => w.count >= wanted).map((w) => w.low);
}

const mb = (bytes) => (bytes === undefined ? NaN : bytes / 2 ** 20);
const fixed = (value) => (Number.isFinite(value) ? value.toFixed(1) : '-');

/**
 * The memory trend of a soak's samples. Warm-up: the first quarter, at most a minute (JIT, pools,
 * caches filling up). Stable: the floors' trend adds less than 2 % of the mean RSS (at least 2 MB)
 * over the steady part, for RSS and for the heap alike.
 */
function analyse(samples, seconds, every) {
  const warmUp = Math.min(60, seconds / 4);
  const steady = samples.filter((s) => s.t >= warmUp);
  const rss = steady.map((s) => s.rssMb);
  const mean = rss.reduce((sum, value) => sum + value, 0) / rss.length;
  const steadyMinutes = (seconds - warmUp) / 60;
  // Floors per minute (per sixth of the steady part for short soaks).
  const window = Math.max(every * 3, Math.min(60, (seconds - warmUp) / 6));
  const rssFloors = floors(steady, (s) => s.rssMb, window, every);
  const heapFloors = floors(steady, (s) => s.heapUsedMb, window, every);
  const rssFloorSlope = robustSlope(rssFloors);
  const heapFloorSlope = robustSlope(heapFloors);
  const limit = Math.max(2, mean * 0.02);
  return {
    warmUpSeconds: warmUp,
    rssMb: {
      start: samples[0].rssMb,
      afterWarmUp: steady[0]?.rssMb,
      end: samples[samples.length - 1].rssMb,
      min: Math.min(...rss),
      max: Math.max(...rss),
      mean,
      // VmHWM: the process's peak since it started, the saturation probe included.
      lifetimePeak: Math.max(...samples.map((s) => s.hwmMb)),
    },
    trendMbPerMinute: {
      rss: slope(steady.map((s) => [s.t / 60, s.rssMb])),
      rssFloor: rssFloorSlope,
      heapUsedFloor: heapFloorSlope,
      // The later half alone: a slow warm-up shows as a trend that fades, a leak as one that stays.
      rssFloorSecondHalf: robustSlope(rssFloors.slice(Math.floor(rssFloors.length / 2))),
      heapUsedFloorSecondHalf: robustSlope(heapFloors.slice(Math.floor(heapFloors.length / 2))),
    },
    floorWindowSeconds: window,
    rssFloors,
    heapFloors,
    stable:
      Math.abs(rssFloorSlope * steadyMinutes) < limit &&
      (heapFloors.length < 2 || Math.abs(heapFloorSlope * steadyMinutes) < limit),
  };
}

async function runSoak({ options, server, job, runLoad, log }) {
  const seconds = options.soakMinutes * 60;
  let rate = options.rate;
  if (rate === undefined) {
    const probe = await runLoad({ ...job(server), connections: options.connections, duration: 5 });
    rate = Math.max(1, Math.round(probe.rps * options.rateFraction));
    log(`soak: saturation ${probe.rps.toFixed(0)} req/s, soaking at ${rate} req/s`);
  }
  const every = Math.max(1, Math.min(5, seconds / 30));
  const samples = [];
  const started = Date.now();
  const cpuStart = cpuMs(server.pid);
  const sample = async () => {
    const t = (Date.now() - started) / 1000;
    const { rss, hwm } = memoryMb(server.pid);
    const memory = await server.memoryUsage().catch(() => undefined);
    samples.push({
      t: Math.round(t * 10) / 10,
      rssMb: rss,
      hwmMb: hwm,
      heapUsedMb: mb(memory?.heapUsed),
      heapTotalMb: mb(memory?.heapTotal),
      externalMb: mb(memory?.external),
      cpuMs: cpuMs(server.pid) - cpuStart,
    });
  };
  await sample();
  let lastLog = 0;
  const timer = setInterval(() => {
    void sample().then(() => {
      const last = samples[samples.length - 1];
      if (last.t - lastLog < 30) return;
      lastLog = last.t;
      log(
        `soak: ${last.t.toFixed(0)} s, RSS ${fixed(last.rssMb)} MB, heap used ` +
          `${fixed(last.heapUsedMb)} MB`,
      );
    });
  }, every * 1000);
  let summary;
  try {
    summary = await runLoad({
      ...job(server),
      connections: options.connections,
      duration: seconds,
      overallRate: rate,
      openLoop: options.rateTool === 'open',
      captureErrors: true,
    });
  } finally {
    clearInterval(timer);
  }
  await sample();

  const result = {
    server: server.name,
    minutes: options.soakMinutes,
    rate,
    requests: summary.requests,
    non2xx: summary.non2xx,
    errors: summary.errors + summary.timeouts,
    latency: summary.latency,
    ...analyse(samples, seconds, every),
    samples,
    failed: summary.non2xx + summary.errors + summary.timeouts > 0,
  };
  const r = result.rssMb;
  console.log(
    `\nsoak ${server.name}: ${options.soakMinutes} min at ${rate} req/s, ${summary.requests} requests, ` +
      `${summary.non2xx} non-2xx, p50 ${fixed(summary.latency.p50)} ms, ` +
      `p99 ${fixed(summary.latency.p99)} ms`,
  );
  console.log(
    `RSS MB: start ${fixed(r.start)}, after warm-up ${fixed(r.afterWarmUp)}, end ${fixed(r.end)}; ` +
      `after warm-up min/mean/max ${fixed(r.min)}/${fixed(r.mean)}/${fixed(r.max)}; ` +
      `lifetime peak (VmHWM, saturation probe included) ${fixed(r.lifetimePeak)}`,
  );
  console.log(describeTrend(result));
  return result;
}

function describeTrend(result) {
  const trend = (value) => `${value >= 0 ? '+' : ''}${value.toFixed(2)} MB/min`;
  const values = (points) => points.map(([, v]) => v.toFixed(0)).join(' ');
  const t = result.trendMbPerMinute;
  return (
    `trend after warm-up: RSS ${trend(t.rss)} (least squares); floors (lowest per ` +
    `${result.floorWindowSeconds.toFixed(0)} s, Theil-Sen): RSS ${trend(t.rssFloor)} ` +
    `(${values(result.rssFloors)}), heap used ${trend(t.heapUsedFloor)} ` +
    `(${values(result.heapFloors)}); second half of the floors: RSS ` +
    `${trend(t.rssFloorSecondHalf)}, heap used ${trend(t.heapUsedFloorSecondHalf)}: ` +
    `${result.stable ? 'stable' : 'GROWING'}`
  );
}

module.exports = { runSoak, analyse, describeTrend };
