// Exceptions to the policy rules (tests/policy): an annotation on the object that names the rule
// and says why, so every exception is visible in the manifests and printed by the tests.
export const EXEMPTION_PREFIX = 'exempt.policy.supabase-platform/';

/** The annotation that exempts an object from one rule, with the reason. */
export function exemption(rule: string, reason: string): Record<string, string> {
  if (!reason.trim()) throw new Error(`internal: an exemption from ${rule} needs a reason`);
  return { [`${EXEMPTION_PREFIX}${rule}`]: reason };
}
