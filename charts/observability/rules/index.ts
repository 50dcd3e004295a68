// The platform's Prometheus rules: one group per concern, written as data, one file each, turned
// here into plain Prometheus rule files. The observability chart ships ruleFiles() in the prometheus-rules
// ConfigMap; the promtool tests and the runbook pages (`npm run docs`) come from the same data.
import { stringify } from 'yaml';
import { backupRules } from './backup';
import { kongRules } from './kong';
import { kubernetesRules } from './kubernetes';
import { nodeRules } from './node';
import { operatorRules } from './operators';
import { platformRules } from './platform';
import { postgresRules } from './postgres';
import { productRules } from './product';
import { redisRules } from './redis';
import { rolloutsRules } from './rollouts';
import { sloRules } from './slo';
import { type AlertSpec, isAlert, type RecordingSpec, type RuleContext, type RuleGroupSpec } from './types';

/** Each entry makes one group, or several alike (one per SLO). */
const GROUPS: readonly ((ctx: RuleContext) => RuleGroupSpec | readonly RuleGroupSpec[])[] = [
  platformRules,
  kubernetesRules,
  nodeRules,
  postgresRules,
  redisRules,
  kongRules,
  sloRules,
  rolloutsRules,
  productRules,
  backupRules,
  operatorRules,
];

/** The context the runbook pages in docs/runbooks/alerts/ are written with. */
export const DOC_RULE_CONTEXT: RuleContext = {
  runbookBaseUrl: 'https://git.example.com/defi/supabase-platform/blob/main/docs/runbooks/alerts/',
  namespaces: { supabase: 'supabase', app: 'app', observability: 'observability' },
};

export function ruleGroups(ctx: RuleContext): RuleGroupSpec[] {
  return GROUPS.flatMap((group) => group(ctx));
}

export function runbookUrl(ctx: RuleContext, alert: string): string {
  return `${ctx.runbookBaseUrl}${alert}.md`;
}

function toPrometheus(ctx: RuleContext, rule: AlertSpec | RecordingSpec): Record<string, unknown> {
  if (!isAlert(rule)) return { record: rule.record, expr: rule.expr };
  return {
    alert: rule.alert,
    expr: rule.expr,
    ...(rule.for ? { for: rule.for } : {}),
    labels: { severity: rule.severity, team: rule.team },
    annotations: { summary: rule.summary, description: rule.description, runbook_url: runbookUrl(ctx, rule.alert) },
  };
}

/** `<group>.rules.yaml` -> the text of a plain Prometheus rule file (what promtool reads). */
export function ruleFiles(ctx: RuleContext): Record<string, string> {
  return Object.fromEntries(
    ruleGroups(ctx).map((g) => [
      `${g.name}.rules.yaml`,
      stringify(
        { groups: [{ name: g.name, ...(g.interval ? { interval: g.interval } : {}), rules: g.rules.map((r) => toPrometheus(ctx, r)) }] },
        { lineWidth: 0 },
      ),
    ]),
  );
}

export function recordingRuleNames(ctx: RuleContext): string[] {
  return ruleGroups(ctx).flatMap((g) => g.rules.flatMap((r) => (isAlert(r) ? [] : [r.record])));
}

const LABEL_TEMPLATE = /\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/**
 * An annotation as Prometheus renders it for an alert with these labels. Only
 * `{{ $labels.NAME }}` is allowed; anything else in braces throws. A label the alert does not
 * carry throws too: Prometheus would print "<no value>" to whoever is on call.
 */
export function expandTemplate(text: string, labels: Readonly<Record<string, string>>): string {
  const rest = text.replace(LABEL_TEMPLATE, '');
  if (rest.includes('{{') || rest.includes('}}')) throw new Error(`only {{ $labels.NAME }} may be used in annotations: ${JSON.stringify(text)}`);
  return text.replace(LABEL_TEMPLATE, (_all, name: string) => {
    const value = labels[name];
    if (value === undefined) throw new Error(`the annotation ${JSON.stringify(text)} uses label "${name}", which the alert does not carry`);
    return value;
  });
}
