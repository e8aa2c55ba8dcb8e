import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import request from 'supertest';
import { isAvailable } from './support/databases';
import { buildCustomer, createCustomer } from './support/factories';
import { useTestApp } from './support/test-app';
import { bearer, newTenant } from './support/tokens';

/*
 * Issue #13: every query of grafana/dashboard.json uses a metric the service really exports. The
 * names (and the label names and values the queries match on) are taken from every panel's and
 * every variable's PromQL and looked up in a real /metrics answer of the app on MariaDB (so that
 * the pool gauge is there), after requests that move every counter the dashboard shows.
 */

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  type: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  schemaVersion: number;
  title: string;
  uid: string;
  panels: Panel[];
  templating: {
    list: { name: string; type: string; query: unknown; datasource?: { uid?: string } }[];
  };
}

const dashboard = JSON.parse(
  readFileSync(resolve(__dirname, '..', 'grafana', 'dashboard.json'), 'utf8'),
) as Dashboard;

/** Every panel, those inside rows included, rows themselves excluded. */
function panelsOf(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) =>
    panel.type === 'row' ? panelsOf(panel.panels ?? []) : [panel, ...panelsOf(panel.panels ?? [])],
  );
}

/** Every PromQL expression: panel targets, and the query variables' label_values(…). */
function expressions(): { where: string; expr: string }[] {
  const found = panelsOf(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ where: panel.title ?? '?', expr: target.expr ?? '' })),
  );
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const query = variable.query as string | { query: string };
    found.push({
      where: `variable ${variable.name}`,
      expr: typeof query === 'string' ? query : query.query,
    });
  }
  return found;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names of a PromQL expression: strings, label matchers, ranges, grouping clauses and
 * Grafana variables removed; what is left that is an identifier not followed by `(` (a function)
 * and not a keyword is a metric name.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    // Grafana's label_values(metric, label): the metric is the selector, the label is not a name.
    .replace(/\blabel_values\(\s*([^,()]+?)\s*,\s*\w+\s*\)/g, ' $1 ')
    .replace(/\blabel_values\(\s*\w+\s*\)/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ');
  const names = [...stripped.matchAll(/(?<![\w.:$])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()/g)]
    .map((match) => match[1])
    .filter((name) => !KEYWORDS.has(name.toLowerCase()));
  return [...new Set(names)];
}

