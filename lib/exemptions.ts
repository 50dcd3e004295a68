// Exceptions to the policy rules (checks/rules.ts), all declared here: which object may break which
// rule, and why. An exception shows in the manifests as an annotation on the object naming the
// rule and the reason; the policy test fails on an annotation not declared here and prints the
// whole list. The declarations live in the kit, not beside the rules in checks/: charts write the
// annotations with `exemption()`, and the kit never imports the checks.
export const EXEMPTION_PREFIX = 'exempt.policy.supabase-platform/';

/** Object (by its name without the environment prefix) -> rule -> reason. */
export const POLICY_EXCEPTIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // Workloads that call the Kubernetes API get a ServiceAccount token.
  prometheus: { 'service-account-token': 'Kubernetes service discovery and kubelet metrics (read-only ClusterRole)' },
  'kube-state-metrics': { 'service-account-token': 'kube-state-metrics lists and watches the objects it reports on (read-only ClusterRole)' },
  alloy: { 'service-account-token': 'Alloy discovers pods and reads their logs through the Kubernetes API (read-only Roles)' },
  'volume-snapshots': { 'service-account-token': 'creates, lists and deletes VolumeSnapshots of the platform volumes (namespaced Roles)' },
  'postgres-restore-drill': {
    'service-account-token':
      'creates, watches and deletes its own scratch recovery Cluster (a namespaced Role and an admission policy hold it to that one Cluster)',
  },
  // Host metrics need the host: the DaemonSet, and the namespace it alone runs in.
  'node-exporter': {
    'host-isolation': "node metrics: the host's network namespace (interfaces), process namespace, and /proc, /sys and / mounted read-only",
    'namespace-pod-security': 'node-exporter reads host metrics (host /proc, /sys, root file system, host network); nothing else runs here',
  },
};

/** The annotation that exempts `subject` (an object name without prefix) from `rule`, with the declared reason. */
export function exemption(rule: string, subject: string): Record<string, string> {
  const reason = POLICY_EXCEPTIONS[subject]?.[rule];
  if (!reason)
    throw new Error(
      `internal: ${subject} takes an exception to the policy rule ${rule}, which lib/exemptions.ts POLICY_EXCEPTIONS does not declare: declare it there with the reason`,
    );
  return { [`${EXEMPTION_PREFIX}${rule}`]: reason };
}

/** Why an image of lib/images.ts runs without a digest in production today. */
const NOT_YET_PINNED = 'no registry reachable when pinned; the weekly workflow re-pins';

/**
 * The one list of catalogue images (keys of lib/images.ts IMAGES) that production may run by tag
 * without a digest, each with its reason (rule "image-pinned"). An image leaves the list when
 * lib/images.lock.json has a digest for its tag (`npm run images -- pin`); a test fails on an entry
 * that already has one.
 */
export const IMAGE_DIGEST_EXCEPTIONS: Readonly<Record<string, string>> = Object.fromEntries(
  ['postgres', 'redis', 'redisExporter', 'haproxy', 'kong', 'meta', 'studio', 'prometheus', 'nodeExporter', 'rclone', 'kubectl', 'k6'].map((name) => [
    name,
    NOT_YET_PINNED,
  ]),
);
