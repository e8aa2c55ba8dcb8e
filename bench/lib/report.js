'use strict';
// The benchmark's report: ratios between the servers, and the table printed on stdout.

const divide = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : null);

/**
 * Each server against the baseline, per scenario (throughput: higher is better; CPU and latency:
 * lower is better), and per server the deep page against the first (time per request =
 * 1 / saturated throughput; 1.0 means a page costs the same at any depth).
 */
function ratios(scenarios, targets) {
  const vsBaseline = {};
  for (const scenario of scenarios) {
    const base = scenario.results.baseline;
    if (!base) continue;
    vsBaseline[scenario.name] = {};
    for (const target of targets) {
      const result = scenario.results[target];
      if (target === 'baseline' || !result) continue;
      vsBaseline[scenario.name][target] = {
        throughput: divide(result.rps, base.rps),
        cpuPerRequest: divide(result.cpuMsPerRequest, base.cpuMsPerRequest),
        p50: divide(result.fixedRate.latency.p50, base.fixedRate.latency.p50),
        p99: divide(result.fixedRate.latency.p99, base.fixedRate.latency.p99),
      };
    }
  }
  const first = scenarios.find((scenario) => scenario.name === 'list-first');
  const deep = scenarios.find((scenario) => scenario.name === 'list-deep');
  const deepVsFirst = {};
  for (const target of targets) {
    const a = first?.results[target];
    const b = deep?.results[target];
    if (!a || !b) continue;
    deepVsFirst[target] = {
      timePerRequest: divide(a.rps, b.rps),
      cpuPerRequest: divide(b.cpuMsPerRequest, a.cpuMsPerRequest),
      p50: divide(b.fixedRate.latency.p50, a.fixedRate.latency.p50),
    };
  }
  return { vsBaseline, deepVsFirst };
}

const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

function table(rows) {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column < 2 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]),
        )
        .join('  '),
    )
    .join('\n');
}

function printTable(result) {
  const rows = [
    [
      'scenario',
      'server',
      'req/s',
      'x base',
      'rate',
      'p50 ms',
      'p99 ms',
      'CPU ms/req',
      'CPU %',
      'DB ms/req',
      'peak RSS MB',
      'non-2xx',
    ],
  ];
  const notes = [];
  for (const scenario of result.scenarios) {
    let label = scenario.name;
    for (const [target, outcome] of Object.entries(scenario.results)) {
      const vs = result.ratios.vsBaseline[scenario.name]?.[target];
      const bad =
        outcome.saturation.non2xx +
        outcome.saturation.errors +
        outcome.fixedRate.non2xx +
        outcome.fixedRate.errors;
      rows.push([
        label,
        target,
        fixed(outcome.rps, 0),
        vs ? fixed(vs.throughput, 2) : target === 'baseline' ? '1.00' : '-',
        String(scenario.rate),
        fixed(outcome.fixedRate.latency.p50, 1),
        fixed(outcome.fixedRate.latency.p99, 1),
        fixed(outcome.cpuMsPerRequest, 3),
        fixed(outcome.cpuUtilisation * 100, 0),
        fixed(outcome.dbCpuMsPerRequest, 3),
        fixed(outcome.peakRssMb, 0),
        String(bad),
      ]);
      label = '';
    }
    for (const [target, reason] of Object.entries(scenario.skipped)) {
      rows.push([label, target, 'skipped', ...Array(9).fill('')]);
      notes.push(`${scenario.name} on ${target} skipped: ${reason}`);
      label = '';
    }
  }
  console.log(`\n${table(rows)}\n`);
  console.log(
    'req/s at saturation; p50/p99 (open loop) at the fixed "rate" (req/s) for all servers; medians of rounds;',
  );
  console.log(
    'CPU ms/req, DB ms/req = server and MariaDB CPU time per request during saturation; ' +
      'CPU % = the server process busy (100 = one core).',
  );
  for (const note of notes) console.log(note);
  for (const [target, ratio] of Object.entries(result.ratios.deepVsFirst)) {
    console.log(
      `deep page / first page, ${target}: time per request ${fixed(ratio.timePerRequest, 2)}, ` +
        `CPU per request ${fixed(ratio.cpuPerRequest, 2)}, p50 ${fixed(ratio.p50, 2)}`,
    );
  }
  const m = result.machine;
  console.log(`${result.date}  ${m.cpu}, ${m.memoryGb} GB, ${m.os}, Node ${m.node}`);
  console.log(
    `servers: ${Object.entries(result.targets)
      .map(([n, t]) => `${n} = ${t.label}`)
      .join('; ')}`,
  );
}

module.exports = { ratios, printTable };
