// Every PromQL expression the shipped dashboards send (panel queries and query variables), read
// back from each environment's synthesised grafana-dashboards ConfigMap, with Grafana's
// variables filled in as Grafana would: each must parse in the real promtool (written as a
// recording rule, the one place promtool checks an expression without a server), and each must
// read only metrics that an exporter provides (the catalogue) or that a recording rule of the
// platform defines. A panel on a misspelt or renamed metric otherwise shows "No data" forever.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CATALOGUE_METRICS } from '../../charts/observability/metrics-catalogue';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { prefixed } from '../../lib/names';
import { environment, tryFind } from '../helpers';
import { describeNeeding, program } from './tools';

interface Variable {
  readonly name: string;
  readonly type: string;
  readonly query?: string | { readonly query?: string };
  readonly current?: { readonly value?: string | readonly string[] };
  readonly allValue?: string;
}
interface Panel {
  readonly title?: string;
  readonly targets?: readonly { readonly refId?: string; readonly expr?: string }[];
  readonly panels?: readonly Panel[];
}
interface Dashboard {
  readonly uid: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}
/** One expression, with where it came from for failure messages. */
interface Expression {
  readonly where: string;
  readonly expr: string;
}

/** What Grafana puts in for its interval variables; any duration makes the same syntax. */
const INTERVALS: Record<string, string> = { __rate_interval: '5m', __interval: '5m', __range: '5m' };

/** The data of a ConfigMap in the environment's observability namespace, if it exists. */
function observabilityConfigMap(env: string, name: string): Record<string, string> | undefined {
  const namespace = prefixed(environment(env).namespacePrefix, 'observability');
  return tryFind<{ data?: Record<string, string> }>(env, 'ConfigMap', name, namespace)?.data;
}

function shippedDashboards(env: string): Dashboard[] {
  const data = observabilityConfigMap(env, 'grafana-dashboards');
  if (!data) throw new Error(`${env} has no ConfigMap grafana-dashboards in its observability namespace`);
  return Object.values(data).map((text) => JSON.parse(text) as Dashboard);
}

/** Names of the platform's recording rules, from the prometheus-rules ConfigMap when it ships. */
function recordingRules(env: string): Set<string> {
  const files = Object.values(observabilityConfigMap(env, 'prometheus-rules') ?? {});
  const groups = files.flatMap((text) => (parse(text) as { groups: { rules: { record?: string }[] }[] }).groups);
  return new Set(groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : []))));
}

/** The value Grafana sends for a variable: its current value, or the "All" value. */
function variableValue(v: Variable): string {
  const current = v.current?.value;
  const values = Array.isArray(current) ? current : [current];
  if (values.includes('$__all')) return v.allValue ?? '.+';
  if (values.length === 0 || values.some((x) => typeof x !== 'string')) throw new Error(`variable ${v.name} has no current value`);
  return values.join('|');
}

/** `$name`, `${name}`, `${name:format}` and `[[name]]` replaced as Grafana would; unknown names throw. */
function substitute(expr: string, variables: readonly Variable[]): string {
  const values = new Map<string, string>([...Object.entries(INTERVALS), ...variables.map((v) => [v.name, variableValue(v)] as const)]);
  return expr.replace(/\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)/g, (match, a?: string, b?: string, c?: string) => {
    const value = values.get((a ?? b ?? c)!);
    if (value === undefined) throw new Error(`unknown variable ${match} in ${expr}`);
    return value;
  });
}

/** The PromQL inside a Prometheus query variable: label_values(<expr>, label) or query_result(<expr>). */
function variableExpression(query: string): string | undefined {
  const labelValues = /^\s*label_values\(([\s\S]+),\s*\w+\s*\)\s*$/.exec(query);
  if (labelValues) return labelValues[1];
  const queryResult = /^\s*query_result\(([\s\S]+)\)\s*$/.exec(query);
  if (queryResult) return queryResult[1];
  // label_names(), metrics(regex) and label_values(label) read no expression.
  return undefined;
}

