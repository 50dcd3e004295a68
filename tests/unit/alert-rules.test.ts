// The alert and recording rules as data: enough alerts, each complete (labels, annotations,
// runbook, cases that fire and cases that stay quiet), every metric name an exporter of the
// platform really provides, and the rule files in the shape Prometheus reads. promtool runs the
// cases in tests/integration/alert-rules.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CATALOGUE_METRICS } from '../../charts/observability/metrics-catalogue';
import { DOC_RULE_CONTEXT, expandTemplate, recordingRuleNames, ruleFiles, ruleGroups, runbookUrl } from '../../charts/observability/rules';
import { SAMPLE_INTERVAL } from '../../charts/observability/rules/series';
import { isAlert, type RecordingSpec } from '../../charts/observability/rules/types';
import { RUNBOOK_DIR } from '../../scripts/docs';
import { ROOT } from '../helpers';

const AGGREGATIONS = ['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio'];
const FUNCTIONS = [
  ...[
    'abs',
    'absent',
    'absent_over_time',
    'ceil',
    'changes',
    'clamp',
    'clamp_max',
    'clamp_min',
    'day_of_month',
    'day_of_week',
    'day_of_year',
    'days_in_month',
    'delta',
    'deriv',
  ],
  ...[
    'exp',
    'floor',
    'histogram_quantile',
    'histogram_count',
    'histogram_sum',
    'histogram_fraction',
    'holt_winters',
    'double_exponential_smoothing',
    'hour',
    'idelta',
    'increase',
    'irate',
  ],
  ...[
    'label_join',
    'label_replace',
    'ln',
    'log2',
    'log10',
    'minute',
    'month',
    'predict_linear',
    'rate',
    'resets',
    'round',
    'scalar',
    'sgn',
    'sort',
    'sort_desc',
    'sqrt',
    'time',
    'timestamp',
    'vector',
    'year',
  ],
  ...[
    'avg_over_time',
    'min_over_time',
    'max_over_time',
    'sum_over_time',
    'count_over_time',
    'quantile_over_time',
    'stddev_over_time',
    'stdvar_over_time',
    'last_over_time',
    'present_over_time',
  ],
];
const KEYWORDS = ['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan'];
const NOT_METRICS = new Set([...AGGREGATIONS, ...FUNCTIONS, ...KEYWORDS]);

/**
 * The metric names an expression reads. Strings, label matchers, range durations and the label
 * lists of by/without/on/ignoring/group_left/group_right go first; of the words left, numbers,
 * durations, functions and keywords are not metrics, and everything else is.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ');
  // A word starting with a digit is a number or a duration (0.95, 1e3, 1h after offset).
  const words = bare.match(/\d[\w.]*|[A-Za-z_:][\w:]*/g) ?? [];
  return [...new Set(words.filter((w) => !/^\d/.test(w) && !NOT_METRICS.has(w.toLowerCase())))];
}

const groups = ruleGroups(DOC_RULE_CONTEXT);
const rules = groups.flatMap((g) => g.rules);
const alerts = rules.filter(isAlert);
const recordings = rules.filter((r): r is RecordingSpec => !isAlert(r));
const known = new Set([...CATALOGUE_METRICS, ...recordingRuleNames(DOC_RULE_CONTEXT)]);
const unknownNames = (expr: string) => metricNames(expr).filter((name) => !known.has(name));
const TEMPLATE = /\{\{\s*\$labels\.[A-Za-z_][A-Za-z0-9_]*\s*\}\}/g;
/** A Prometheus duration such as "1h5m" in seconds. */
const seconds = (duration: string) =>
  [...duration.matchAll(/(\d+)([smhd])/g)].reduce((sum, [, n, unit]) => sum + Number(n) * { s: 1, m: 60, h: 3600, d: 86400 }[unit as 's' | 'm' | 'h' | 'd'], 0);
/** Watchdog is true by definition: it has no case in which it stays quiet. */
const ALWAYS_FIRING = new Set(['Watchdog']);

