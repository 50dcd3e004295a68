// The platform's policy rules (in rules/), each checked against every synthesised object of every
// environment. A rule returns violations that name the object and the field; tool IDs in
// `refs` are the equivalent checks of kube-score, Trivy (KSV), Checkov (CKV), the platform's
// own rule numbers (R…, listed in docs/security.md) or the issue that asked for them. An object opts out of one rule only with an annotation
// `exempt.policy.supabase-platform/<rule id>: <reason>`.
import { describe } from './objects';
import type { K8sObject } from './objects';
import { ACCESS_RULES } from './rules/access-rules';
import { AVAILABILITY_RULES } from './rules/availability-rules';
import { DATABASE_RULES } from './rules/database-rules';
import { NETWORK_RULES } from './rules/network-rules';
import { OBJECT_RULES } from './rules/object-rules';
import { POD_RULES } from './rules/pod-rules';
import { type ClusterRanges, type Context, DEFAULT_CLUSTER_RANGES, EXEMPTION_PREFIX, type Rule, type Violation } from './rules/rule';

export { EXEMPTION_PREFIX, isClusterScoped, type Rule, type Violation } from './rules/rule';

export const RULES: readonly Rule[] = [...OBJECT_RULES, ...POD_RULES, ...AVAILABILITY_RULES, ...NETWORK_RULES, ...ACCESS_RULES, ...DATABASE_RULES];

/** Runs every rule on every object; exemptions by annotation need a non-empty reason. */
export function checkAll(objects: readonly K8sObject[], rules: readonly Rule[] = RULES, ranges: ClusterRanges = DEFAULT_CLUSTER_RANGES): Violation[] {
  const ctx: Context = { objects, ranges };
  const out: Violation[] = [];
  for (const obj of objects) {
    const annotations = obj.metadata.annotations ?? {};
    for (const rule of rules) {
      const reason = annotations[`${EXEMPTION_PREFIX}${rule.id}`];
      if (reason !== undefined && reason.trim().length > 0) continue;
      for (const found of rule.check(obj, ctx)) out.push({ rule: rule.id, object: describe(obj), ...found });
    }
  }
  return out;
}

/** One line per violation: "rule  Kind ns/name  field: message". */
export function formatViolations(violations: readonly Violation[]): string {
  return violations.map((x) => `[${x.rule}] ${x.object} ${x.field}: ${x.message}`).join('\n');
}