/** `metric{label="value", other=~"regex"}` selectors: the metric and its matchers. */
function selectors(expr: string) {
  return [...expr.matchAll(/([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g)].map(([, metric, body]) => ({
    metric,
    matchers: [...body.matchAll(/(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(
      ([, label, op, value]) => ({ label, op, value }),
    ),
  }));
}

interface Sample {
  name: string;
  labels: Record<string, string>;
}

function parsePrometheus(text: string) {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s/.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [
        key,
        value,
      ]),
    );
    samples.push({ name: match[1], labels });
  }
  return { samples, types };
}

/** Labels Prometheus adds at scrape time, not the service. */
const TARGET_LABELS = new Set(['instance', 'job']);

describe('grafana/dashboard.json', () => {
  it('is a Grafana dashboard over a Prometheus data source variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.title).toEqual(expect.any(String));
    expect(dashboard.uid).toEqual(expect.any(String));
    const variable = dashboard.templating.list.find((each) => each.type === 'datasource');
    expect(variable).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const panels = panelsOf(dashboard.panels);
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of panels) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({
        panel: panel.title,
        uid: '${datasource}',
      });
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.expr).toEqual(expect.any(String));
        expect(target.datasource?.uid).toBe('${datasource}');
      }
    }
  });

  it('has the panels of the issue', () => {
    const all = expressions()
      .map(({ expr }) => expr)
      .join('\n');
    expect(all).toMatch(/sum by \(route\) \(rate\(http_requests_total/);
    expect(all).toMatch(/status=~"4\.\."/);
    expect(all).toMatch(/status=~"5\.\."/);
    expect(all).toMatch(
      /histogram_quantile\(0\.5, sum by \(le, route\) \(rate\(http_request_duration_seconds_bucket/,
    );
    expect(all).toMatch(
      /histogram_quantile\(0\.99, sum by \(le, route\) \(rate\(http_request_duration_seconds_bucket/,
    );
    expect(all).toMatch(
      /sum by \(policy\) \(rate\(rate_limit_decisions_total\{[^}]*outcome="refused"/,
    );
    expect(all).toMatch(/rate_limiter_store/);
    expect(all).toMatch(/db_pool_connections\{[^}]*state="in_use"/);
    expect(all).toMatch(/db_pool_connections\{[^}]*state="waiting"/);
    expect(all).toMatch(/idempotent_replays_total/);
    expect(all).toMatch(/etag_conflicts_total/);
    expect(all).toMatch(/process_cpu_seconds_total/);
    expect(all).toMatch(/process_resident_memory_bytes/);
    expect(all).toMatch(/nodejs_eventloop_lag/);
  });

  it('extracts metric names from PromQL', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(x_seconds_bucket{a="b(c)",d=~"$v"}[$__rate_interval]))) / on(instance) group_left y_total offset 5m',
      ),
    ).toEqual(['x_seconds_bucket', 'y_total']);
    expect(metricNames('sum(rate(a_total[5m])) and b > 0.5')).toEqual(['a_total', 'b']);
    expect(metricNames('label_values(c_total{x="y"}, instance)')).toEqual(['c_total']);
  });

  (isAvailable('mariadb') ? describe : describe.skip)('against a real /metrics [mariadb]', () => {
    const LIMIT = 3;
    const t = useTestApp('mariadb', { THROTTLE_LIMIT: String(LIMIT) });

    it('uses only metrics, labels and label values the service exports', async () => {
      // Traffic that moves what the dashboard shows: 2xx, 4xx, a replay, a 412, a 429.
      const tenant = newTenant();
      const body = buildCustomer();
      for (let i = 0; i < 2; i++) {
        await request(t.server)
          .post('/v1/customers')
          .set(bearer(tenant))
          .set('MS-RequestId', 'dashboard-replay')
          .send(body)
          .expect(201);
      }
      await request(t.server).get('/v1/customers/not-a-guid').set(bearer(tenant)).expect(400);
      const other = newTenant();
      const { id } = await createCustomer(t.server, other);
      const path = `/v1/customers/${id as string}/profiles/billing`;
      await request(t.server)
        .put(path)
        .set(bearer(other))
        .set('If-Match', '"stale"')
        .send({
          email: 'grace@contoso.com',
          culture: 'en-US',
          language: 'en',
          companyName: 'Contoso',
          defaultAddress: body.billingProfile.defaultAddress,
        })
        .expect(412);
      await request(t.server).get('/v1/customers').set(bearer(other)).expect(200);
      await request(t.server).get('/v1/customers').set(bearer(other)).expect(429);

      const { samples, types } = parsePrometheus(
        (await request(t.server).get('/metrics').expect(200)).text,
      );
      const used = expressions();
      const problems: string[] = [];
      let names = 0;
      for (const { where, expr } of used) {
        for (const name of metricNames(expr)) {
          names++;
          const base = name.replace(/_(bucket|count|sum)$/, '');
          const known = types.has(name) || (base !== name && types.get(base) === 'histogram');
          if (!known) problems.push(`${where}: ${name} is not exported`);
          else if (!samples.some((sample) => sample.name === name)) {
            problems.push(`${where}: ${name} has no samples`);
          }
        }
        for (const { metric, matchers } of selectors(expr)) {
          const mine = samples.filter((sample) => sample.name === metric);
          for (const { label, op, value } of matchers) {
            if (TARGET_LABELS.has(label)) continue;
            if (!mine.some((sample) => label in sample.labels)) {
              problems.push(`${where}: ${metric} has no label ${label}`);
            } else if (op === '=' && !mine.some((sample) => sample.labels[label] === value)) {
              // (Regular expressions, such as status=~"5..", may rightly match nothing yet.)
              problems.push(`${where}: ${metric} has no ${label}="${value}"`);
            }
          }
        }
      }
      expect(names).toBeGreaterThanOrEqual(used.length);
      expect(problems).toEqual([]);
    });
  });
});
