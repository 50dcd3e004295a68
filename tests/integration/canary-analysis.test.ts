// The canary analysis computes what it claims: each query of the synthesised AnalysisTemplate,
// with the canary's hash filled in as Argo Rollouts does, runs in promtool against synthetic
// series. Its success and failure conditions become two alerts (value <= max passes, value > max
// fails; a missing or NaN value meets neither, which Argo Rollouts counts as Inconclusive).
// A healthy canary must pass, 5% errors or a slow p95 must fail, and no data or too little
// traffic must do neither, while the stable pods' bad numbers never leak into the canary's.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { findAll } from '../helpers';
import { describeNeeding, program } from './tools';

interface Metric {
  name: string;
  successCondition: string;
  failureCondition: string;
  provider: { prometheus: { query: string } };
}

const CANARY = 'canary7f9c';
const STABLE = 'stable5d2a';
const MINUTES = 15;
const EVAL = '10m';

/** The max of a condition pair, read strictly: any other shape fails the test rather than passing. */
function thresholdOf(m: Metric): number {
  const guard = 'len(result) > 0 && !isNaN(result[0]) && result[0]';
  const success = new RegExp(`^${escape(guard)} <= ([0-9.]+)$`).exec(m.successCondition);
  const failure = new RegExp(`^${escape(guard)} > ([0-9.]+)$`).exec(m.failureCondition);
  expect(success, `${m.name}.successCondition: ${m.successCondition}`).not.toBeNull();
  expect(failure, `${m.name}.failureCondition: ${m.failureCondition}`).not.toBeNull();
  expect(success![1]).toBe(failure![1]);
  return Number(success![1]);
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Series of one pod-template hash: requests per minute by code and cumulative latency buckets. */
function traffic(hash: string, perMinute: { ok: number; errors: number }, buckets: Record<string, number>): { series: string; values: string }[] {
  const labels = (extra: string) => `{namespace="app",pod="api-${hash}-x",${'rollouts_pod_template_hash'}="${hash}",${extra}}`;
  const counter = (n: number) => `0+${n}x${MINUTES}`;
  return [
    { series: `http_requests_total${labels('code="200"')}`, values: counter(perMinute.ok) },
    { series: `http_requests_total${labels('code="500"')}`, values: counter(perMinute.errors) },
    ...Object.entries(buckets).map(([le, n]) => ({ series: `http_request_duration_seconds_bucket${labels(`le="${le}"`)}`, values: counter(n) })),
  ];
}
/** 600 requests a minute, most under 100 ms, all under 500 ms (p95 about 0.18 s). */
const FAST = { '0.05': 300, '0.1': 550, '0.25': 595, '0.5': 600, '1': 600, '2.5': 600, '+Inf': 600 };
/** Most requests between 1 and 2.5 s (p95 about 2.4 s). */
const SLOW = { '0.05': 0, '0.1': 0, '0.25': 50, '0.5': 100, '1': 200, '2.5': 600, '+Inf': 600 };
/** The stable pods are bad on purpose: if a query ignored the hash, the healthy canary would fail. */
const BAD_STABLE = traffic(STABLE, { ok: 300, errors: 300 }, SLOW);

const SCENARIOS: { name: string; series: { series: string; values: string }[]; expect: Record<string, 'pass' | 'fail' | 'inconclusive'> }[] = [
  {
    name: 'healthy canary',
    series: [...traffic(CANARY, { ok: 597, errors: 3 }, FAST), ...BAD_STABLE],
    expect: { 'error-ratio': 'pass', 'p95-latency': 'pass' },
  },
  { name: '5% errors', series: [...traffic(CANARY, { ok: 570, errors: 30 }, FAST), ...BAD_STABLE], expect: { 'error-ratio': 'fail', 'p95-latency': 'pass' } },
  { name: 'slow p95', series: [...traffic(CANARY, { ok: 600, errors: 0 }, SLOW), ...BAD_STABLE], expect: { 'error-ratio': 'pass', 'p95-latency': 'fail' } },
  { name: 'no canary data at all', series: BAD_STABLE, expect: { 'error-ratio': 'inconclusive', 'p95-latency': 'inconclusive' } },
  {
    name: 'too little traffic (20 requests a minute)',
    series: [...traffic(CANARY, { ok: 10, errors: 10 }, { '0.05': 0, '0.1': 0, '0.25': 0, '0.5': 0, '1': 0, '2.5': 20, '+Inf': 20 }), ...BAD_STABLE],
    expect: { 'error-ratio': 'inconclusive', 'p95-latency': 'inconclusive' },
  },
];

const alertName = (metric: string, verdict: 'pass' | 'fail') => `canary_${metric.replace(/-/g, '_')}_${verdict}`;

describeNeeding([program('promtool', 'prometheus')], 'canary analysis queries in promtool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canary-analysis-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const env of ENVIRONMENT_NAMES) {
    it(`${env}: a healthy canary passes, 5% errors or a slow p95 fails, no data is never a pass`, () => {
      const template = findAll(env, 'AnalysisTemplate')[0]! as unknown as {
        spec: { args: { name: string }[]; metrics: Metric[] };
      };
      expect(template.spec.args.map((a) => a.name)).toEqual(['canary-hash']);
      const metrics = template.spec.metrics;
      expect(metrics.map((m) => m.name).sort()).toEqual(['error-ratio', 'p95-latency']);

      const rules = metrics.flatMap((m) => {
        const max = thresholdOf(m);
        // What Argo Rollouts sends: the template with {{args.canary-hash}} replaced.
        const query = m.provider.prometheus.query.replaceAll('{{args.canary-hash}}', CANARY);
        expect(query).not.toContain('{{');
        return [
          { alert: alertName(m.name, 'pass'), expr: `(${query}) <= ${max}` },
          { alert: alertName(m.name, 'fail'), expr: `(${query}) > ${max}` },
        ];
      });
      const rulesFile = join(dir, `${env}-rules.yml`);
      writeFileSync(rulesFile, stringify({ groups: [{ name: 'canary-analysis', rules }] }));
      const check = spawnSync('promtool', ['check', 'rules', rulesFile], { encoding: 'utf8' });
      expect(check.status, check.stdout + check.stderr).toBe(0);

      const tests = SCENARIOS.map((s) => ({
        name: s.name,
        interval: '1m',
        input_series: s.series,
        alert_rule_test: metrics.flatMap((m) =>
          (['pass', 'fail'] as const).map((verdict) => ({
            eval_time: EVAL,
            alertname: alertName(m.name, verdict),
            exp_alerts: s.expect[m.name] === verdict ? [{ exp_labels: {} }] : [],
          })),
        ),
      }));
      const testFile = join(dir, `${env}-test.yml`);
      writeFileSync(testFile, stringify({ rule_files: [rulesFile], evaluation_interval: '1m', tests }));
      const result = spawnSync('promtool', ['test', 'rules', testFile], { encoding: 'utf8' });
      expect(result.status, result.stdout + result.stderr).toBe(0);
    });
  }

  it('fails when a query ignores the canary hash (the test can catch a wrong query)', () => {
    const query = 'sum(rate(http_requests_total{namespace="app",code=~"5.."}[2m])) / sum(rate(http_requests_total{namespace="app"}[2m]))';
    const rulesFile = join(dir, 'broken-rules.yml');
    writeFileSync(rulesFile, stringify({ groups: [{ name: 'broken', rules: [{ alert: 'canary_error_ratio_pass', expr: `(${query}) <= 0.01` }] }] }));
    const testFile = join(dir, 'broken-test.yml');
    const healthy = SCENARIOS[0]!;
    writeFileSync(
      testFile,
      stringify({
        rule_files: [rulesFile],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: healthy.series,
            alert_rule_test: [{ eval_time: EVAL, alertname: 'canary_error_ratio_pass', exp_alerts: [{ exp_labels: {} }] }],
          },
        ],
      }),
    );
    const result = spawnSync('promtool', ['test', 'rules', testFile], { encoding: 'utf8' });
    expect(result.status).not.toBe(0);
  });
});
