// The shape of a policy rule and what rules share: the violation type, the context of all objects
// of one environment, and helpers about scope and replica counts.
import type { K8sObject } from '../objects';
import { crdScope } from '../schema';

export interface Violation {
  readonly rule: string;
  /** "Deployment supabase/kong" */
  readonly object: string;
  /** Dotted field path within the object. */
  readonly field: string;
  readonly message: string;
}

/** The cluster's address ranges, from the environment (network.podCidrs, network.nodeCidrs). */
export interface ClusterRanges {
  readonly pods: readonly string[];
  readonly nodes: readonly string[];
}

/** Ranges assumed when the environment's are not given: the private ranges and carrier-grade NAT, where clusters put pods and nodes. */
export const DEFAULT_CLUSTER_RANGES: ClusterRanges = {
  pods: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'],
  nodes: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'],
};

/** All objects of one environment, for rules that look across objects, and its address ranges. */
export interface Context {
  readonly objects: readonly K8sObject[];
  readonly ranges: ClusterRanges;
}

export interface Rule {
  readonly id: string;
  readonly description: string;
  readonly refs: readonly string[];
  check(obj: K8sObject, ctx: Context): Omit<Violation, 'rule' | 'object'>[];
}

export { EXEMPTION_PREFIX } from '../../lib/exemptions';

/** A violation's field and message; the harness adds the rule and the object. */
export const v = (field: string, message: string) => ({ field, message });

const CLUSTER_SCOPED_CORE = new Set([
  'Namespace',
  'PriorityClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'StorageClass',
  'PersistentVolume',
  'CustomResourceDefinition',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'IngressClass',
  'RuntimeClass',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);

export function isClusterScoped(obj: K8sObject): boolean {
  return CLUSTER_SCOPED_CORE.has(obj.kind) || crdScope(obj.apiVersion, obj.kind) === 'Cluster';
}

/** Replicas a workload can run with at least: spec.replicas, or the HPA's minReplicas. */
export function minReplicas(obj: K8sObject, ctx: Context): number {
  const hpa = ctx.objects.find((o) => {
    const target = (o.spec as { scaleTargetRef?: { kind?: string; name?: string } } | undefined)?.scaleTargetRef;
    return (
      o.kind === 'HorizontalPodAutoscaler' && o.metadata.namespace === obj.metadata.namespace && target?.kind === obj.kind && target.name === obj.metadata.name
    );
  });
  if (hpa) return (hpa.spec as { minReplicas?: number }).minReplicas ?? 1;
  return (obj.spec as { replicas?: number } | undefined)?.replicas ?? 1;
}