describe('the PromQL metric-name extractor', () => {
  it('finds metric names and nothing else', () => {
    const expr =
      'sum by (namespace, service) (rate(kong_http_requests_total{code=~"5[0-9][0-9]", job="kong"}[5m])) / on (namespace) group_left (node) kube_pod_info > 0.95 ' +
      'and histogram_quantile(0.95, service_le:kong_request_latency_ms_bucket:rate5m) > 2e3 unless up offset 1h or vector(1) * 4 * 24 * 3600';
    expect(metricNames(expr).sort()).toEqual(['kong_http_requests_total', 'kube_pod_info', 'service_le:kong_request_latency_ms_bucket:rate5m', 'up']);
  });

  it('catches a metric no exporter provides', () => {
    expect(unknownNames('max by (namespace) (redis_total_system_memory_bytes{job="redis"}) > 0 and up == 1')).toEqual(['redis_total_system_memory_bytes']);
    expect(unknownNames('rate(kong_http_status{service="rest-v1"}[5m])')).toEqual(['kong_http_status']);
  });
});

describe('alert rules', () => {
  it('has its groups (one per SLO), and at least 25 alerts with unique names', () => {
    expect(groups.map((g) => g.name)).toEqual([
      'platform',
      'kubernetes',
      'node',
      'postgres',
      'redis',
      'kong',
      'slo-api-availability',
      'slo-api-latency',
      'slo-auth-availability',
      'slo-realtime-connections',
      'rollouts',
      'product',
      'backup',
      'operators',
    ]);
    expect(alerts.length).toBeGreaterThanOrEqual(25);
    const names = [...alerts.map((a) => a.alert), ...recordings.map((r) => r.record)];
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s is complete', (name, a) => {
    expect(name).toMatch(/^[A-Z][A-Za-z0-9]+$/);
    expect(['critical', 'warning', 'info']).toContain(a.severity);
    expect(['platform', 'database', 'app']).toContain(a.team);
    for (const text of [a.summary, a.description]) {
      expect(text.trim().length).toBeGreaterThan(10);
      expect(text.replace(TEMPLATE, ''), 'only {{ $labels.NAME }} may be used').not.toMatch(/\{\{|\}\}/);
    }
    expect(a.summary).not.toContain('\n');
    if (a.for !== undefined) expect(a.for).toMatch(/^(\d+[smhd])+$/);
    const { meaning, impact, diagnosis, mitigation } = a.runbook;
    expect(meaning.length).toBeGreaterThan(40);
    expect(impact.length).toBeGreaterThan(20);
    expect(diagnosis.length).toBeGreaterThan(0);
    expect(mitigation.length).toBeGreaterThan(0);
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s has cases that fire and cases that stay quiet', (name, a) => {
    expect(a.tests.fires.length).toBeGreaterThan(0);
    if (!ALWAYS_FIRING.has(name)) expect(a.tests.quiet.length).toBeGreaterThan(0);
    for (const c of a.tests.fires) {
      expect(c.alerts?.length, `${name} at ${c.at}: a firing case lists its alerts`).toBeGreaterThan(0);
      for (const labels of c.alerts!) {
        // The alert carries every label its annotations use, and none that are the rule's own.
        expect(() => expandTemplate(a.summary, labels)).not.toThrow();
        expect(() => expandTemplate(a.description, labels)).not.toThrow();
        expect(Object.keys(labels)).not.toContain('severity');
        expect(Object.keys(labels)).not.toContain('team');
      }
    }
    for (const c of a.tests.quiet) expect(c.alerts, `${name} at ${c.at}: a quiet case expects no alert`).toBeUndefined();
    // An alert that waits shows that it waits: the input of a firing case, looked at earlier, is quiet.
    const notYet = a.tests.quiet.some((q) => a.tests.fires.some((f) => JSON.stringify(f.series) === JSON.stringify(q.series) && seconds(q.at) < seconds(f.at)));
    if (a.for && seconds(a.for) >= 120) expect(notYet, `${name}: a "not yet" case`).toBe(true);
  });

  it.each(rules.map((r) => [isAlert(r) ? r.alert : r.record, r] as const))('%s is checked on its evaluation grid', (_name, r) => {
    // promtool compares a case with the evaluation at or before its time: off the grid, it would
    // silently judge an earlier moment.
    const cases = isAlert(r) ? [...r.tests.fires, ...r.tests.quiet] : r.tests;
    for (const c of cases) {
      const step = seconds(c.evaluationInterval ?? SAMPLE_INTERVAL);
      expect(step, `${c.evaluationInterval}`).toBeGreaterThan(0);
      expect(seconds(c.at) % step, `${c.at} is not a multiple of ${c.evaluationInterval}`).toBe(0);
    }
  });

  it.each(rules.map((r) => [isAlert(r) ? r.alert : r.record, r] as const))('%s reads only metrics the platform has', (_name, r) => {
    expect(unknownNames(r.expr)).toEqual([]);
    const cases = isAlert(r) ? [...r.tests.fires, ...r.tests.quiet] : r.tests;
    for (const s of cases.flatMap((c) => c.series)) expect(known.has(s.series.replace(/\{.*$/s, '')), s.series).toBe(true);
  });

  it('uses no regex whose meaning changed in Prometheus 3 (a "." now matches newlines)', () => {
    for (const r of rules) {
      for (const [, regex] of r.expr.matchAll(/=~\s*"((?:[^"\\]|\\.)*)"/g)) expect(regex, r.expr).not.toMatch(/(^|[^\\])\./);
    }
  });
});

