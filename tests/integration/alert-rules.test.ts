// The platform's alert and recording rules in the real promtool, read from what ships: each
// environment's prometheus-rules ConfigMap must hold exactly ruleFiles() for that environment,
// `promtool check rules` must accept every file, and `promtool test rules` must pass every case
// written beside the rules: each alert fires with exactly the expected labels and annotations and
// stays quiet where it should; each recording rule returns exactly the expected samples.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DOC_RULE_CONTEXT, expandTemplate, ruleFiles, ruleGroups, runbookUrl } from '../../charts/observability/rules';
import { SAMPLE_INTERVAL } from '../../charts/observability/rules/series';
import { type AlertSpec, isAlert, type RecordingSpec, type RuleContext } from '../../charts/observability/rules/types';
import { ENVIRONMENTS } from '../../environments';
import { ENVIRONMENT_NAMES, parseEnvironment } from '../../environments/schema';
import { prefixed } from '../../lib/names';
import { objectsOf } from '../helpers';
import { describeNeeding, program } from './tools';

function alertCases(ctx: RuleContext, a: AlertSpec): object[] {
  const annotations = (labels: Record<string, string>) => ({
    summary: expandTemplate(a.summary, labels),
    description: expandTemplate(a.description, labels),
    runbook_url: runbookUrl(ctx, a.alert),
  });
  const cases = [...a.tests.fires.map((c, i) => ({ c, name: `fires #${i + 1}` })), ...a.tests.quiet.map((c, i) => ({ c, name: `quiet #${i + 1}` }))];
  return cases.map(({ c, name }) => ({
    name: `${a.alert} ${name}`,
    interval: SAMPLE_INTERVAL,
    input_series: c.series,
    alert_rule_test: [
      {
        eval_time: c.at,
        alertname: a.alert,
        exp_alerts: (c.alerts ?? []).map((labels) => ({ exp_labels: { ...labels, severity: a.severity, team: a.team }, exp_annotations: annotations(labels) })),
      },
    ],
  }));
}

function recordingCases(r: RecordingSpec): object[] {
  return r.tests.map((c, i) => ({
    name: `${r.record} #${i + 1}`,
    interval: SAMPLE_INTERVAL,
    input_series: c.series,
    promql_expr_test: [{ expr: r.record, eval_time: c.at, exp_samples: c.expect.map((s) => ({ labels: `${r.record}${s.labels}`, value: s.value })) }],
  }));
}

/** promtool's unit-test file: one test per case of every rule. */
function promtoolTests(ctx: RuleContext, ruleFilePaths: string[]): { rule_files: string[]; evaluation_interval: string; tests: object[] } {
  const tests = ruleGroups(ctx).flatMap((g) => g.rules.flatMap((r) => (isAlert(r) ? alertCases(ctx, r) : recordingCases(r))));
  return { rule_files: ruleFilePaths, evaluation_interval: SAMPLE_INTERVAL, tests };
}

/** The context the environment's rules are built with; the chart picks the runbook address, read back here. */
function contextOf(env: string, shipped: Record<string, string>): RuleContext {
  const input = parseEnvironment(ENVIRONMENTS.find((e) => (e as { name: string }).name === env));
  const watchdog = (parse(shipped['platform.rules.yaml']!) as { groups: { rules: { alert?: string; annotations?: { runbook_url: string } }[] }[] }).groups[0]!.rules.find((r) => r.alert === 'Watchdog')!;
  const url = watchdog.annotations!.runbook_url;
  expect(url.endsWith('/Watchdog.md'), url).toBe(true);
  const ns = (base: string) => prefixed(input.namespacePrefix, base);
  return { runbookBaseUrl: url.slice(0, -'Watchdog.md'.length), namespaces: { supabase: ns('supabase'), app: ns('app'), observability: ns('observability') } };
}

describeNeeding([program('promtool', 'prometheus')], 'alert and recording rules in promtool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alert-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const writeRules = (name: string, files: Record<string, string>): string[] =>
    Object.entries(files).map(([file, text]) => {
      const path = join(dir, `${name}-${file}`);
      writeFileSync(path, text);
      return path;
    });
  const promtool = (...args: string[]) => spawnSync('promtool', args, { encoding: 'utf8' });
  // Environments that ship the same bytes get the same verdict: run each distinct set once.
  const verdicts = new Map<string, { status: number | null; output: string; cases: number }>();

  for (const env of ENVIRONMENT_NAMES) {
    it(`${env}: the shipped rule files pass promtool check and every test case`, () => {
      const configMap = objectsOf(env).find((l) => l.object.kind === 'ConfigMap' && l.object.metadata.name === 'prometheus-rules');
      expect(configMap, `${env} has no ConfigMap prometheus-rules`).toBeDefined();
      const { metadata, data } = configMap!.object as unknown as { metadata: { namespace: string }; data: Record<string, string> };
      const ctx = contextOf(env, data);
      expect(metadata.namespace).toBe(ctx.namespaces.observability);
      expect(data).toEqual(ruleFiles(ctx));

      const key = JSON.stringify(data);
      if (!verdicts.has(key)) {
        const paths = writeRules(env, data);
        for (const path of paths) {
          const check = promtool('check', 'rules', path);
          expect(check.status, check.stdout + check.stderr).toBe(0);
        }
        const testFile = promtoolTests(ctx, paths);
        const testPath = join(dir, `${env}-tests.yaml`);
        writeFileSync(testPath, stringify(testFile, { lineWidth: 0 }));
        const result = promtool('test', 'rules', testPath);
        verdicts.set(key, { status: result.status, output: result.stdout + result.stderr, cases: testFile.tests.length });
      }
      const verdict = verdicts.get(key)!;
      expect(verdict.status, verdict.output).toBe(0);
      console.log(`${env}: promtool passed ${verdict.cases} rule test cases over ${Object.keys(data).length} rule files`);
    }, 180_000);
  }

  it('fails when a case expects the wrong labels (the suite can fail)', () => {
    const paths = writeRules('broken', ruleFiles(DOC_RULE_CONTEXT));
    const testFile = promtoolTests(DOC_RULE_CONTEXT, paths);
    const targetDown = testFile.tests.find((t) => (t as { name: string }).name === 'TargetDown fires #1') as { alert_rule_test: { exp_alerts: { exp_labels: Record<string, string> }[] }[] };
    targetDown.alert_rule_test[0]!.exp_alerts[0]!.exp_labels.job = 'redis';
    const testPath = join(dir, 'broken-tests.yaml');
    writeFileSync(testPath, stringify({ ...testFile, tests: [targetDown] }, { lineWidth: 0 }));
    const result = promtool('test', 'rules', testPath);
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/TargetDown/);
  }, 60_000);
});
