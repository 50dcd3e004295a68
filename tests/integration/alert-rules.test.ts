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
import { type AlertSpec, isAlert, type RecordingSpec, type RuleContext, type Series } from '../../charts/observability/rules/types';
import { ENVIRONMENT_NAMES } from '../../environments/schema';
import { prefixed } from '../../lib/names';
import { environment, find } from '../helpers';
import { describeNeeding, program } from './tools';

/** One case of one rule: its input, and what promtool checks at its time. */
interface Case {
  readonly name: string;
  readonly evaluationInterval: string;
  readonly series: readonly Series[];
  readonly alertTest?: object;
  readonly exprTest?: object;
}

function alertCases(ctx: RuleContext, a: AlertSpec): Case[] {
  const annotations = (labels: Record<string, string>) => ({
    summary: expandTemplate(a.summary, labels),
    description: expandTemplate(a.description, labels),
    runbook_url: runbookUrl(ctx, a.alert),
  });
  const cases = [...a.tests.fires.map((c, i) => ({ c, name: `fires #${i + 1}` })), ...a.tests.quiet.map((c, i) => ({ c, name: `quiet #${i + 1}` }))];
  return cases.map(({ c, name }) => ({
    name: `${a.alert} ${name}`,
    evaluationInterval: c.evaluationInterval ?? SAMPLE_INTERVAL,
    series: c.series,
    alertTest: {
      eval_time: c.at,
      alertname: a.alert,
      exp_alerts: (c.alerts ?? []).map((labels) => ({ exp_labels: { ...labels, severity: a.severity, team: a.team }, exp_annotations: annotations(labels) })),
    },
  }));
}

function recordingCases(r: RecordingSpec): Case[] {
  return r.tests.map((c, i) => ({
    name: `${r.record} #${i + 1}`,
    evaluationInterval: c.evaluationInterval ?? SAMPLE_INTERVAL,
    series: c.series,
    exprTest: { expr: r.record, eval_time: c.at, exp_samples: c.expect.map((s) => ({ labels: `${r.record}${s.labels}`, value: s.value })) },
  }));
}

interface TestGroup {
  readonly name: string;
  readonly interval: string;
  readonly input_series: readonly Series[];
  readonly alert_rule_test?: object[];
  readonly promql_expr_test?: object[];
}
interface TestFile {
  readonly rule_files: string[];
  readonly evaluation_interval: string;
  readonly tests: TestGroup[];
}

/**
 * promtool's unit-test files, one per rule group and evaluation interval (promtool steps every
 * rule of a file through every interval from 0 to a case's time, so its run time grows with
 * rules times steps): a group's cases are evaluated against the group's own rule file, and
 * cases of the same group on the same series (an alert firing and, earlier, not yet) share one
 * promtool test. Cases that span days step coarser and get files of their own.
 */
function promtoolTests(ctx: RuleContext, ruleFilePaths: Record<string, string>): TestFile[] {
  const files = new Map<
    string,
    { rule_files: string[]; evaluation_interval: string; tests: Map<string, { names: string[]; series: readonly Series[]; alerts: object[]; exprs: object[] }> }
  >();
  for (const g of ruleGroups(ctx)) {
    for (const c of g.rules.flatMap((r) => (isAlert(r) ? alertCases(ctx, r) : recordingCases(r)))) {
      const fileKey = `${g.name} ${c.evaluationInterval}`;
      if (!files.has(fileKey)) files.set(fileKey, { rule_files: [ruleFilePaths[g.name]!], evaluation_interval: c.evaluationInterval, tests: new Map() });
      const tests = files.get(fileKey)!.tests;
      const key = JSON.stringify(c.series);
      if (!tests.has(key)) tests.set(key, { names: [], series: c.series, alerts: [], exprs: [] });
      const test = tests.get(key)!;
      test.names.push(c.name);
      if (c.alertTest) test.alerts.push(c.alertTest);
      if (c.exprTest) test.exprs.push(c.exprTest);
    }
  }
  return [...files.values()].map((f) => ({
    rule_files: f.rule_files,
    evaluation_interval: f.evaluation_interval,
    tests: [...f.tests.values()].map((t) => ({
      name: t.names.join('; '),
      interval: SAMPLE_INTERVAL,
      input_series: t.series,
      ...(t.alerts.length ? { alert_rule_test: t.alerts } : {}),
      ...(t.exprs.length ? { promql_expr_test: t.exprs } : {}),
    })),
  }));
}