function expressions(d: Dashboard): Expression[] {
  const vars = d.templating.list;
  const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const fromPanels = panels.flatMap((p) =>
    (p.targets ?? []).flatMap((t) => (t.expr ? [{ where: `${d.uid}: "${p.title}" ${t.refId}`, expr: substitute(t.expr, vars) }] : [])),
  );
  const fromVariables = vars
    .filter((v) => v.type === 'query')
    .flatMap((v) => {
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const expr = variableExpression(query);
      return expr ? [{ where: `${d.uid}: variable ${v.name}`, expr: substitute(expr, vars) }] : [];
    });
  return [...fromPanels, ...fromVariables];
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads. What is not a name is removed first: strings,
 * label matchers, durations, grouping and matching label lists, and numbers; of the identifiers
 * left, those followed by "(" are functions or aggregations and the rest, minus keywords, are names.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/(?<![\w:])\d[\w.]*(?:[eE][+-]?\d+)?/g, ' ');
  const names = [...bare.matchAll(/([a-zA-Z_:][\w:]*)\s*(\()?/g)].filter((m) => !m[2] && !KEYWORDS.has(m[1]!.toLowerCase())).map((m) => m[1]!);
  return [...new Set(names)];
}

describe('PromQL metric-name extractor', () => {
  it('finds the metrics and nothing else: not functions, labels, strings, durations or keywords', () => {
    const expr =
      'histogram_quantile(0.95, sum by (service, le) (rate(kong_request_latency_ms_bucket{service=~"a|b", code!="5{0}"}[5m] offset 1h)))' +
      ' / on (job) group_left (version) max without (pod) (up == bool 1) > 1e3 and ignoring (le) vector(0) or absent(pg_up) unless time() - 1.5';
    expect(metricNames(expr).sort()).toEqual(['kong_request_latency_ms_bucket', 'pg_up', 'up']);
    expect(metricNames('sum(namespace:container_cpu_usage_seconds:rate5m) * count(ALERTS)').sort()).toEqual([
      'ALERTS',
      'namespace:container_cpu_usage_seconds:rate5m',
    ]);
  });

  it('catches a made-up metric among real ones', () => {
    const expr = 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_request_totals[5m]))';
    expect(metricNames(expr).filter((n) => !CATALOGUE_METRICS.has(n))).toEqual(['http_request_totals']);
  });

  it('fills in interval, plain, formatted and "All" variables the way Grafana does', () => {
    const vars: Variable[] = [
      { name: 'db', type: 'query', current: { value: ['$__all'] }, allValue: '.+' },
      { name: 'ns', type: 'custom', current: { value: 'app' } },
    ];
    expect(substitute('rate(x{d=~"$db",n="${ns}",m="[[ns]]",f=~"${db:regex}"}[$__rate_interval])', vars)).toBe('rate(x{d=~".+",n="app",m="app",f=~".+"}[5m])');
    expect(() => substitute('x{a="$nope"}', vars)).toThrow(/unknown variable \$nope/);
  });
});

describe.each(ENVIRONMENT_NAMES)('%s dashboards read only known metrics', (env) => {
  it("names only catalogue metrics or the platform's recording rules", () => {
    const records = recordingRules(env);
    const exprs = shippedDashboards(env).flatMap(expressions);
    expect(exprs.length).toBeGreaterThan(0);
    const unknown = exprs.flatMap((e) =>
      metricNames(e.expr)
        .filter((n) => !CATALOGUE_METRICS.has(n) && !records.has(n))
        .map((n) => `${e.where}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });
});

describeNeeding([program('promtool', 'prometheus')], 'dashboard queries in promtool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dashboards-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** `promtool check rules` over the expressions, each as a recording rule. */
  function check(name: string, exprs: readonly Expression[]) {
    const file = join(dir, `${name}.rules.yaml`);
    writeFileSync(file, stringify({ groups: [{ name: 'dashboards', rules: exprs.map((e, n) => ({ record: `dashboard_check_${n}`, expr: e.expr })) }] }));
    return spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  }

  for (const env of ENVIRONMENT_NAMES) {
    it(`${env}: every panel and variable query parses`, () => {
      const exprs = shippedDashboards(env).flatMap(expressions);
      const result = check(env, exprs);
      // promtool names the failing rule by index only; list them so the message names the panel.
      const listing = exprs.map((e, n) => `dashboard_check_${n}  ${e.where}: ${e.expr}`).join('\n');
      expect(result.status, `${result.stdout}${result.stderr}\n${listing}`).toBe(0);
      expect(result.stdout).toContain(`${exprs.length} rules found`);
    });
  }

  it('fails on an expression that does not parse (the check can fail)', () => {
    const result = check('broken', [{ where: 'broken', expr: 'sum by (job) (rate(up[5m])' }]);
    expect(result.status).not.toBe(0);
  });
});
