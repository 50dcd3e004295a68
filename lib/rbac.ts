// Kubernetes API permissions for the few workloads that call the API: read-only rules, bound to
// the workload's own ServiceAccount, cluster-wide only where the resources are (nodes) or where a
// per-namespace Role cannot express it.
import type { ApiObjectMetadata } from 'cdk8s';
import { k8s } from 'cdk8s-plus-33';
import type { Construct } from 'constructs';

export type PolicyRule = k8s.PolicyRule;

/** Reading: the verbs a watcher needs. */
export const READ = ['get', 'list', 'watch'];

/** A ClusterRole with `rules`, bound to one ServiceAccount. */
export function clusterRoleFor(scope: Construct, metadata: ApiObjectMetadata, account: { name: string; namespace: string }, rules: PolicyRule[]): void {
  const role = new k8s.KubeClusterRole(scope, 'cluster-role', { metadata: { ...metadata, namespace: undefined }, rules });
  new k8s.KubeClusterRoleBinding(scope, 'cluster-role-binding', {
    metadata: { ...metadata, namespace: undefined },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.name },
    subjects: [{ kind: 'ServiceAccount', name: account.name, namespace: account.namespace }],
  });
}

/** A Role with `rules` in each of `namespaces`, each bound to one ServiceAccount. */
export function rolesIn(
  scope: Construct,
  metadata: ApiObjectMetadata,
  namespaces: readonly string[],
  account: { name: string; namespace: string },
  rules: PolicyRule[],
): void {
  for (const namespace of namespaces) {
    const role = new k8s.KubeRole(scope, `role-${namespace}`, { metadata: { ...metadata, namespace }, rules });
    new k8s.KubeRoleBinding(scope, `role-binding-${namespace}`, {
      metadata: { ...metadata, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.name },
      subjects: [{ kind: 'ServiceAccount', name: account.name, namespace: account.namespace }],
    });
  }
}