/** The context the environment's rules are built with; the chart picks the runbook address, read back here. */
function contextOf(env: string, shipped: Record<string, string>): RuleContext {
  const input = environment(env);
  const watchdog = (
    parse(shipped['platform.rules.yaml']!) as { groups: { rules: { alert?: string; annotations?: { runbook_url: string } }[] }[] }
  ).groups[0]!.rules.find((r) => r.alert === 'Watchdog')!;
  const url = watchdog.annotations!.runbook_url;
  expect(url.endsWith('/Watchdog.md'), url).toBe(true);
  const ns = (base: string) => prefixed(input.namespacePrefix, base);
  return {
    runbookBaseUrl: url.slice(0, -'Watchdog.md'.length),
    namespaces: { supabase: ns('supabase'), app: ns('app'), observability: ns('observability') },
    slos: input.observability.slos,
  };
}

describeNeeding([program('promtool', 'prometheus')], 'alert and recording rules in promtool', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alert-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes the rule files; group name -> path. */
  const writeRules = (name: string, files: Record<string, string>): Record<string, string> =>
    Object.fromEntries(
      Object.entries(files).map(([file, text]) => {
        const path = join(dir, `${name}-${file}`);
        writeFileSync(path, text);
        return [file.replace(/\.rules\.yaml$/, ''), path];
      }),
    );
  const promtool = (...args: string[]) => spawnSync('promtool', args, { encoding: 'utf8' });
  // Environments that ship the same bytes get the same verdict: run each distinct set once.
  const verdicts = new Map<string, { status: number | null; output: string; cases: number }>();

  for (const env of ENVIRONMENT_NAMES) {
    it(`${env}: the shipped rule files pass promtool check and every test case`, () => {
      const { metadata, data } = find<{ metadata: { namespace: string }; data: Record<string, string> }>(env, 'ConfigMap', 'prometheus-rules');
      const ctx = contextOf(env, data);
      expect(metadata.namespace).toBe(ctx.namespaces.observability);
      expect(data).toEqual(ruleFiles(ctx));

      const key = JSON.stringify(data);
      if (!verdicts.has(key)) {
        const paths = writeRules(env, data);
        for (const path of Object.values(paths)) {
          const check = promtool('check', 'rules', path);
          expect(check.status, check.stdout + check.stderr).toBe(0);
        }
        const testFiles = promtoolTests(ctx, paths);
        const testPaths = testFiles.map((file, i) => {
          const testPath = join(dir, `${env}-tests-${i}.yaml`);
          writeFileSync(testPath, stringify(file, { lineWidth: 0 }));
          return testPath;
        });
        const result = promtool('test', 'rules', ...testPaths);
        const cases = testFiles.flatMap((f) => f.tests).reduce((n, t) => n + (t.alert_rule_test?.length ?? 0) + (t.promql_expr_test?.length ?? 0), 0);
        verdicts.set(key, { status: result.status, output: result.stdout + result.stderr, cases });
      }
      const verdict = verdicts.get(key)!;
      expect(verdict.status, verdict.output).toBe(0);
      console.log(`${env}: promtool passed ${verdict.cases} rule test cases over ${Object.keys(data).length} rule files`);
    }, 180_000);
  }

  it('fails when a case expects the wrong labels (the suite can fail)', () => {
    const paths = writeRules('broken', ruleFiles(DOC_RULE_CONTEXT));
    const testFile = promtoolTests(DOC_RULE_CONTEXT, paths).find((f) => f.rule_files[0] === paths.platform && f.evaluation_interval === SAMPLE_INTERVAL)!;
    const targetDown = testFile.tests.find((t) => t.name.split('; ').includes('TargetDown fires #1'))!;
    const firing = (targetDown.alert_rule_test as { alertname: string; exp_alerts: { exp_labels: Record<string, string> }[] }[]).find(
      (t) => t.alertname === 'TargetDown' && t.exp_alerts.length > 0,
    )!;
    firing.exp_alerts[0]!.exp_labels.job = 'redis';
    const testPath = join(dir, 'broken-tests.yaml');
    writeFileSync(testPath, stringify({ ...testFile, tests: [targetDown] }, { lineWidth: 0 }));
    const result = promtool('test', 'rules', testPath);
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/TargetDown/);
  }, 60_000);
});