describe('recording rules', () => {
  it.each(recordings.map((r) => [r.record, r] as const))('%s is named level:metric:operations and has value tests', (name, r) => {
    expect(name).toMatch(/^[a-z_]+:[a-z_]+:[a-z0-9_]+$/);
    expect(r.tests.length).toBeGreaterThan(0);
    for (const c of r.tests) expect(c.expect.length).toBeGreaterThan(0);
  });
});

describe('rule files', () => {
  const files = ruleFiles(DOC_RULE_CONTEXT);

  it('has one plain Prometheus rule file per group, with labels and annotations from the data', () => {
    expect(Object.keys(files)).toEqual(groups.map((g) => `${g.name}.rules.yaml`));
    for (const g of groups) {
      const file = parse(files[`${g.name}.rules.yaml`]!) as { groups: { name: string; rules: Record<string, unknown>[] }[] };
      expect(file.groups.map((fg) => fg.name)).toEqual([g.name]);
      expect(file.groups[0]!.rules).toEqual(
        g.rules.map((r) =>
          isAlert(r)
            ? {
                alert: r.alert,
                expr: r.expr,
                ...(r.for ? { for: r.for } : {}),
                labels: { severity: r.severity, team: r.team },
                annotations: { summary: r.summary, description: r.description, runbook_url: `${DOC_RULE_CONTEXT.runbookBaseUrl}${r.alert}.md` },
              }
            : { record: r.record, expr: r.expr },
        ),
      );
    }
  });

  it('writes long expressions and annotations without folding them', () => {
    expect(Object.values(files).join('\n')).not.toMatch(/: [>][-+]?\n/);
  });

  it('follows the environment: namespaces and the runbook address', () => {
    const ctx = {
      runbookBaseUrl: 'https://example.org/runbooks/',
      namespaces: { supabase: 'team-a-supabase', app: 'team-a-app', observability: 'team-a-observability' },
    };
    const text = Object.values(ruleFiles(ctx)).join('\n');
    expect(text).toContain('namespace="team-a-supabase"');
    expect(text).not.toMatch(/namespace=~?"(supabase|app|observability)\b/);
    expect(runbookUrl(ctx, 'Watchdog')).toBe('https://example.org/runbooks/Watchdog.md');
    expect(text).toContain('runbook_url: https://example.org/runbooks/Watchdog.md');
  });
});

describe('expandTemplate', () => {
  it('fills in labels', () => {
    expect(expandTemplate('{{ $labels.namespace }}/{{$labels.pod}} is down', { namespace: 'supabase', pod: 'postgres-0' })).toBe('supabase/postgres-0 is down');
  });

  it('refuses other templating and labels the alert does not carry', () => {
    expect(() => expandTemplate('value {{ $value }}', {})).toThrow(/only/);
    expect(() => expandTemplate('{{ humanize $labels.x }}', { x: '1' })).toThrow(/only/);
    expect(() => expandTemplate('{{ $labels.pod }}', { namespace: 'supabase' })).toThrow(/pod/);
  });
});

describe('runbooks', () => {
  it.each(alerts.map((a) => a.alert))('%s has a runbook page with the four sections', (name) => {
    const path = join(ROOT, RUNBOOK_DIR, `${name}.md`);
    expect(existsSync(path), `${path} is missing: run \`npm run docs\``).toBe(true);
    const headings = readFileSync(path, 'utf8').match(/^## .*$/gm);
    expect(headings).toEqual(['## Meaning', '## Impact', '## Diagnosis', '## Mitigation']);
  });
});
